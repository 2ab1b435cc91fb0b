//! GS1 element strings as barcode scanners send them, for receiving stock by scanning a box.
//!
//! Two forms are read:
//! - bracketed, as printed under the barcode: `(01)09506000134352(17)281231(10)ABC123`;
//! - raw, as a scanner transmits it: AIs and values run together, a variable-length value ends
//!   with the group separator (ASCII 29, sent for FNC1) or the end of the input, optionally
//!   preceded by a GS1 symbology identifier (`]C1`, `]d2`, `]Q3`, `]e0`) and a leading FNC1.
//!
//! Only the application identifiers a device box carries are understood: (01) GTIN, (10) lot,
//! (11) production date, (17) expiry date, (21) serial. Any other AI is refused rather than
//! skipped, because in the raw form an AI of unknown length makes the rest unreadable.
//!
//! Six-digit dates are read as 20YY. GS1's own rule picks the century that puts the year between
//! 49 years before and 50 after the current one; until 2049 both readings agree for every date
//! from 2000 to 50 years ahead, which covers every box in stock, and 20YY keeps this parser free
//! of the clock.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::gtin::{Gtin, GtinError};

/// The group separator (ASCII 29) that scanners send for FNC1 to end a variable-length value.
pub const GS: char = '\u{1d}';

/// GS1 AI encodable character set 82: the characters allowed in lot numbers and serials.
pub const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// Symbology identifiers that announce GS1 data: GS1-128, GS1 DataMatrix, GS1 QR Code, GS1
/// DataBar.
const GS1_SYMBOLOGIES: [&str; 4] = ["]C1", "]d2", "]Q3", "]e0"];

/// Whether `c` belongs to GS1 character set 82, the set allowed in AIs (10) and (21).
pub fn is_cset82(c: char) -> bool {
    CSET82.contains(c)
}

/// What one scanned box says about itself; each field is present only if the barcode carried it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gs1Data {
    /// AI (01): the product.
    pub gtin: Option<Gtin>,
    /// AI (10): the batch or lot number.
    pub lot: Option<String>,
    /// AI (11): the production date; an unknown day (`00`) is read as the first of the month.
    pub production_date: Option<NaiveDate>,
    /// AI (17): the expiry date; an unknown day (`00`) is read as the last day of the month.
    pub expiry: Option<NaiveDate>,
    /// AI (21): the serial number of this one unit.
    pub serial: Option<String>,
}

/// An application identifier this parser understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ai {
    /// (01) GTIN, 14 digits.
    Gtin,
    /// (10) batch or lot number, up to 20 characters.
    Lot,
    /// (11) production date, YYMMDD.
    ProductionDate,
    /// (17) expiry date, YYMMDD.
    Expiry,
    /// (21) serial number, up to 20 characters.
    Serial,
}

impl Ai {
    /// Every supported AI in encoding order: fixed-length first, so that the raw form needs no
    /// separator after them.
    pub const ALL: [Ai; 5] = [
        Ai::Gtin,
        Ai::ProductionDate,
        Ai::Expiry,
        Ai::Lot,
        Ai::Serial,
    ];

