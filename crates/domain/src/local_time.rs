//! Clinics keep local time: a session, a screening or an expiry date belongs to the day on
//! the clinic's calendar, not to the UTC day. A session at 00:30 in Berlin is on that Berlin
//! day, and its interval and aftercare count from there.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone, such as `Europe/Berlin` or `Pacific/Auckland`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(chrono_tz::Tz);

/// A name that is not an IANA time zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IANA time zone such as Europe/Berlin")]
pub struct UnknownTimeZone(pub String);

impl TimeZone {
    /// Coordinated Universal Time.
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// Parses an IANA name; case matters, as in the tz database.
    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        chrono_tz::Tz::from_str(name.trim())
            .map(Self)
            .map_err(|_| UnknownTimeZone(name.to_owned()))
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The day on this zone's calendar at the instant `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// Today on this zone's calendar.
    pub fn today(&self) -> NaiveDate {
        self.local_date(Utc::now())
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn half_past_eleven_utc_is_the_next_day_in_auckland() -> Result<(), UnknownTimeZone> {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 10, 23, 30, 0)
            .single()
            .unwrap_or_default();
        let auckland = TimeZone::parse("Pacific/Auckland")?;
        assert_eq!(
            auckland.local_date(at),
            NaiveDate::from_ymd_opt(2026, 3, 11).unwrap_or_default()
        );
        assert_eq!(
            TimeZone::UTC.local_date(at),
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default()
        );
        Ok(())
    }

    #[test]
    fn half_past_midnight_in_berlin_is_on_that_berlin_day() -> Result<(), UnknownTimeZone> {
        // 00:30 in Berlin in winter is 23:30 UTC the day before.
        let at = Utc
            .with_ymd_and_hms(2026, 1, 14, 23, 30, 0)
            .single()
            .unwrap_or_default();
        let berlin = TimeZone::parse("Europe/Berlin")?;
        assert_eq!(
            berlin.local_date(at),
            NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default()
        );
        Ok(())
    }

    #[test]
    fn a_made_up_zone_is_refused() {
        assert!(TimeZone::parse("Mars/Olympus_Mons").is_err());
        assert!(TimeZone::parse("").is_err());
    }
}
