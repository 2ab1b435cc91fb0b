//! Contraindication screenings: record one, list a client's, and clear a factor.
//!
//! A screening is about the client, not a clinic: it may name the clinic where it was taken
//! (the recorder must then hold a screening role there) or none (any screening role in the
//! organisation), and it counts at every clinic. Its answers and reasons are clinical content:
//! only roles that read clinical content see them, at any clinic, since a practitioner must know
//! a client's screening wherever they treat them.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::screening::{
    self, EarlierScreening, Outcome, Reason, ScreeningAnswers, can_clear, outcome_with_clearances,
};
use skinledger_store::entities::{screening as screening_row, screening_clearance};
use skinledger_store::{clients, clinics, is_unique_violation, screenings};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clinics::timezone_of;
use crate::error::{Error, Result};
use crate::events::Change;
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::policy;
use crate::text::{MAX_TEXT_LEN, required_text};
use skinledger_domain::events::EventType;

/// A physician's clearance of one factor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Clearance {
    /// The factor cleared.
    pub factor: Contraindication,
    /// Why the physician judged it safe.
    pub reason: String,
    /// The physician.
    pub cleared_by: Uuid,
    /// When.
    pub cleared_at: DateTime<Utc>,
}

impl Clearance {
    fn from_row(row: screening_clearance::Model) -> Self {
        Self {
            factor: *row.factor,
            reason: row.reason,
            cleared_by: row.cleared_by,
            cleared_at: row.cleared_at,
        }
    }
}

/// A screening as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Screening {
    /// Its id.
    pub id: Uuid,
    /// The client screened.
    pub client_id: Uuid,
    /// The clinic where it was taken, if named.
    pub clinic_id: Option<Uuid>,
    /// Who recorded it.
    pub screened_by: Uuid,
    /// The day of the screening.
    pub screened_on: NaiveDate,
    /// What the client answered.
    pub answers: ScreeningAnswers,
    /// Where the screening leaves the client today, once clearances and lapsed deferrals are
    /// taken into account.
    pub outcome: Outcome,
    /// The outcome on the day of the screening, before any clearance.
    pub outcome_at_screening: Outcome,
    /// Every factor found that the policy does not allow.
    pub reasons: Vec<Reason>,
    /// Physicians' clearances since.
    pub clearances: Vec<Clearance>,
    /// The last day the screening may be relied on.
    pub valid_until: NaiveDate,
    /// The policy version it was evaluated under.
    pub policy_version: i64,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A stored screening with its clearances: what eligibility checks and answers are built from.
pub(crate) struct StoredScreening {
    pub row: screening_row::Model,
    pub clearances: Vec<Clearance>,
}

impl StoredScreening {
    /// A row with its clearances.
    pub(crate) fn new(
        row: screening_row::Model,
        clearances: Vec<screening_clearance::Model>,
    ) -> Self {
        Self {
            clearances: clearances.into_iter().map(Clearance::from_row).collect(),
            row,
        }
    }

    /// What the screening found that the policy does not allow.
    pub(crate) fn reasons(&self) -> &[Reason] {
        &self.row.reasons
    }

    /// Loads one screening of the organisation, with its clearances.
    pub(crate) async fn load(
        db: &impl ConnectionTrait,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<Self>> {
        let Some(row) = screenings::get(db, org, id).await? else {
            return Ok(None);
        };
        let clearances = screenings::clearances_of(db, org, &[id]).await?;
        Ok(Some(Self::new(row, clearances)))
    }

    /// The factors cleared.
    pub(crate) fn cleared(&self) -> Vec<Contraindication> {
        self.clearances.iter().map(|c| c.factor).collect()
    }

    fn into_answer(self, today: NaiveDate) -> Screening {
        let cleared = self.cleared();
        let row = self.row;
        Screening {
            id: row.id,
            client_id: row.client_id,
            clinic_id: row.clinic_id,
            screened_by: row.screened_by,
            screened_on: row.screened_on,
            outcome: outcome_with_clearances(&row.reasons, &cleared, today),
            outcome_at_screening: *row.outcome,
            answers: row.answers.into_inner(),
            reasons: row.reasons.into_inner(),
            clearances: self.clearances,
            valid_until: row.valid_until,
            policy_version: i64::from(row.policy_version),
            created_at: row.created_at,
        }
    }
}

/// A screening, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScreening {
    /// The clinic where it is taken; optional.
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
    /// The day of the screening; today (UTC) when absent.
    #[serde(default)]
    pub screened_on: Option<NaiveDate>,
    /// The questionnaire.
    pub answers: ScreeningAnswers,
}

