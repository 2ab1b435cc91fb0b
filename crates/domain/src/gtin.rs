//! Global Trade Item Numbers: the product number printed under every roller's and cartridge's
//! barcode.

use serde::{Deserialize, Serialize};

use crate::names::text_conversions;

/// A GTIN with a valid check digit, always held as 14 digits (GTIN-14).
///
/// Shorter GTINs are left-padded with zeros, as GS1 prescribes, so that one product has one
/// representation whether it was typed from a box (GTIN-13) or scanned from AI (01) (GTIN-14).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

/// Why a GTIN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    /// Something other than the digits 0-9.
    #[error("a GTIN contains only the digits 0-9")]
    NotDigits,
    /// Not 8, 12, 13 or 14 digits long.
    #[error("a GTIN has 8, 12, 13 or 14 digits, not {0}")]
    WrongLength(usize),
    /// The last digit does not match the one computed from the others.
    #[error("GTIN check digit is {found} but should be {expected}; the number is mistyped")]
    BadCheckDigit {
        /// The check digit computed from the other digits.
        expected: u8,
        /// The last digit as given.
        found: u8,
    },
}

impl Gtin {
    /// Parses a GTIN-8, -12, -13 or -14 (digits only, surrounding whitespace ignored).
    pub fn parse(raw: &str) -> Result<Self, GtinError> {
        let s = raw.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::NotDigits);
        }
        // Only ASCII digits remain, so the byte length is the digit count.
        if !matches!(s.len(), 8 | 12 | 13 | 14) {
            return Err(GtinError::WrongLength(s.len()));
        }
        let (body, last) = s.split_at(s.len() - 1);
        let found = last.bytes().next().map_or(0, |b| b - b'0');
        let expected = check_digit(body).ok_or(GtinError::NotDigits)?;
        if found != expected {
            return Err(GtinError::BadCheckDigit { expected, found });
        }
        Ok(Self(format!("{s:0>14}")))
    }

    /// The GTIN as 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Computes the GS1 mod-10 check digit of `body` (a GTIN without its last digit); `None` unless
/// `body` is one or more ASCII digits.
///
/// Weights alternate 3, 1, 3, ... starting from the rightmost digit, which is why the same
/// function serves GTIN-8, -12, -13 and -14 without padding.
pub fn check_digit(body: &str) -> Option<u8> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            if i % 2 == 0 { digit * 3 } else { digit }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).ok()
}

text_conversions!(GtinError: Gtin; FromStr);

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_gtin_13_from_a_box_is_stored_as_14_digits() {
        let gtin = Gtin::parse("9506000134352").unwrap();
        assert_eq!(gtin.as_str(), "09506000134352");
        assert_eq!(gtin, Gtin::parse("09506000134352").unwrap());
    }

    #[test]
    fn gtin_8_and_gtin_12_are_padded_too() {
        assert_eq!(Gtin::parse("96385074").unwrap().as_str(), "00000096385074");
        assert_eq!(
            Gtin::parse("036000291452").unwrap().as_str(),
            "00036000291452"
        );
    }

    #[test]
    fn surrounding_whitespace_from_a_form_is_ignored() {
        assert!(Gtin::parse(" 09506000134352\n").is_ok());
    }

    #[test]
    fn a_mistyped_check_digit_names_the_expected_one() {
        let err = Gtin::parse("09506000134353").unwrap_err();
        assert_eq!(
            err,
            GtinError::BadCheckDigit {
                expected: 2,
                found: 3
            }
        );
        assert!(err.to_string().contains("should be 2"));
    }

    #[test]
    fn letters_and_odd_lengths_are_refused() {
        assert_eq!(Gtin::parse("0950600013435X"), Err(GtinError::NotDigits));
        assert_eq!(
            Gtin::parse("009506000134352"),
            Err(GtinError::WrongLength(15))
        );
        assert_eq!(Gtin::parse("123456789"), Err(GtinError::WrongLength(9)));
        assert_eq!(Gtin::parse(""), Err(GtinError::WrongLength(0)));
        assert_eq!(Gtin::parse("-9506000134352"), Err(GtinError::NotDigits));
    }

    #[test]
    fn check_digit_needs_digits() {
        assert_eq!(check_digit("950600013435"), Some(2));
        assert_eq!(check_digit(""), None);
        assert_eq!(check_digit("12a"), None);
    }

    #[test]
    fn gtins_travel_as_plain_strings() {
        let gtin = Gtin::parse("9506000134352").unwrap();
        assert_eq!(serde_json::to_string(&gtin).unwrap(), "\"09506000134352\"");
        let back: Gtin = serde_json::from_str("\"9506000134352\"").unwrap();
        assert_eq!(back, gtin);
        assert!(serde_json::from_str::<Gtin>("\"9506000134353\"").is_err());
    }

    proptest! {
        #[test]
        fn any_body_with_its_computed_check_digit_parses(body in "[0-9]{13}") {
            let digit = check_digit(&body).unwrap();
            let gtin = Gtin::parse(&format!("{body}{digit}")).unwrap();
            prop_assert_eq!(gtin.as_str(), format!("{body}{digit}"));
        }

        #[test]
        fn any_other_check_digit_is_refused(body in "[0-9]{13}", shift in 1u8..10) {
            let digit = check_digit(&body).unwrap();
            let wrong = (digit + shift) % 10;
            prop_assert_eq!(
                Gtin::parse(&format!("{body}{wrong}")),
                Err(GtinError::BadCheckDigit { expected: digit, found: wrong })
            );
        }
    }
}
