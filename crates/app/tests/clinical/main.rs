//! Clinical records through the app layer: policy, clients, screenings and clearances,
//! eligibility, treatments with signing, addenda, adverse events and aftercare, courses, who sees
//! what, idempotency and tenant isolation. Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

mod clients;
#[path = "../clinical_support/mod.rs"]
mod clinical_support;
mod eligibility;
mod policy;
mod practitioners;
mod privacy;
mod records;
mod tenancy;

use clinical_support::days_ago;
use skinledger_app::treatments::{ClinicalRecord, Treatment};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::screening::ScreeningAnswers;

fn answers_with(factor: Contraindication) -> ScreeningAnswers {
    let mut a = ScreeningAnswers::default();
    match factor {
        Contraindication::Pregnancy => a.pregnant = true,
        Contraindication::ActiveAcne => a.active_acne = true,
        Contraindication::InflamedOrInfectedSkin => a.inflamed_or_infected_skin = true,
        Contraindication::ActiveHerpes => a.active_herpes = true,
        Contraindication::HerpesHistory => a.herpes_history = true,
        Contraindication::EczemaOrRosacea => a.eczema_or_rosacea = true,
        Contraindication::Anticoagulants => a.anticoagulants = true,
        Contraindication::AntiInflammatoryMedication => {
            a.last_anti_inflammatory_dose_on = Some(days_ago(2));
        }
        Contraindication::AutoimmuneDisease => a.autoimmune_disease = true,
        Contraindication::FrequentAlcoholUse => a.frequent_alcohol_use = true,
        Contraindication::VerySensitiveSkin => a.very_sensitive_skin = true,
        Contraindication::RecentWaxingOrResurfacing => {
            a.last_waxing_or_resurfacing_on = Some(days_ago(3));
        }
    }
    a
}

/// The clinical record of a treatment shown in full.
fn clinical(t: &Treatment) -> &ClinicalRecord {
    t.clinical.as_ref().expect("the clinical record is shown")
}
