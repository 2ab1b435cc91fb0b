//! The factors a contraindication screening asks about, each of which the clinical policy gives
//! an outcome.

use crate::wire::wire_enum;

wire_enum! {
    /// A factor that can stand in the way of microneedling.
    pub enum Contraindication ("contraindication") {
        /// Pregnancy.
        Pregnancy => "pregnancy",
        /// Active acne or a cystic breakout.
        ActiveAcne => "active_acne",
        /// Inflamed or infected skin in the area.
        InflamedOrInfectedSkin => "inflamed_or_infected_skin",
        /// An active herpes (cold sore) outbreak.
        ActiveHerpes => "active_herpes",
        /// A history of herpes, not currently active.
        HerpesHistory => "herpes_history",
        /// Eczema or rosacea in the area.
        EczemaOrRosacea => "eczema_or_rosacea",
        /// Anticoagulants or other blood thinners.
        Anticoagulants => "anticoagulants",
        /// Anti-inflammatory medication within the policy's window.
        AntiInflammatoryMedication => "anti_inflammatory_medication",
        /// An autoimmune disease.
        AutoimmuneDisease => "autoimmune_disease",
        /// Frequent alcohol use.
        FrequentAlcoholUse => "frequent_alcohol_use",
        /// Very sensitive skin.
        VerySensitiveSkin => "very_sensitive_skin",
        /// Waxing or skin resurfacing within the policy's window.
        RecentWaxingOrResurfacing => "recent_waxing_or_resurfacing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_factor_uses_one_snake_case_name_on_the_wire_and_in_code() {
        crate::wire::tests::assert_wire_names(&Contraindication::ALL, Contraindication::as_str);
        assert_eq!(Contraindication::ALL.len(), 12);
    }
}
