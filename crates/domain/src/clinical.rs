//! The vocabulary of a treatment record: why, where, with what, how far, and what went wrong.

/// A name sent for one of our enums that is not one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// Which enum the name was meant for (`indication`, `area`).
    pub kind: &'static str,
    /// The name as it was sent.
    pub value: String,
}

impl UnknownValue {
    /// A refusal of `value` as a `kind`.
    pub fn new(kind: &'static str, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }
}

/// Declares a fieldless enum whose wire name per variant is written once and used by serde,
/// `as_str`, `Display` and `FromStr` alike, so the four can never disagree.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(::utoipa::ToSchema))]
        // Every wire name is its variant in snake_case (a unit test holds it): the OpenAPI
        // derivation reads this, not the per-variant names passed through the macro.
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The wire name (lower snake_case).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::clinical::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::clinical::UnknownValue::new($kind, s))
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// What a treatment is meant to improve.
    pub enum Indication ("indication") {
        /// Atrophic scars left by acne.
        AcneScarring => "acne_scarring",
        /// Scars from burns.
        BurnScars => "burn_scars",
        /// Scars from surgery.
        SurgicalScars => "surgical_scars",
        /// Striae.
        StretchMarks => "stretch_marks",
        /// Fine lines and wrinkles.
        FineLinesAndWrinkles => "fine_lines_and_wrinkles",
        /// Enlarged pores.
        EnlargedPores => "enlarged_pores",
        /// Sun damage.
        SunDamage => "sun_damage",
        /// Uneven tone and hyperpigmentation.
        Hyperpigmentation => "hyperpigmentation",
        /// Dull or sagging skin.
        DullOrSaggingSkin => "dull_or_sagging_skin",
    }
}

wire_enum! {
    /// A treated area of the body.
    pub enum Area ("area") {
        /// Forehead.
        Forehead => "forehead",
        /// Around the eyes.
        Periorbital => "periorbital",
        /// Cheeks.
        Cheeks => "cheeks",
        /// Nose.
        Nose => "nose",
        /// Around the mouth.
        Perioral => "perioral",
        /// Chin.
        Chin => "chin",
        /// Jawline.
        Jawline => "jawline",
        /// The whole face, when regions are not recorded separately.
        FullFace => "full_face",
        /// Neck.
        Neck => "neck",
        /// Décolletage.
        Decolletage => "decolletage",
        /// Abdomen.
        Abdomen => "abdomen",
        /// Thighs.
        Thighs => "thighs",
        /// Buttocks.
        Buttocks => "buttocks",
        /// Arms.
        Arms => "arms",
        /// Back.
        Back => "back",
    }
}

wire_enum! {
    /// The kind of single-use device a treatment consumes.
    pub enum DeviceKind ("device kind") {
        /// A disposable hand-held roller.
        Roller => "roller",
        /// A pen needle cartridge.
        Pen => "pen",
    }
}

wire_enum! {
    /// Where the practitioner stopped needling.
    pub enum Endpoint ("endpoint") {
        /// Redness; an esthetician stops here.
        Erythema => "erythema",
        /// Pinpoint bleeding, reached with deeper needles.
        PinpointBleeding => "pinpoint_bleeding",
    }
}

wire_enum! {
    /// An unwanted effect beyond the expected redness, tightness and flaking.
    pub enum AdverseEventKind ("adverse event kind") {
        /// Tiny scabs.
        Scabbing => "scabbing",
        /// Infection.
        Infection => "infection",
        /// Hyperpigmentation after treatment.
        Hyperpigmentation => "hyperpigmentation",
        /// Bruising.
        Bruising => "bruising",
        /// Heavy bleeding.
        HeavyBleeding => "heavy_bleeding",
        /// Redness lasting beyond the expected 72 hours.
        ProlongedErythema => "prolonged_erythema",
        /// An allergic reaction, typically to a topical product.
        AllergicReaction => "allergic_reaction",
        /// Anything else, described in the event's notes.
        Other => "other",
    }
}

wire_enum! {
    /// How bad an adverse event was, mildest first.
    pub enum Severity ("severity") {
        /// Resolves without intervention.
        Mild => "mild",
        /// Needs care or follow-up.
        Moderate => "moderate",
        /// Needs medical treatment.
        Severe => "severe",
    }
}

