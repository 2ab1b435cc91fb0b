//! Changing a draft and signing it: only its practitioner, only while it is a draft, and a new
//! depth or endpoint checked again against the practitioner's scope and the interval.

use chrono::Utc;
use sea_orm::Set;
use skinledger_domain::ValidationErrors;
use skinledger_domain::clinical::TreatmentStatus;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::events::EventType;
use skinledger_store::entities::treatment as treatment_row;
use skinledger_store::treatments;
use uuid::Uuid;

use super::Treatment;
use super::plan::{anaesthetic, count, non_empty_unique, to_i32, topicals};
use super::refusal::{refuse, require_draft, require_practitioner};
use super::view::{to_u32, view};
use super::wire::{MAX_DURATION_MINUTES, MAX_PASSES, TreatmentChanges};
use super::{load, lost_race, treatment_change};
use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::consumption;
use crate::eligibility::{Facts, depth_of};
use crate::error::{Error, Result};
use crate::idempotency::{self, IdempotencyKey};
use crate::text::{MAX_TEXT_LEN, optional_text};
use crate::txn::Txn;

impl App {
    /// Edits a draft (its practitioner only). A signed record answers 409 `record_signed`;
    /// with `if_match`, a stale version answers 412. A new depth is checked again against the
    /// practitioner's scope and the client's interval (unless an override was recorded).
    pub async fn update_treatment(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: TreatmentChanges,
        if_match: Option<i64>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.update", subject, async move {
            let org = actor.org_id;
            let txn = Txn::begin(self.db()).await?;
            let row = load(&txn, org, id).await?;
            require_practitioner(actor, &row)?;
            require_draft(*row.status)?;
            if if_match.is_some_and(|v| v != i64::from(row.version)) {
                return Err(Error::PreconditionFailed);
            }

            let mut errors = ValidationErrors::new();
            let mut active = treatment_row::ActiveModel {
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            if let Some(values) = &changes.indications {
                non_empty_unique(&mut errors, "indications", values);
                active.indications = Set(values.clone().into());
            }
            if let Some(values) = &changes.areas {
                non_empty_unique(&mut errors, "areas", values);
                active.areas = Set(values.clone().into());
            }
            if let Some(kind) = changes.device_kind {
                active.device_kind = Set(kind.into());
            }
            if let Some(passes) = changes.passes {
                count(&mut errors, "passes", passes, 1, MAX_PASSES);
                active.passes = Set(to_i32(passes));
            }
            if changes.anaesthetic_product.is_some() || changes.anaesthetic_minutes.is_some() {
                let product = changes
                    .anaesthetic_product
                    .as_deref()
                    .or(row.anaesthetic_product.as_deref());
                let cleared = changes
                    .anaesthetic_product
                    .as_deref()
                    .is_some_and(|p| p.trim().is_empty());
                let minutes = match changes.anaesthetic_minutes {
                    Some(m) => Some(m),
                    None if cleared => None,
                    None => row.anaesthetic_minutes.map(to_u32).transpose()?,
                };
                let (product, minutes) = anaesthetic(&mut errors, product, minutes).unzip();
                active.anaesthetic_product = Set(product);
                active.anaesthetic_minutes = Set(minutes.flatten().map(to_i32));
            }
            if let Some(values) = &changes.topicals {
                active.topicals = Set(topicals(&mut errors, values).into());
            }
            if let Some(endpoint) = changes.endpoint {
                active.endpoint = Set(endpoint.into());
            }
            if let Some(minutes) = changes.duration_minutes {
                count(
                    &mut errors,
                    "duration_minutes",
                    minutes,
                    1,
                    MAX_DURATION_MINUTES,
                );
                active.duration_minutes = Set(to_i32(minutes));
            }
            if changes.notes.is_some() {
                active.notes = Set(optional_text(
                    &mut errors,
                    "notes",
                    changes.notes.as_deref(),
                    MAX_TEXT_LEN,
                ));
            }
            errors.into_result()?;

            if changes.needle_depth_mm.is_some() || changes.endpoint.is_some() {
                let depth = match changes.needle_depth_mm {
                    Some(depth) => depth,
                    None => depth_of(row.needle_depth_hundredths)?,
                };
                let endpoint = match changes.endpoint {
                    Some(endpoint) => endpoint,
                    None => *row.endpoint,
                };
                let facts = Facts::gather(
                    &txn,
                    org,
                    row.client_id,
                    row.clinic_id,
                    row.practitioner_id,
                    row.performed_on,
                    Some(id),
                )
                .await?;
                let mut result = facts.check(row.performed_on, depth, Some(endpoint));
                // The screening was checked when the session was recorded; a correction of depth
                // or endpoint concerns only the practitioner's scope and the interval.
                result.blockers.retain(|b| match b {
                    Blocker::OutsideScopeOfPractice { .. } => true,
                    Blocker::TooSoon { .. } => {
                        changes.needle_depth_mm.is_some() && row.interval_override_reason.is_none()
                    }
                    _ => false,
                });
                refuse(&result)?;
                if let Some(depth) = changes.needle_depth_mm {
                    consumption::check_depth_of_treatment(&txn, org, id, depth).await?;
                    active.needle_depth_hundredths = Set(i32::from(depth.hundredths()));
                }
            }
            if let Some(kind) = changes.device_kind {
                consumption::check_device_kind_of_treatment(&txn, org, id, kind).await?;
            }

            if !treatments::update_draft_if_version(&txn, org, id, row.version, active).await? {
                return Err(lost_race(&txn, org, id).await);
            }
            let row = load(&txn, org, id).await?;
            txn.audit(
                AuditEvent::by(actor, "treatment.update", "treatment", Some(id))
                    .client(row.client_id)
                    .detail(serde_json::json!({ "fields": changes.field_names() })),
            );
            let answer = view(&txn, actor, row).await?;
            txn.commit().await?;
            Ok(answer)
        })
        .await
    }

    /// Signs a draft (its practitioner only), making it immutable; corrections are addenda
    /// from then on. Signing again answers 409 `record_signed`.
    pub async fn sign_treatment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        key: Option<&IdempotencyKey>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.sign", subject, async move {
            let org = actor.org_id;
            let row = load(self.db().read(), org, id).await?;
            require_practitioner(actor, &row)?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.sign",
                &(id, if_match),
                |txn| async move {
                    let row = load(&txn, org, id).await?;
                    require_draft(*row.status)?;
                    if if_match.is_some_and(|v| v != i64::from(row.version)) {
                        return Err(Error::PreconditionFailed);
                    }
                    let now = Utc::now();
                    let active = treatment_row::ActiveModel {
                        status: Set(TreatmentStatus::Signed.into()),
                        signed_at: Set(Some(now)),
                        signed_by: Set(Some(actor.principal.id())),
                        updated_at: Set(now),
                        ..Default::default()
                    };
                    if !treatments::update_draft_if_version(&txn, org, id, row.version, active)
                        .await?
                    {
                        return Err(lost_race(&txn, org, id).await);
                    }
                    let row = load(&txn, org, id).await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.sign", "treatment", Some(id))
                            .client(row.client_id),
                    );
                    txn.publish(
                        org,
                        vec![treatment_change(EventType::TreatmentSigned, &row)],
                    );
                    let answer = view(&txn, actor, row).await?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }
}
