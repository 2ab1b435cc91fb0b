//! Validated text values of the organisation model: slugs, display names, emails, passwords.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// Shorter than allowed.
    #[error("must be at least {0} characters")]
    TooShort(usize),
    /// Not of the expected shape.
    #[error("{0}")]
    Malformed(&'static str),
}

/// An organisation's short handle used at login: lowercase letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parses a slug of 2 to 63 characters, starting with a letter or digit.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(TextError::Empty);
        }
        if s.len() < 2 {
            return Err(TextError::TooShort(2));
        }
        if s.len() > 63 {
            return Err(TextError::TooLong(63));
        }
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(TextError::Malformed(
                "use lowercase letters, digits and inner hyphens",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: a clinic's, an organisation's, a person's. Trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Parses a non-empty name of at most 200 characters, without control characters.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(TextError::Empty);
        }
        if s.chars().count() > 200 {
            return Err(TextError::TooLong(200));
        }
        if s.chars().any(char::is_control) {
            return Err(TextError::Malformed("must not contain control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, kept lowercase so that logins and uniqueness ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses `local@domain` with a dotted domain, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(TextError::Empty);
        }
        if s.len() > 254 {
            return Err(TextError::TooLong(254));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(TextError::Malformed("must be an email address"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        if local.is_empty() || !domain_ok || s.chars().any(char::is_whitespace) {
            return Err(TextError::Malformed("must be an email address"));
        }
        Ok(Self(s))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password chosen by a person: 12 to 256 characters. Never logged; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Minimum length of a new password.
    pub const MIN_LEN: usize = 12;

    /// Parses a new password.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(TextError::TooShort(Self::MIN_LEN));
        }
        if len > 256 {
            return Err(TextError::TooLong(256));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Gives text newtypes (a `String` checked by the type's `parse`, which fails with the error
/// named before the colon) the conversions serde and callers use: `TryFrom<String>` through
/// `parse`, `From<T> for String` and `Display`, and, when the list ends in `; FromStr`,
/// `FromStr` through `parse` as well.
macro_rules! text_conversions {
    ($error:ty: $($ty:ident),+ ; FromStr) => {
        $crate::names::text_conversions!($error: $($ty),+);
        $(
            impl ::std::str::FromStr for $ty {
                type Err = $error;
                fn from_str(s: &str) -> Result<Self, Self::Err> {
                    Self::parse(s)
                }
            }
        )+
    };
    ($error:ty: $($ty:ident),+) => {$(
        impl TryFrom<String> for $ty {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}
pub(crate) use text_conversions;

text_conversions!(TextError: Slug, Name, Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_need_a_dotted_domain() {
        assert_eq!(
            Email::parse(" Nurse@Demo.Test ").map(|e| e.to_string()),
            Ok("nurse@demo.test".to_owned())
        );
        assert!(Email::parse("nurse@demo").is_err());
        assert!(Email::parse("@demo.test").is_err());
        assert!(Email::parse("a b@demo.test").is_err());
    }

    #[test]
    fn slugs_are_lowercase_with_inner_hyphens() {
        assert!(Slug::parse("glow-clinics").is_ok());
        assert!(Slug::parse("Glow").is_err());
        assert!(Slug::parse("-glow").is_err());
        assert!(Slug::parse("g").is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_and_never_print() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("long-enough-secret").expect("valid");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Glow Mitte ").map(|n| n.to_string()),
            Ok("Glow Mitte".into())
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
    }
}
