//! Contraindication screenings and physicians' clearances.

use skinledger_app::Page;
use skinledger_app::screenings::{Clearance, NewClearance, NewScreening, Screening};
use skinledger_domain::ValidationErrors;
use skinledger_domain::screening::{Reason, ScreeningAnswers};

use crate::grpc::{date, field_id, parse_date, pb, time};

impl From<Screening> for pb::Screening {
    fn from(s: Screening) -> Self {
        let Screening {
            id,
            client_id,
            clinic_id,
            screened_by,
            screened_on,
            answers,
            outcome,
            outcome_at_screening,
            reasons,
            clearances,
            valid_until,
            policy_version,
            created_at,
        } = s;
        pb::Screening {
            id: id.to_string(),
            client_id: client_id.to_string(),
            clinic_id: clinic_id.map(|c| c.to_string()),
            screened_by: screened_by.to_string(),
            screened_on: date(screened_on),
            answers: Some(answers.into()),
            outcome: outcome.as_str().to_owned(),
            outcome_at_screening: outcome_at_screening.as_str().to_owned(),
            reasons: reasons.into_iter().map(Into::into).collect(),
            clearances: clearances.into_iter().map(Into::into).collect(),
            valid_until: date(valid_until),
            policy_version,
            created_at: time(created_at),
        }
    }
}

impl From<Page<Screening>> for pb::ListScreeningsResponse {
    fn from(page: Page<Screening>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListScreeningsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl From<ScreeningAnswers> for pb::ScreeningAnswers {
    fn from(a: ScreeningAnswers) -> Self {
        let ScreeningAnswers {
            pregnant,
            active_acne,
            inflamed_or_infected_skin,
            active_herpes,
            herpes_history,
            eczema_or_rosacea,
            anticoagulants,
            autoimmune_disease,
            frequent_alcohol_use,
            very_sensitive_skin,
            last_waxing_or_resurfacing_on,
            last_anti_inflammatory_dose_on,
            medications,
        } = a;
        pb::ScreeningAnswers {
            pregnant: Some(pregnant),
            active_acne: Some(active_acne),
            inflamed_or_infected_skin: Some(inflamed_or_infected_skin),
            active_herpes: Some(active_herpes),
            herpes_history: Some(herpes_history),
            eczema_or_rosacea: Some(eczema_or_rosacea),
            anticoagulants: Some(anticoagulants),
            autoimmune_disease: Some(autoimmune_disease),
            frequent_alcohol_use: Some(frequent_alcohol_use),
            very_sensitive_skin: Some(very_sensitive_skin),
            last_waxing_or_resurfacing_on: last_waxing_or_resurfacing_on.map(date),
            last_anti_inflammatory_dose_on: last_anti_inflammatory_dose_on.map(date),
            medications,
        }
    }
}

impl From<Reason> for pb::ScreeningReason {
    fn from(r: Reason) -> Self {
        let Reason {
            factor,
            outcome,
            until,
            basis,
        } = r;
        pb::ScreeningReason {
            factor: factor.as_str().to_owned(),
            outcome: outcome.as_str().to_owned(),
            until: until.map(date),
            basis: basis.map(|b| b.as_str().to_owned()),
        }
    }
}

impl From<Clearance> for pb::Clearance {
    fn from(c: Clearance) -> Self {
        let Clearance {
            factor,
            reason,
            cleared_by,
            cleared_at,
        } = c;
        pb::Clearance {
            factor: factor.as_str().to_owned(),
            reason,
            cleared_by: cleared_by.to_string(),
            cleared_at: time(cleared_at),
        }
    }
}

/// The questionnaire as sent: every yes/no answer is required, as in REST.
fn answers(
    errors: &mut ValidationErrors,
    answers: Option<pb::ScreeningAnswers>,
) -> ScreeningAnswers {
    let Some(a) = answers else {
        errors.add("answers", "is required");
        return ScreeningAnswers::default();
    };
    let pb::ScreeningAnswers {
        pregnant,
        active_acne,
        inflamed_or_infected_skin,
        active_herpes,
        herpes_history,
        eczema_or_rosacea,
        anticoagulants,
        autoimmune_disease,
        frequent_alcohol_use,
        very_sensitive_skin,
        last_waxing_or_resurfacing_on,
        last_anti_inflammatory_dose_on,
        medications,
    } = a;
    let mut yes = |name: &str, value: Option<bool>| {
        value.unwrap_or_else(|| {
            errors.add(format!("answers.{name}"), "is required");
            false
        })
    };
    let pregnant = yes("pregnant", pregnant);
    let active_acne = yes("active_acne", active_acne);
    let inflamed_or_infected_skin = yes("inflamed_or_infected_skin", inflamed_or_infected_skin);
    let active_herpes = yes("active_herpes", active_herpes);
    let herpes_history = yes("herpes_history", herpes_history);
    let eczema_or_rosacea = yes("eczema_or_rosacea", eczema_or_rosacea);
    let anticoagulants = yes("anticoagulants", anticoagulants);
    let autoimmune_disease = yes("autoimmune_disease", autoimmune_disease);
    let frequent_alcohol_use = yes("frequent_alcohol_use", frequent_alcohol_use);
    let very_sensitive_skin = yes("very_sensitive_skin", very_sensitive_skin);
    let last_waxing_or_resurfacing_on = last_waxing_or_resurfacing_on
        .and_then(|d| parse_date(errors, "answers.last_waxing_or_resurfacing_on", &d));
    let last_anti_inflammatory_dose_on = last_anti_inflammatory_dose_on
        .and_then(|d| parse_date(errors, "answers.last_anti_inflammatory_dose_on", &d));
    ScreeningAnswers {
        pregnant,
        active_acne,
        inflamed_or_infected_skin,
        active_herpes,
        herpes_history,
        eczema_or_rosacea,
        anticoagulants,
        autoimmune_disease,
        frequent_alcohol_use,
        very_sensitive_skin,
        last_waxing_or_resurfacing_on,
        last_anti_inflammatory_dose_on,
        medications,
    }
}

impl TryFrom<pb::RecordScreeningRequest> for NewScreening {
    type Error = ValidationErrors;

    fn try_from(r: pb::RecordScreeningRequest) -> Result<Self, ValidationErrors> {
        let pb::RecordScreeningRequest {
            // The client screened: the handler reads it first.
            client_id: _,
            clinic_id,
            screened_on,
            answers: sent,
        } = r;
        let mut errors = ValidationErrors::new();
        let clinic_id = clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", &c));
        let screened_on = screened_on.and_then(|d| parse_date(&mut errors, "screened_on", &d));
        let answers = answers(&mut errors, sent);
        errors.into_result()?;
        Ok(NewScreening {
            clinic_id,
            screened_on,
            answers,
        })
    }
}

impl TryFrom<pb::ClearScreeningFactorRequest> for NewClearance {
    type Error = ValidationErrors;

    fn try_from(r: pb::ClearScreeningFactorRequest) -> Result<Self, ValidationErrors> {
        let pb::ClearScreeningFactorRequest {
            // The screening: the handler reads it first.
            id: _,
            factor,
            reason,
        } = r;
        let mut errors = ValidationErrors::new();
        let factor = errors.check("factor", factor.parse());
        let (Some(factor), true) = (factor, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(NewClearance { factor, reason })
    }
}