wire_enum! {
    /// Fitzpatrick skin phototype, recorded for the file: microneedling suits every type.
    pub enum FitzpatrickType ("fitzpatrick type") {
        /// Type I: always burns, never tans.
        I => "i",
        /// Type II: usually burns, tans minimally.
        Ii => "ii",
        /// Type III: sometimes burns, tans gradually.
        Iii => "iii",
        /// Type IV: burns minimally, tans well.
        Iv => "iv",
        /// Type V: rarely burns, tans darkly.
        V => "v",
        /// Type VI: never burns.
        Vi => "vi",
    }
}

wire_enum! {
    /// Whether a treatment record can still be edited.
    pub enum TreatmentStatus ("treatment status") {
        /// Being written; the practitioner may still change it.
        Draft => "draft",
        /// Signed and immutable; corrections are addenda.
        Signed => "signed",
    }
}

impl TreatmentStatus {
    /// Whether a record in this status may still be edited or signed: only a draft may.
    pub fn is_editable(self) -> bool {
        self == Self::Draft
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    fn is_snake_case(name: &str) -> bool {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with('_')
            && !name.ends_with('_')
    }

    fn assert_round_trips<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy
            + PartialEq
            + std::fmt::Debug
            + Display
            + FromStr<Err = UnknownValue>
            + Serialize
            + DeserializeOwned,
    {
        let mut seen = std::collections::HashSet::new();
        for &value in all {
            let name = as_str(value);
            assert!(is_snake_case(name), "{name} is not snake_case");
            // The macro's `rename_all = "snake_case"` (read by the OpenAPI derivation) must
            // give the same name as the one written per variant.
            let variant = format!("{value:?}");
            let mut snake = String::new();
            for (i, c) in variant.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(snake, name, "{variant} is written `{name}`");
            assert!(seen.insert(name), "{name} appears twice");
            assert_eq!(value.to_string(), name);
            assert_eq!(name.parse::<T>(), Ok(value));
            assert_eq!(
                serde_json::to_string(&value).ok(),
                Some(format!("\"{name}\""))
            );
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{name}\"")).ok(),
                Some(value)
            );
        }
    }

    #[test]
    fn every_enum_uses_one_snake_case_name_on_the_wire_and_in_code() {
        assert_round_trips(&Indication::ALL, Indication::as_str);
        assert_round_trips(&Area::ALL, Area::as_str);
        assert_round_trips(&DeviceKind::ALL, DeviceKind::as_str);
        assert_round_trips(&Endpoint::ALL, Endpoint::as_str);
        assert_round_trips(&AdverseEventKind::ALL, AdverseEventKind::as_str);
        assert_round_trips(&Severity::ALL, Severity::as_str);
        assert_round_trips(&FitzpatrickType::ALL, FitzpatrickType::as_str);
        assert_round_trips(&TreatmentStatus::ALL, TreatmentStatus::as_str);
        use crate::policy::FactorOutcome;
        use crate::screening::{Contraindication, Outcome, ReasonBasis};
        assert_round_trips(&Contraindication::ALL, Contraindication::as_str);
        assert_round_trips(&Outcome::ALL, Outcome::as_str);
        assert_round_trips(&ReasonBasis::ALL, ReasonBasis::as_str);
        assert_round_trips(&FactorOutcome::ALL, FactorOutcome::as_str);
    }

    #[test]
    fn every_documented_value_is_present() {
        assert_eq!(Indication::ALL.len(), 9);
        assert_eq!(Area::ALL.len(), 15);
        assert_eq!(AdverseEventKind::ALL.len(), 8);
        assert_eq!(FitzpatrickType::ALL.len(), 6);
        assert_eq!("full_face".parse(), Ok(Area::FullFace));
        assert_eq!("vi".parse(), Ok(FitzpatrickType::Vi));
        assert_eq!("pinpoint_bleeding".parse(), Ok(Endpoint::PinpointBleeding));
    }

    #[test]
    fn an_unknown_name_is_refused_and_named_in_the_error() {
        let err = "FullFace".parse::<Area>().err();
        assert_eq!(err, Some(UnknownValue::new("area", "FullFace")));
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("unknown area `FullFace`".to_owned())
        );
        assert!(serde_json::from_str::<DeviceKind>("\"stamp\"").is_err());
    }

    #[test]
    fn severity_orders_mildest_first() {
        assert!(Severity::Mild < Severity::Moderate);
        assert!(Severity::Moderate < Severity::Severe);
    }
}
