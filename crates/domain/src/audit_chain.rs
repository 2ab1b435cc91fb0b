//! The audit log as a hash chain: each event's hash covers its content and the hash of the event
//! before it, so that changing, deleting or inserting one event breaks every link after it.
//!
//! An event's canonical form is the compact JSON array
//!
//! ```text
//! [seq, prev_hash, id, organization_id, occurred_at, actor_kind, actor_id, action,
//!  entity_kind, entity_id, client_id, outcome, detail, request_id]
//! ```
//!
//! with ids as lowercase hyphenated UUIDs, `occurred_at` in RFC 3339 UTC with microseconds
//! (`2026-12-06T13:03:29.123456Z`), `detail` as the JSON text stored (or `null`), and absent
//! values as `null`. Its hash is the lowercase hex SHA-256 of that UTF-8 text. The first event of
//! an organisation links to [`GENESIS`]. Anyone holding an export of the log can recompute every
//! hash with this description alone.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::wire::wire_enum;

/// The `prev_hash` of an organisation's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything of an audit event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    /// Its number in the organisation's chain, from 1.
    pub seq: i64,
    /// The hash of the event numbered `seq - 1`, or [`GENESIS`].
    pub prev_hash: &'a str,
    /// The event's id.
    pub id: Uuid,
    /// The organisation.
    pub organization_id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// `staff`, `api_client`, `anonymous` or `system`.
    pub actor_kind: &'a str,
    /// The staff member or API client.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: &'a str,
    /// The kind of thing it was done to.
    pub entity_kind: &'a str,
    /// The thing.
    pub entity_id: Option<Uuid>,
    /// The client whose data it concerns.
    pub client_id: Option<Uuid>,
    /// How it ended.
    pub outcome: &'a str,
    /// Extra facts, as the JSON text stored.
    pub detail: Option<&'a str>,
    /// The request it happened in.
    pub request_id: Option<&'a str>,
}

impl Link<'_> {
    /// The canonical form the hash is taken of.
    pub fn canonical(&self) -> String {
        fn text(out: &mut String, value: &str) {
            // A JSON string; serialising a `&str` cannot fail.
            out.push_str(&serde_json::Value::from(value).to_string());
        }
        fn opt_text(out: &mut String, value: Option<&str>) {
            match value {
                Some(v) => text(out, v),
                None => out.push_str("null"),
            }
        }
        fn id(out: &mut String, value: Option<Uuid>) {
            match value {
                Some(v) => {
                    out.push('"');
                    out.push_str(&v.hyphenated().to_string());
                    out.push('"');
                }
                None => out.push_str("null"),
            }
        }
        let mut out = String::with_capacity(512);
        out.push('[');
        out.push_str(&self.seq.to_string());
        out.push(',');
        text(&mut out, self.prev_hash);
        out.push(',');
        id(&mut out, Some(self.id));
        out.push(',');
        id(&mut out, Some(self.organization_id));
        out.push(',');
        text(
            &mut out,
            &self
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
        );
        out.push(',');
        text(&mut out, self.actor_kind);
        out.push(',');
        id(&mut out, self.actor_id);
        out.push(',');
        text(&mut out, self.action);
        out.push(',');
        text(&mut out, self.entity_kind);
        out.push(',');
        id(&mut out, self.entity_id);
        out.push(',');
        id(&mut out, self.client_id);
        out.push(',');
        text(&mut out, self.outcome);
        out.push(',');
        opt_text(&mut out, self.detail);
        out.push(',');
        opt_text(&mut out, self.request_id);
        out.push(']');
        out
    }

    /// The event's hash: lowercase hex SHA-256 of its canonical form.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        hex
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

wire_enum! {
    /// Why a chain does not verify, at the first event where it breaks.
    pub enum Break ("chain break") {
        /// The event at this number is not what was hashed: its content or its hash was changed.
        Changed => "changed",
        /// No event has this number although later ones exist, or the chain ends before the head
        /// recorded: an event was deleted.
        Missing => "missing",
        /// An event that was never appended: a second event with this number, or one beyond the
        /// head recorded.
        Inserted => "inserted",
        /// The event at this number does not link to the hash of the one before: the earlier event
        /// was rewritten with a new hash, or this link was.
        Relinked => "relinked",
        /// The event at an anchored number (a head recorded elsewhere earlier) no longer has the
        /// anchored hash, or no longer exists: the chain was rewritten from there on.
        AnchorMismatch => "anchor_mismatch",
    }
}

/// Whether `hash` has the form of a chain hash: 64 lowercase hex digits.
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| HEX.contains(&b))
}

/// Checks events in order of `seq`, one at a time, remembering only the last link.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
    broken: Option<(i64, Break)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS.to_owned(),
            checked: 0,
            broken: None,
        }
    }
}

impl Verifier {
    /// A verifier at the start of a chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event, given in order of `seq`, with the hash it has stored. Answers
    /// `false` once the chain is broken (later events are not checked).
    pub fn check(&mut self, link: &Link<'_>, stored_hash: &str) -> bool {
        if self.broken.is_some() {
            return false;
        }
        self.checked += 1;
        let broken = if link.seq < self.expected_seq {
            Some((link.seq, Break::Inserted))
        } else if link.seq > self.expected_seq {
            Some((self.expected_seq, Break::Missing))
        } else if link.hash() != stored_hash {
            Some((link.seq, Break::Changed))
        } else if link.prev_hash != self.prev_hash {
            Some((link.seq, Break::Relinked))
        } else {
            None
        };
        if let Some(b) = broken {
            self.broken = Some(b);
            return false;
        }
        self.expected_seq += 1;
        stored_hash.clone_into(&mut self.prev_hash);
        true
    }

