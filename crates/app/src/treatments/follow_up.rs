//! What follows a session: addenda and adverse events (on a draft or a signed record) and the
//! client's aftercare.

use chrono::Utc;
use sea_orm::Set;
use skinledger_domain::ValidationErrors;
use skinledger_domain::aftercare::aftercare_for;
use skinledger_domain::events::EventType;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::{
    adverse_event as adverse_row, treatment_addendum as addendum_row,
};
use skinledger_store::treatments;
use uuid::Uuid;

use super::view::{Addendum, AdverseEvent, TreatmentAftercare};
use super::wire::{NewAddendum, NewAdverseEvent};
use super::{load, treatment_change};
use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::eligibility::depth_of;
use crate::error::{Error, Result};
use crate::idempotency::{self, IdempotencyKey};
use crate::policy;
use crate::text::{MAX_TEXT_LEN, optional_text, required_text};

impl App {
    /// Appends an addendum to a treatment, signed or not (clinical roles at its clinic).
    pub async fn add_treatment_addendum(
        &self,
        actor: &Actor,
        id: Uuid,
        new: NewAddendum,
        key: Option<&IdempotencyKey>,
    ) -> Result<Addendum> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.addendum", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TreatmentAmend, Scope::Clinic(row.clinic_id))?;
            let mut errors = ValidationErrors::new();
            let text = required_text(&mut errors, "text", &new.text, MAX_TEXT_LEN);
            errors.into_result()?;
            let text = text.ok_or_else(|| Error::invalid("text", "must not be empty"))?;
            let client_id = row.client_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.addendum",
                &(id, &new),
                |txn| async move {
                    let added = treatments::insert_addendum(
                        &txn,
                        addendum_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            treatment_id: Set(id),
                            author_id: Set(actor.principal.id()),
                            text: Set(text),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.addendum", "treatment", Some(id))
                            .client(client_id),
                    );
                    txn.publish(
                        actor.org_id,
                        vec![
                            treatment_change(EventType::TreatmentAddendumAdded, &row)
                                .subject(added.id),
                        ],
                    );
                    Ok((Addendum::from(added), txn))
                },
            )
            .await
        })
        .await
    }

    /// Records an adverse event after a treatment, signed or not (clinical roles at its clinic).
    /// When it crosses the adverse-event signal of a lot the treatment used, that lot goes on
    /// hold at every clinic in the same transaction (see `signals`).
    pub async fn record_adverse_event(
        &self,
        actor: &Actor,
        id: Uuid,
        new: NewAdverseEvent,
        key: Option<&IdempotencyKey>,
    ) -> Result<AdverseEvent> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.adverse_event", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TreatmentAmend, Scope::Clinic(row.clinic_id))?;
            let mut errors = ValidationErrors::new();
            if new.onset_on < row.performed_on {
                errors.add("onset_on", "must not be before the treatment");
            }
            if new.onset_on > Utc::now().date_naive() {
                errors.add("onset_on", "must not be in the future");
            }
            let notes = optional_text(&mut errors, "notes", new.notes.as_deref(), MAX_TEXT_LEN);
            errors.into_result()?;
            let client_id = row.client_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.adverse_event",
                &(id, &new),
                |txn| async move {
                    let added = treatments::insert_adverse_event(
                        &txn,
                        adverse_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            treatment_id: Set(id),
                            kind: Set(new.kind.into()),
                            severity: Set(new.severity.into()),
                            onset_on: Set(new.onset_on),
                            notes: Set(notes),
                            recorded_by: Set(actor.principal.id()),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.adverse_event", "treatment", Some(id))
                            .client(client_id),
                    );
                    let mut changes = vec![
                        treatment_change(EventType::AdverseEventRecorded, &row).subject(added.id),
                    ];
                    changes.extend(
                        crate::signals::check_after_adverse_event(
                            &txn,
                            actor,
                            id,
                            new.severity,
                            Utc::now().date_naive(),
                        )
                        .await?,
                    );
                    txn.publish(actor.org_id, changes);
                    Ok((AdverseEvent::from(added), txn))
                },
            )
            .await
        })
        .await
    }

    /// A treatment's aftercare under the policy version it was recorded with (clinical roles
    /// at its clinic).
    pub async fn get_treatment_aftercare(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<TreatmentAftercare> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        actor.require(Action::ClinicalRead, Scope::Clinic(row.clinic_id))?;
        let policy = policy::at_version(db, actor.org_id, row.policy_version).await?;
        let depth = depth_of(row.needle_depth_hundredths)?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "treatment.aftercare", "treatment", Some(id))
                    .client(row.client_id),
            )
            .await;
        Ok(TreatmentAftercare {
            treatment_id: row.id,
            client_id: row.client_id,
            performed_on: row.performed_on,
            policy_version: i64::from(row.policy_version),
            aftercare: aftercare_for(&policy, row.performed_on, depth),
        })
    }
}