/// A physician's clearance, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClearance {
    /// The factor to clear; it must be one the screening found requiring clearance.
    pub factor: Contraindication,
    /// Why it is safe to treat.
    pub reason: String,
}

impl App {
    /// Records a screening of a client, evaluated under the current policy.
    ///
    /// With a `clinic_id`, the caller needs a screening role at that clinic; without, at any.
    pub async fn record_screening(
        &self,
        actor: &Actor,
        client_id: Uuid,
        new: NewScreening,
        key: Option<&IdempotencyKey>,
    ) -> Result<Screening> {
        let subject = Subject::new("screening", None)
            .client(client_id)
            .clinic(new.clinic_id);
        self.audited(actor, "screening.record", subject, async move {
            let db = self.db().read();
            clients::get(db, actor.org_id, client_id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            // The day is the day on the clinic's calendar, or the organisation's default zone's.
            let zone = match new.clinic_id {
                Some(clinic) => timezone_of(
                    &clinics::get(db, actor.org_id, clinic)
                        .await?
                        .ok_or(Error::NotFound("clinic"))?,
                ),
                None => self.settings().default_timezone,
            };
            let scope = new.clinic_id.map_or(Scope::Anywhere, Scope::Clinic);
            actor.require(Action::ScreeningRecord, scope)?;
            let today = zone.today();
            let screened_on = new.screened_on.unwrap_or(today);
            let mut errors = ValidationErrors::new();
            if screened_on > today {
                errors.add("screened_on", "must not be in the future");
            }
            if let Err(answer_errors) = new.answers.validate(screened_on) {
                for e in answer_errors.0 {
                    errors.add(format!("answers.{}", e.field), e.message);
                }
            }
            errors.into_result()?;
            let (answers, clinic_id) = (new.answers.clone(), new.clinic_id);
            idempotency::run(
                self.db(),
                actor,
                key,
                "screening.create",
                &(client_id, &new),
                |txn| async move {
                    let (version, policy) = policy::current(&txn, actor.org_id).await?;
                    // What the client's previous screening within the validity period found
                    // still holds until a physician confirms a denial of it.
                    let since =
                        screened_on - chrono::Days::new(u64::from(policy.screening_validity_days));
                    let earlier = match screenings::latest_on_or_before(
                        &txn,
                        actor.org_id,
                        client_id,
                        screened_on,
                    )
                    .await?
                    {
                        Some(row) if row.screened_on >= since => {
                            let clearances =
                                screenings::clearances_of(&txn, actor.org_id, &[row.id]).await?;
                            Some(StoredScreening::new(row, clearances))
                        }
                        _ => None,
                    };
                    let cleared = earlier
                        .as_ref()
                        .map(StoredScreening::cleared)
                        .unwrap_or_default();
                    let evaluation = screening::evaluate_after(
                        &answers,
                        &policy,
                        screened_on,
                        earlier.as_ref().map(|e| EarlierScreening {
                            reasons: e.reasons(),
                            cleared: &cleared,
                        }),
                    );
                    let row = screenings::insert(
                        &txn,
                        screening_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            client_id: Set(client_id),
                            clinic_id: Set(clinic_id),
                            screened_by: Set(actor.principal.id()),
                            screened_on: Set(screened_on),
                            answers: Set(answers.into()),
                            outcome: Set(evaluation.outcome.into()),
                            reasons: Set(evaluation.reasons.into()),
                            valid_until: Set(evaluation.valid_until),
                            policy_version: Set(version),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "screening.record", "screening", Some(row.id))
                            .client(client_id)
                            .detail(serde_json::json!({ "policy_version": version })),
                    );
                    txn.publish(
                        actor.org_id,
                        vec![
                            Change::new(EventType::ScreeningRecorded)
                                .client(client_id)
                                .clinic(row.clinic_id)
                                .subject(row.id),
                        ],
                    );
                    let answer = StoredScreening::new(row, Vec::new()).into_answer(today);
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// A client's screenings, oldest first (roles that read clinical content).
    pub async fn list_client_screenings(
        &self,
        actor: &Actor,
        client_id: Uuid,
        page: &PageParams,
    ) -> Result<Page<Screening>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClinicalRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let rows = screenings::list_for_client(db, actor.org_id, client_id, page).await?;
        let ids: Vec<Uuid> = rows.items.iter().map(|s| s.id).collect();
        let clearances = screenings::clearances_of(db, actor.org_id, &ids).await?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "screening.list", "client", Some(client_id))
                    .client(client_id),
            )
            .await;
        let today = Utc::now().date_naive();
        let next_after = rows.next_after;
        let items = rows
            .items
            .into_iter()
            .map(|row| {
                let mine = clearances
                    .iter()
                    .filter(|c| c.screening_id == row.id)
                    .cloned()
                    .collect();
                StoredScreening::new(row, mine).into_answer(today)
            })
            .collect();
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |s| s,
        ))
    }