    /// The AI's digits (`17`).
    pub fn code(self) -> &'static str {
        match self {
            Ai::Gtin => "01",
            Ai::Lot => "10",
            Ai::ProductionDate => "11",
            Ai::Expiry => "17",
            Ai::Serial => "21",
        }
    }

    /// What the AI carries, in words.
    pub fn name(self) -> &'static str {
        match self {
            Ai::Gtin => "GTIN",
            Ai::Lot => "lot number",
            Ai::ProductionDate => "production date",
            Ai::Expiry => "expiry date",
            Ai::Serial => "serial number",
        }
    }

    /// The exact length of a fixed-length AI's value; `None` for variable-length AIs.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            Ai::Gtin => Some(14),
            Ai::ProductionDate | Ai::Expiry => Some(6),
            Ai::Lot | Ai::Serial => None,
        }
    }

    /// The longest value the AI may carry.
    pub fn max_len(self) -> usize {
        self.fixed_len().unwrap_or(20)
    }

    fn from_code(code: &str) -> Option<Ai> {
        Ai::ALL.into_iter().find(|ai| ai.code() == code)
    }

    /// The length rule, for error messages.
    fn length_rule(self) -> String {
        match self {
            Ai::Gtin => "it has exactly 14 digits".to_owned(),
            Ai::ProductionDate | Ai::Expiry => "it has exactly 6 digits (YYMMDD)".to_owned(),
            Ai::Lot | Ai::Serial => format!("it has 1 to {} characters", self.max_len()),
        }
    }

    /// The allowed characters, for error messages.
    fn charset_rule(self) -> &'static str {
        match self {
            Ai::Gtin | Ai::ProductionDate | Ai::Expiry => "only digits",
            Ai::Lot | Ai::Serial => "only letters, digits and !\"%&'()*+,-./:;<=>?_",
        }
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}) {}", self.code(), self.name())
    }
}

/// Why a scanned GS1 string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    /// Nothing but whitespace, separators or a symbology identifier.
    #[error("the scanned code is empty")]
    Empty,
    /// A symbology identifier of a barcode that does not carry GS1 element strings.
    #[error("symbology identifier `{0}` is not a GS1 barcode (expected ]C1, ]d2, ]Q3 or ]e0)")]
    UnknownSymbology(String),
    /// An application identifier other than (01), (10), (11), (17), (21).
    #[error(
        "application identifier ({0}) is not supported; supported are (01) GTIN, (10) lot number, \
         (11) production date, (17) expiry date and (21) serial number"
    )]
    UnknownAi(String),
    /// A `(` that opens an AI without a matching `)`.
    #[error("an application identifier opened with `(` is not closed with `)`")]
    MissingClosingBracket,
    /// A value shorter than its AI requires, or empty.
    #[error("{ai} is cut short: {}", .ai.length_rule())]
    Truncated {
        /// The AI whose value is short.
        ai: Ai,
    },
    /// A value longer than its AI allows.
    #[error("{ai} is too long: {}", .ai.length_rule())]
    ValueTooLong {
        /// The AI whose value is long.
        ai: Ai,
        /// The most characters it allows.
        max: usize,
    },
    /// A character the AI does not allow.
    #[error("{ai} contains {character:?}; it allows {}", .ai.charset_rule())]
    InvalidCharacter {
        /// The AI whose value holds the character.
        ai: Ai,
        /// The first character refused.
        character: char,
    },
    /// Six digits that are not a calendar date.
    #[error("{ai} `{value}` is not a valid YYMMDD date")]
    BadDate {
        /// The date's AI.
        ai: Ai,
        /// The six digits as scanned.
        value: String,
    },
    /// A GTIN whose check digit does not match.
    #[error("(01) GTIN is invalid: {0}")]
    BadGtin(#[source] GtinError),
    /// The same AI twice, which would leave it unclear which value to believe.
    #[error("{0} appears more than once")]
    DuplicateAi(Ai),
}

/// Parses a GS1 element string in bracketed or raw form, as described in the module docs.
pub fn parse(input: &str) -> Result<Gs1Data, Gs1Error> {
    // Keyboard-wedge scanners often append Enter. `str::trim` is not used because Unicode counts
    // the group separator as whitespace, and a trailing GS is data here.
    let s = input.trim_matches([' ', '\t', '\r', '\n']);
    let s = strip_symbology(s)?;
    let s = s.trim_start_matches(GS);
    if s.is_empty() {
        return Err(Gs1Error::Empty);
    }
    let mut data = Gs1Data::default();
    if s.starts_with('(') {
        parse_bracketed(s, &mut data)?;
    } else {
        parse_raw(s, &mut data)?;
    }
    Ok(data)
}

