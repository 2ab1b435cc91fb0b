//! Needle depth: the one number that decides scope of practice, intervals and aftercare.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A needle length, held in hundredths of a millimetre so that comparisons are exact.
///
/// On the wire it is a JSON number of millimetres with at most two decimals (`0.5`, `1.25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct NeedleDepth(u16);

/// Why a number is not a needle depth.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DepthError {
    /// NaN or infinite.
    #[error("needle depth must be a finite number of millimetres")]
    NotFinite,
    /// Zero or negative.
    #[error("needle depth must be greater than 0 mm")]
    NotPositive,
    /// Longer than any needle the product accepts.
    #[error("needle depth must be at most 3.00 mm, got {0} mm")]
    TooDeep(f64),
    /// A third decimal: needles are sold in hundredths at most, so it is a typo.
    #[error("needle depth takes at most two decimals, got {0} mm")]
    TooPrecise(f64),
}

impl NeedleDepth {
    /// The deepest needle accepted anywhere: 3.00 mm, beyond any role's default limit.
    pub const MAX: NeedleDepth = NeedleDepth(300);

    /// Tolerance for binary float noise: `0.29 * 100.0` is `28.999999999999996`, not `29`.
    const FLOAT_NOISE: f64 = 1e-6;

    /// Parses millimetres: positive, at most 3.00, at most two decimals.
    pub fn from_mm(mm: f64) -> Result<Self, DepthError> {
        if !mm.is_finite() {
            return Err(DepthError::NotFinite);
        }
        if mm <= 0.0 {
            return Err(DepthError::NotPositive);
        }
        let scaled = mm * 100.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() >= Self::FLOAT_NOISE {
            return Err(DepthError::TooPrecise(mm));
        }
        if rounded > f64::from(Self::MAX.0) {
            return Err(DepthError::TooDeep(mm));
        }
        if rounded < 1.0 {
            // Within float noise of zero, e.g. 1e-9 mm: positive in name only.
            return Err(DepthError::NotPositive);
        }
        // In 1..=300 by the checks above, so the cast neither truncates nor wraps.
        Ok(Self(rounded as u16))
    }

    /// Builds a depth from hundredths of a millimetre (`50` is 0.5 mm).
    pub fn from_hundredths(hundredths: u16) -> Result<Self, DepthError> {
        match hundredths {
            0 => Err(DepthError::NotPositive),
            h if h > Self::MAX.0 => Err(DepthError::TooDeep(f64::from(h) / 100.0)),
            h => Ok(Self(h)),
        }
    }

    /// The depth in millimetres.
    pub fn mm(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// The depth in hundredths of a millimetre.
    pub fn hundredths(self) -> u16 {
        self.0
    }
}

impl fmt::Display for NeedleDepth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mm", self.mm())
    }
}

impl TryFrom<f64> for NeedleDepth {
    type Error = DepthError;

    fn try_from(mm: f64) -> Result<Self, Self::Error> {
        Self::from_mm(mm)
    }
}