    /// One screening (roles that read clinical content).
    pub async fn get_screening(&self, actor: &Actor, id: Uuid) -> Result<Screening> {
        let stored = StoredScreening::load(self.db().read(), actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("screening"))?;
        actor.require(Action::ClinicalRead, Scope::Anywhere)?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "screening.read", "screening", Some(id))
                    .client(stored.row.client_id),
            )
            .await;
        Ok(stored.into_answer(Utc::now().date_naive()))
    }

    /// A physician clears a factor that requires clearance, giving a reason.
    ///
    /// Anyone else gets 403. A contraindicated factor cannot be cleared (409 `contraindicated`);
    /// a factor the screening did not find, or one that is only deferred, is an invalid
    /// `factor` (422); a factor cleared already answers 409 `already_exists`.
    pub async fn clear_screening_factor(
        &self,
        actor: &Actor,
        screening_id: Uuid,
        clearance: NewClearance,
        key: Option<&IdempotencyKey>,
    ) -> Result<Screening> {
        let subject = Subject::new("screening", Some(screening_id));
        self.audited(actor, "screening.clear", subject, async move {
            let stored = StoredScreening::load(self.db().read(), actor.org_id, screening_id)
                .await?
                .ok_or(Error::NotFound("screening"))?;
            actor.require(Action::ScreeningClear, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let reason = required_text(&mut errors, "reason", &clearance.reason, MAX_TEXT_LEN);
            match stored
                .reasons()
                .iter()
                .find(|r| r.factor == clearance.factor)
            {
                None => errors.add("factor", "was not found at this screening"),
                Some(found) if found.outcome == Outcome::Contraindicated => {
                    return Err(Error::conflict(
                        ErrorCode::Contraindicated,
                        format!(
                            "`{}` is a contraindication; no clearance lifts it",
                            clearance.factor
                        ),
                    ));
                }
                Some(found) if !can_clear(found.outcome) => errors.add(
                    "factor",
                    format!("is `{}`, not awaiting a clearance", found.outcome),
                ),
                Some(_) => {}
            }
            errors.into_result()?;
            let reason = reason.ok_or_else(|| Error::invalid("reason", "must not be empty"))?;
            let client_id = stored.row.client_id;
            let screening_clinic = stored.row.clinic_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "screening.clear",
                &(screening_id, &clearance),
                |txn| async move {
                    let inserted = screenings::insert_clearance(
                        &txn,
                        screening_clearance::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            screening_id: Set(screening_id),
                            factor: Set(clearance.factor.into()),
                            reason: Set(reason),
                            cleared_by: Set(actor.principal.id()),
                            cleared_at: Set(Utc::now()),
                        },
                    )
                    .await;
                    match inserted {
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => {
                            return Err(Error::conflict(
                                ErrorCode::AlreadyExists,
                                format!("`{}` is cleared already", clearance.factor),
                            ));
                        }
                        Err(e) => return Err(e.into()),
                    }
                    txn.audit(
                        AuditEvent::by(actor, "screening.clear", "screening", Some(screening_id))
                            .client(client_id),
                    );
                    txn.publish(
                        actor.org_id,
                        vec![
                            Change::new(EventType::ScreeningCleared)
                                .client(client_id)
                                .clinic(screening_clinic)
                                .subject(screening_id),
                        ],
                    );
                    let answer = StoredScreening::load(&txn, actor.org_id, screening_id)
                        .await?
                        .ok_or(Error::NotFound("screening"))?
                        .into_answer(Utc::now().date_naive());
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }
}