/// Writes `data` in the bracketed, human-readable form, fixed-length AIs first.
///
/// A `(` inside a lot or serial is written `\(`, the GS1 convention that keeps it from being read
/// as the start of the next AI. Dates outside 2000-2099 cannot be carried by six digits and are
/// written with the last two digits of their year.
pub fn encode_bracketed(data: &Gs1Data) -> String {
    let mut out = String::new();
    for (ai, value) in values(data) {
        out.push('(');
        out.push_str(ai.code());
        out.push(')');
        out.push_str(&value.replace('(', "\\("));
    }
    out
}

/// Writes `data` in the raw form a scanner would send (no symbology identifier), fixed-length AIs
/// first, a group separator between variable-length values and none after the last.
pub fn encode_raw(data: &Gs1Data) -> String {
    let mut out = String::new();
    let mut after_variable = false;
    for (ai, value) in values(data) {
        // Fixed-length AIs come first (Ai::ALL), so a separator is only ever needed between
        // two variable-length values.
        if after_variable {
            out.push(GS);
        }
        out.push_str(ai.code());
        out.push_str(&value);
        after_variable = ai.fixed_len().is_none();
    }
    out
}

/// The present fields of `data` as (AI, unescaped value), in encoding order.
fn values(data: &Gs1Data) -> Vec<(Ai, String)> {
    Ai::ALL
        .into_iter()
        .filter_map(|ai| {
            let value = match ai {
                Ai::Gtin => data.gtin.as_ref().map(|g| g.as_str().to_owned()),
                Ai::Lot => data.lot.clone(),
                Ai::ProductionDate => data.production_date.map(encode_date),
                Ai::Expiry => data.expiry.map(encode_date),
                Ai::Serial => data.serial.clone(),
            };
            value.map(|v| (ai, v))
        })
        .collect()
}

fn encode_date(date: NaiveDate) -> String {
    format!(
        "{:02}{:02}{:02}",
        date.year().rem_euclid(100),
        date.month(),
        date.day()
    )
}

/// Removes a GS1 symbology identifier, refusing those of barcodes that carry other data.
fn strip_symbology(s: &str) -> Result<&str, Gs1Error> {
    if !s.starts_with(']') {
        return Ok(s);
    }
    GS1_SYMBOLOGIES
        .iter()
        .find_map(|id| s.strip_prefix(id))
        .ok_or_else(|| Gs1Error::UnknownSymbology(s.chars().take(3).collect()))
}

fn parse_bracketed(s: &str, data: &mut Gs1Data) -> Result<(), Gs1Error> {
    let mut rest = s;
    // Each value stops at the next unescaped `(`, so the loop always resumes on one or ends.
    while let Some(after_open) = rest.strip_prefix('(') {
        let Some((code, after_close)) = after_open.split_once(')') else {
            return Err(Gs1Error::MissingClosingBracket);
        };
        // `(01095...(17)` would otherwise read as one long, unknown AI.
        if code.contains('(') {
            return Err(Gs1Error::MissingClosingBracket);
        }
        let ai = Ai::from_code(code).ok_or_else(|| Gs1Error::UnknownAi(code.to_owned()))?;
        let (value, next) = bracketed_value(after_close);
        store(data, ai, &value)?;
        rest = next;
    }
    Ok(())
}

/// Splits off a bracketed value up to the next unescaped `(`, turning `\(` back into `(`.
fn bracketed_value(s: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => return (value, &s[i..]),
            '\\' if chars.peek().is_some_and(|&(_, next)| next == '(') => {
                chars.next();
                value.push('(');
            }
            _ => value.push(c),
        }
    }
    (value, "")
}

