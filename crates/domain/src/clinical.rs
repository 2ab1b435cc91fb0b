//! The vocabulary of a treatment record: why, where, with what, how far, and what went wrong.

use crate::wire::wire_enum;

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
    use super::*;
    use crate::wire::UnknownValue;
    use crate::wire::tests::assert_wire_names;

    #[test]
    fn every_enum_uses_one_snake_case_name_on_the_wire_and_in_code() {
        assert_wire_names(&Indication::ALL, Indication::as_str);
        assert_wire_names(&Area::ALL, Area::as_str);
        assert_wire_names(&DeviceKind::ALL, DeviceKind::as_str);
        assert_wire_names(&Endpoint::ALL, Endpoint::as_str);
        assert_wire_names(&AdverseEventKind::ALL, AdverseEventKind::as_str);
        assert_wire_names(&Severity::ALL, Severity::as_str);
        assert_wire_names(&FitzpatrickType::ALL, FitzpatrickType::as_str);
        assert_wire_names(&TreatmentStatus::ALL, TreatmentStatus::as_str);
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
