//! Content negotiation by `Accept` (RFC 9110 §12.5.1), for the few answers that come in more
//! than one format: JSON by default, CSV or JSON Lines when the client asks for it.
//!
//! Each media type gets the quality of the most specific range that matches it (`text/csv`
//! before `text/*` before `*/*`). CSV is answered when a `text/csv` or `text/*` range accepts
//! it and ranks it at least as high as JSON; a bare `*/*` keeps the default, JSON.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// The media type of CSV answers.
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// The media type of JSON Lines answers (one JSON document per line).
pub const APPLICATION_JSONL: &str = "application/jsonl";

/// One media range of an `Accept` header, lower-cased, with its quality.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    subtype: String,
    q: f32,
}

/// How specifically a range names a media type: exactly, by its kind, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    Any,
    Kind,
    Exact,
}

impl MediaRange {
    /// Parses `type/subtype;param=value;q=0.5`; `None` for anything unreadable, which is then
    /// ignored as RFC 9110 lets a server do.
    fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            q,
        })
    }

    fn matches(&self, kind: &str, subtype: &str) -> Option<Specificity> {
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") => Some(Specificity::Any),
            (k, "*") if k == kind => Some(Specificity::Kind),
            (k, s) if k == kind && s == subtype => Some(Specificity::Exact),
            _ => None,
        }
    }
}

/// The quality `ranges` give `kind/subtype`, by the most specific matching range, and how
/// specific that range was; `None` when no range matches.
fn quality(ranges: &[MediaRange], kind: &str, subtype: &str) -> Option<(f32, Specificity)> {
    ranges
        .iter()
        .filter_map(|r| r.matches(kind, subtype).map(|s| (s, r.q)))
        // Of equally specific ranges (`text/csv, text/csv;q=0`), the most generous wins.
        .max_by(|(s1, q1), (s2, q2)| s1.cmp(s2).then(q1.total_cmp(q2)))
        .map(|(s, q)| (q, s))
}

/// Whether `accept` (the values of every `Accept` header, comma-joined) asks for CSV rather
/// than JSON.
pub fn prefers_csv_in(accept: &str) -> bool {
    let ranges: Vec<MediaRange> = accept.split(',').filter_map(MediaRange::parse).collect();
    let csv = match quality(&ranges, "text", "csv") {
        Some((q, specificity)) if q > 0.0 && specificity > Specificity::Any => q,
        _ => return false,
    };
    let json = quality(&ranges, "application", "json").map_or(0.0, |(q, _)| q);
    csv >= json
}

/// Whether `accept` asks for JSON Lines (`application/jsonl`, or the older
/// `application/x-ndjson`), named exactly, rather than JSON.
pub fn prefers_jsonl_in(accept: &str) -> bool {
    let ranges: Vec<MediaRange> = accept.split(',').filter_map(MediaRange::parse).collect();
    let exact = |subtype| match quality(&ranges, "application", subtype) {
        Some((q, Specificity::Exact)) if q > 0.0 => q,
        _ => 0.0,
    };
    let lines = exact("jsonl").max(exact("x-ndjson"));
    let json = quality(&ranges, "application", "json").map_or(0.0, |(q, _)| q);
    lines > 0.0 && lines >= json
}

fn accept_values(headers: &HeaderMap) -> String {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    values.join(",")
}

/// Whether the request's `Accept` headers ask for CSV rather than JSON.
pub fn prefers_csv(headers: &HeaderMap) -> bool {
    prefers_csv_in(&accept_values(headers))
}

/// Whether the request's `Accept` headers ask for JSON Lines rather than JSON.
pub fn prefers_jsonl(headers: &HeaderMap) -> bool {
    prefers_jsonl_in(&accept_values(headers))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn json_is_answered_without_an_accept_header_or_for_anything_goes() {
        assert!(!prefers_csv(&HeaderMap::new()));
        assert!(!prefers_csv_in(""));
        assert!(!prefers_csv_in("*/*"));
        assert!(!prefers_csv_in("application/json"));
        assert!(!prefers_csv_in("application/xml"));
    }

    #[test]
    fn csv_is_answered_when_asked_for_and_ranked_at_least_as_high_as_json() {
        assert!(prefers_csv_in("text/csv"));
        assert!(prefers_csv_in("TEXT/CSV; charset=utf-8"));
        assert!(prefers_csv_in("text/csv, application/json"));
        assert!(prefers_csv_in("application/json;q=0.5, text/csv"));
        assert!(prefers_csv_in("text/csv;q=0.8, */*;q=0.1"));
        assert!(prefers_csv_in("text/*"));
        assert!(prefers_csv_in("text/csv;q=0.5, application/json;q=0.5"));
    }

    #[test]
    fn json_wins_when_ranked_higher_or_csv_is_refused() {
        assert!(!prefers_csv_in("text/csv;q=0.5, application/json"));
        assert!(!prefers_csv_in("text/csv;q=0.5, */*"));
        assert!(!prefers_csv_in("text/csv;q=0.9, application/*"));
        assert!(!prefers_csv_in("text/csv;q=0"));
        assert!(!prefers_csv_in("text/*, text/csv;q=0"));
    }

    #[test]
    fn json_lines_are_answered_only_when_named() {
        assert!(prefers_jsonl_in("application/jsonl"));
        assert!(prefers_jsonl_in("application/x-ndjson"));
        assert!(prefers_jsonl_in(
            "application/json;q=0.5, application/jsonl"
        ));
        assert!(!prefers_jsonl_in("application/*"));
        assert!(!prefers_jsonl_in("*/*"));
        assert!(!prefers_jsonl_in(
            "application/json, application/jsonl;q=0.5"
        ));
        assert!(!prefers_jsonl_in("application/jsonl;q=0"));
    }

    #[test]
    fn unreadable_ranges_are_ignored() {
        assert!(!prefers_csv_in("text/csv;q=high"));
        assert!(!prefers_csv_in("text/csv;q=2"));
        assert!(!prefers_csv_in("csv"));
        assert!(prefers_csv_in("nonsense, text/csv"));
    }

    #[test]
    fn every_accept_header_counts() {
        let mut headers = HeaderMap::new();
        headers.append(ACCEPT, HeaderValue::from_static("application/json;q=0.4"));
        headers.append(ACCEPT, HeaderValue::from_static("text/csv"));
        assert!(prefers_csv(&headers));
    }
}