fn parse_raw(s: &str, data: &mut Gs1Data) -> Result<(), Gs1Error> {
    let mut rest = s;
    loop {
        // Tolerated: a separator after a fixed-length value, or after the last value.
        rest = rest.trim_start_matches(GS);
        if rest.is_empty() {
            return Ok(());
        }
        let (code, after_code) = take_chars(rest, 2);
        let ai = Ai::from_code(code).ok_or_else(|| Gs1Error::UnknownAi(code.to_owned()))?;
        let (value, next) = match ai.fixed_len() {
            Some(len) => take_chars(after_code, len),
            None => after_code.split_once(GS).unwrap_or((after_code, "")),
        };
        store(data, ai, value)?;
        rest = next;
    }
}

/// Splits off up to `n` characters, stopping early at a group separator.
fn take_chars(s: &str, n: usize) -> (&str, &str) {
    let end = s
        .char_indices()
        .take(n)
        .take_while(|&(_, c)| c != GS)
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    s.split_at(end)
}

/// Validates one value and records it, refusing a second value for the same AI.
fn store(data: &mut Gs1Data, ai: Ai, value: &str) -> Result<(), Gs1Error> {
    let taken = match ai {
        Ai::Gtin => data.gtin.is_some(),
        Ai::Lot => data.lot.is_some(),
        Ai::ProductionDate => data.production_date.is_some(),
        Ai::Expiry => data.expiry.is_some(),
        Ai::Serial => data.serial.is_some(),
    };
    if taken {
        return Err(Gs1Error::DuplicateAi(ai));
    }
    check_shape(ai, value)?;
    match ai {
        Ai::Gtin => data.gtin = Some(Gtin::parse(value).map_err(Gs1Error::BadGtin)?),
        Ai::Lot => data.lot = Some(value.to_owned()),
        Ai::ProductionDate => data.production_date = Some(parse_date(ai, value)?),
        Ai::Expiry => data.expiry = Some(parse_date(ai, value)?),
        Ai::Serial => data.serial = Some(value.to_owned()),
    }
    Ok(())
}

/// Checks a value's characters and length against its AI.
fn check_shape(ai: Ai, value: &str) -> Result<(), Gs1Error> {
    let allowed: fn(char) -> bool = match ai.fixed_len() {
        Some(_) => |c| c.is_ascii_digit(),
        None => is_cset82,
    };
    if let Some(character) = value.chars().find(|&c| !allowed(c)) {
        return Err(Gs1Error::InvalidCharacter { ai, character });
    }
    let len = value.chars().count();
    let min = ai.fixed_len().unwrap_or(1);
    if len < min {
        return Err(Gs1Error::Truncated { ai });
    }
    if len > ai.max_len() {
        return Err(Gs1Error::ValueTooLong {
            ai,
            max: ai.max_len(),
        });
    }
    Ok(())
}

/// Reads six checked digits YYMMDD as a date in 2000-2099; day `00` means the day is unknown.
fn parse_date(ai: Ai, value: &str) -> Result<NaiveDate, Gs1Error> {
    let bad = || Gs1Error::BadDate {
        ai,
        value: value.to_owned(),
    };
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let [y1, y2, m1, m2, d1, d2] = digits[..] else {
        return Err(bad());
    };
    let year = 2000 + i32::try_from(y1 * 10 + y2).map_err(|_| bad())?;
    let month = m1 * 10 + m2;
    let day = d1 * 10 + d2;
    let date = match (day, ai) {
        // An expiry known only to the month runs to its end, as GS1 prescribes; a production
        // date known only to the month is taken as its start, the oldest the unit can be.
        (0, Ai::Expiry) => last_day_of_month(year, month),
        (0, _) => NaiveDate::from_ymd_opt(year, month, 1),
        _ => NaiveDate::from_ymd_opt(year, month, day),
    };
    date.ok_or_else(bad)
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    // Checking `month` separately keeps month 13 from passing as "the day before 1 January".
    first_of_next
        .filter(|_| (1..=12).contains(&month))
        .and_then(|d| d.pred_opt())
}

#[cfg(test)]
mod tests;