    /// Compares the end of the chain with the head the organisation recorded last.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> Verdict {
        let last_seq = self.expected_seq - 1;
        if self.broken.is_none() {
            self.broken = if last_seq < head_seq {
                Some((last_seq + 1, Break::Missing))
            } else if last_seq > head_seq {
                Some((head_seq + 1, Break::Inserted))
            } else if last_seq > 0 && self.prev_hash != head_hash {
                Some((last_seq, Break::Changed))
            } else {
                None
            };
        }
        Verdict {
            checked: self.checked,
            last_seq,
            last_hash: self.prev_hash,
            broken: self.broken,
        }
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Events read.
    pub checked: u64,
    /// The number of the last event that verified.
    pub last_seq: i64,
    /// Its hash ([`GENESIS`] for an empty chain).
    pub last_hash: String,
    /// The first break, with the number where it is.
    pub broken: Option<(i64, Break)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(Uuid, DateTime<Utc>, String, String)> {
        let org = Uuid::from_u128(1);
        let mut prev = GENESIS.to_owned();
        let mut out = Vec::new();
        for seq in 1..=n {
            let id = Uuid::from_u128(100 + seq as u128);
            let at = DateTime::from_timestamp(1_700_000_000 + seq, 123_456_789).expect("a time");
            let hash = link(seq, &prev, id, org, at, "client.read").hash();
            out.push((id, at, prev.clone(), hash.clone()));
            prev = hash;
        }
        out
    }

    fn link<'a>(
        seq: i64,
        prev: &'a str,
        id: Uuid,
        org: Uuid,
        at: DateTime<Utc>,
        action: &'a str,
    ) -> Link<'a> {
        Link {
            seq,
            prev_hash: prev,
            id,
            organization_id: org,
            occurred_at: at,
            actor_kind: "staff",
            actor_id: Some(Uuid::from_u128(7)),
            action,
            entity_kind: "client",
            entity_id: None,
            client_id: None,
            outcome: "success",
            detail: Some(r#"{"code":"x\"y"}"#),
            request_id: None,
        }
    }

    #[test]
    fn every_break_uses_one_snake_case_name_on_the_wire_and_in_code() {
        crate::wire::tests::assert_wire_names(&Break::ALL, Break::as_str);
    }

    #[test]
    fn the_canonical_form_is_the_documented_json_array() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("a time");
        let l = link(
            3,
            GENESIS,
            Uuid::from_u128(5),
            Uuid::from_u128(1),
            at,
            "client.read",
        );
        let text = l.canonical();
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(parsed[0], 3);
        assert_eq!(parsed[4], "2023-11-14T22:13:20.123456Z");
        assert_eq!(parsed[12], r#"{"code":"x\"y"}"#);
        assert_eq!(parsed[13], serde_json::Value::Null);
        assert!(!text.contains(' '));
        assert_eq!(l.hash().len(), 64);
        // Nanoseconds beyond the microsecond are not part of the event (databases keep µs).
        let later = at + chrono::Duration::nanoseconds(789);
        let same = Link {
            occurred_at: later,
            ..l
        };
        assert_eq!(same.hash(), l.hash());
    }

    fn verify(rows: &[(i64, Link<'_>, String)], head: (i64, &str)) -> Verdict {
        let mut v = Verifier::new();
        for (_, l, h) in rows {
            v.check(l, h);
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_untouched_chain_verifies_and_each_tampering_is_named_with_its_number() {
        let org = Uuid::from_u128(1);
        let c = chain(5);
        let rows =
            |c: &[(Uuid, DateTime<Utc>, String, String)]| -> Vec<(i64, Link<'static>, String)> {
                c.iter()
                    .enumerate()
                    .map(|(i, (id, at, prev, hash))| {
                        let seq = i as i64 + 1;
                        let prev: &'static str = Box::leak(prev.clone().into_boxed_str());
                        (
                            seq,
                            link(seq, prev, *id, org, *at, "client.read"),
                            hash.clone(),
                        )
                    })
                    .collect()
            };
        let good = rows(&c);
        let head = (5, c[4].3.as_str());
        let verdict = verify(&good, head);
        assert_eq!(verdict.broken, None);
        assert_eq!(verdict.checked, 5);
        assert_eq!(verdict.last_hash, c[4].3);

        // Changed content.
        let mut changed = good.clone();
        changed[2].1.action = "client.update";
        assert_eq!(verify(&changed, head).broken, Some((3, Break::Changed)));

        // Changed content with its hash recomputed: the next link no longer holds.
        let mut rehashed = good.clone();
        rehashed[2].1.action = "client.update";
        rehashed[2].2 = rehashed[2].1.hash();
        assert_eq!(verify(&rehashed, head).broken, Some((4, Break::Relinked)));

        // Deleted in the middle, and at the end.
        let mut deleted = good.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, head).broken, Some((2, Break::Missing)));
        assert_eq!(verify(&good[..4], head).broken, Some((5, Break::Missing)));

        // Inserted: a second event numbered 3, or one after the head.
        let mut doubled = good.clone();
        doubled.insert(3, good[2].clone());
        assert_eq!(verify(&doubled, head).broken, Some((3, Break::Inserted)));
        assert_eq!(
            verify(&good, (4, c[3].3.as_str())).broken,
            Some((5, Break::Inserted))
        );

        // The empty chain verifies against an empty head.
        assert_eq!(verify(&[], (0, GENESIS)).broken, None);
    }
}