impl From<NeedleDepth> for f64 {
    fn from(depth: NeedleDepth) -> Self {
        depth.mm()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn whole_and_two_decimal_millimetres_are_accepted() {
        assert_eq!(
            NeedleDepth::from_mm(0.25).map(NeedleDepth::hundredths),
            Ok(25)
        );
        assert_eq!(
            NeedleDepth::from_mm(1.0).map(NeedleDepth::hundredths),
            Ok(100)
        );
        assert_eq!(
            NeedleDepth::from_mm(0.29).map(NeedleDepth::hundredths),
            Ok(29)
        );
        assert_eq!(
            NeedleDepth::from_mm(3.0).map(NeedleDepth::hundredths),
            Ok(300)
        );
        assert_eq!(
            NeedleDepth::from_mm(0.01).map(NeedleDepth::hundredths),
            Ok(1)
        );
    }

    #[test]
    fn a_third_decimal_is_refused() {
        assert_eq!(
            NeedleDepth::from_mm(0.255),
            Err(DepthError::TooPrecise(0.255))
        );
        assert_eq!(
            NeedleDepth::from_mm(1.001),
            Err(DepthError::TooPrecise(1.001))
        );
    }

    #[test]
    fn zero_negative_and_non_finite_depths_are_refused() {
        assert_eq!(NeedleDepth::from_mm(0.0), Err(DepthError::NotPositive));
        assert_eq!(NeedleDepth::from_mm(-0.5), Err(DepthError::NotPositive));
        assert_eq!(NeedleDepth::from_mm(1e-9), Err(DepthError::NotPositive));
        assert_eq!(NeedleDepth::from_mm(f64::NAN), Err(DepthError::NotFinite));
        assert_eq!(
            NeedleDepth::from_mm(f64::INFINITY),
            Err(DepthError::NotFinite)
        );
        assert_eq!(
            NeedleDepth::from_hundredths(0),
            Err(DepthError::NotPositive)
        );
    }

    #[test]
    fn anything_deeper_than_three_millimetres_is_refused() {
        assert_eq!(NeedleDepth::from_mm(3.01), Err(DepthError::TooDeep(3.01)));
        assert_eq!(NeedleDepth::from_mm(1e300), Err(DepthError::TooDeep(1e300)));
        assert_eq!(
            NeedleDepth::from_hundredths(301),
            Err(DepthError::TooDeep(3.01))
        );
    }

    #[test]
    fn depth_travels_as_a_plain_number_of_millimetres() -> Result<(), serde_json::Error> {
        let depth = NeedleDepth::from_hundredths(151).map_err(serde::de::Error::custom)?;
        assert_eq!(serde_json::to_string(&depth)?, "1.51");
        assert_eq!(serde_json::from_str::<NeedleDepth>("1.51")?, depth);
        assert_eq!(serde_json::from_str::<NeedleDepth>("1")?.hundredths(), 100);
        assert!(serde_json::from_str::<NeedleDepth>("0.255").is_err());
        assert!(serde_json::from_str::<NeedleDepth>("\"1.5\"").is_err());
        assert!(serde_json::from_str::<NeedleDepth>("0").is_err());
        Ok(())
    }

    #[test]
    fn deeper_needles_compare_greater() {
        let (half, just_over) = (NeedleDepth::from_mm(0.5), NeedleDepth::from_mm(0.51));
        assert!(matches!((half, just_over), (Ok(h), Ok(j)) if h < j));
        assert_eq!(half, NeedleDepth::from_mm(0.50));
    }

    #[test]
    fn depth_displays_in_millimetres() {
        assert_eq!(
            NeedleDepth::from_hundredths(50).map(|d| d.to_string()),
            Ok("0.5 mm".to_owned())
        );
    }

    proptest! {
        #[test]
        fn every_hundredth_up_to_three_millimetres_round_trips(h in 1u16..=300) {
            let from_mm = NeedleDepth::from_mm(f64::from(h) / 100.0);
            prop_assert_eq!(from_mm, NeedleDepth::from_hundredths(h));
            let depth = from_mm.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(depth.hundredths(), h);
            prop_assert_eq!(NeedleDepth::from_mm(depth.mm()), Ok(depth));
            let json = serde_json::to_string(&depth).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(serde_json::from_str::<NeedleDepth>(&json).ok(), Some(depth));
        }

        #[test]
        fn a_nonzero_third_decimal_is_always_refused(thousandths in 1u32..=3000) {
            prop_assume!(thousandths % 10 != 0);
            let mm = f64::from(thousandths) / 1000.0;
            prop_assert_eq!(NeedleDepth::from_mm(mm), Err(DepthError::TooPrecise(mm)));
        }

        #[test]
        fn order_follows_millimetres(a in 1u16..=300, b in 1u16..=300) {
            let da = NeedleDepth::from_hundredths(a).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let db = NeedleDepth::from_hundredths(b).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(da.cmp(&db), a.cmp(&b));
        }
    }
}
