//! Treatment records: create (with every eligibility rule in the same transaction), read, edit
//! a draft, sign, and add addenda, adverse events and aftercare.
//!
//! - [`wire`]: the requests as sent;
//! - [`plan`]: a new record validated and recorded under the eligibility rules;
//! - [`refusal`]: why a session or a change is refused;
//! - [`view`]: the answer, with the clinical record only for callers who may read it;
//! - [`edit`] and [`follow_up`]: changing and signing a draft; addenda, adverse events and
//!   aftercare.

mod edit;
mod follow_up;
mod plan;
mod refusal;
mod view;
mod wire;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use skinledger_domain::events::EventType;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::treatment as treatment_row;
use skinledger_store::{clients, clinics, courses, treatments};
use uuid::Uuid;

use self::plan::Recorded;
pub use self::plan::count_errors;
pub(crate) use self::plan::{TreatmentPlan, record_treatment};
use self::refusal::record_signed;
pub(crate) use self::view::views;
pub use self::view::{Addendum, AdverseEvent, ClinicalRecord, Treatment, TreatmentAftercare};
use self::view::{recorded, view};
pub use self::wire::{NewAddendum, NewAdverseEvent, NewTreatment, TreatmentChanges};
use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::audit::Subject;
use crate::consumption;
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};

/// An event about a treatment: its client, clinic and version.
pub(crate) fn treatment_change(kind: EventType, row: &treatment_row::Model) -> Change {
    Change::new(kind)
        .treatment(row.id)
        .client(row.client_id)
        .clinic(row.clinic_id)
        .data(EventData {
            version: Some(i64::from(row.version)),
            ..EventData::default()
        })
}

/// A treatment of the organisation, or 404.
async fn load(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<treatment_row::Model> {
    treatments::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("treatment"))
}

/// After a conditional update touched nothing: signed in the meantime, or changed.
async fn lost_race(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Error {
    match treatments::get(db, org, id).await {
        Ok(Some(row)) if !row.status.is_editable() => record_signed(),
        Ok(_) => Error::PreconditionFailed,
        Err(e) => e.into(),
    }
}

impl App {
    /// Records a treatment by the caller, checking every eligibility rule in the same
    /// transaction as the write.
    ///
    /// Refuses with 403 `outside_scope_of_practice` for a depth beyond the caller's limit at
    /// the clinic, else with 409 and the first blocker's code (`no_valid_screening`,
    /// `contraindicated`, `requires_clearance`, `deferred`, `too_soon`,
    /// `not_assigned_to_clinic`), every blocker listed in the error's `extra`. A physician at
    /// the clinic may send `interval_override_reason` to treat despite `too_soon`.
    ///
    /// Consumes the devices in `consumables` from the clinic's stock in the same transaction
    /// (see [`consumption`]): 422 on `consumables` without a single-use needle device, 422 on
    /// `needle_depth_mm` and `consumables[i]` beyond a device's labelled maximum, 409
    /// `out_of_stock`, `lot_expired`, `lot_recalled` or `serial_already_used`.
    pub async fn create_treatment(
        &self,
        actor: &Actor,
        new: NewTreatment,
        key: Option<&IdempotencyKey>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", None)
            .client(new.client_id)
            .clinic(new.clinic_id);
        self.audited(actor, "treatment.create", subject, async move {
            let plan = TreatmentPlan::parse(&new, Utc::now());
            let db = self.db().read();
            let org = actor.org_id;
            clients::get(db, org, new.client_id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            clinics::get(db, org, new.clinic_id)
                .await?
                .ok_or(Error::NotFound("clinic"))?;
            if let Some(course_id) = new.course_id {
                courses::get(db, org, course_id)
                    .await?
                    .ok_or(Error::NotFound("course"))?;
            }
            actor.require(Action::TreatmentRecord, Scope::Anywhere)?;
            let practitioner = actor.staff_id().ok_or_else(|| Error::Forbidden {
                code: ErrorCode::Forbidden,
                detail: "treatments are recorded by the practitioner who performed them".into(),
            })?;
            let plan = plan?;
            let devices =
                consumption::plan(db, org, &new.consumables, plan.depth, plan.device_kind).await?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.create",
                &new,
                |txn| async move {
                    let Recorded { row, today, policy } =
                        record_treatment(&txn, actor, practitioner, &plan).await?;
                    // Same transaction, before the commit: a refused consumption leaves no
                    // treatment behind, and a rolled-back treatment consumed nothing.
                    let used = consumption::consume(&txn, actor, &row, &devices, today).await?;
                    let mut changes = vec![treatment_change(EventType::TreatmentCreated, &row)];
                    changes.extend(
                        events::low_stock(
                            &txn,
                            org,
                            row.clinic_id,
                            used.iter().map(|u| (u.product_id, u.quantity)),
                        )
                        .await?,
                    );
                    txn.publish(org, changes);
                    let answer = recorded(actor, row, used, &policy)?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// One treatment: the full record for roles that read clinical content at its clinic, who,
    /// where, when and status for any other role.
    pub async fn get_treatment(&self, actor: &Actor, id: Uuid) -> Result<Treatment> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        if !actor.may(Action::ClinicalRead, Scope::Clinic(row.clinic_id)) {
            actor.require(Action::ClientRead, Scope::Anywhere)?;
        }
        self.read_audit()
            .record(
                AuditEvent::by(actor, "treatment.read", "treatment", Some(id))
                    .client(row.client_id),
            )
            .await;
        view(db, actor, row).await
    }

    /// A client's treatments, oldest recorded first, each as the caller may see it.
    pub async fn list_client_treatments(
        &self,
        actor: &Actor,
        client_id: Uuid,
        page: &PageParams,
    ) -> Result<Page<Treatment>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let rows = treatments::list_for_client(db, actor.org_id, client_id, page).await?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "treatment.list", "client", Some(client_id))
                    .client(client_id),
            )
            .await;
        let next_after = rows.next_after;
        let items = views(db, actor, rows.items).await?;
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |t| t,
        ))
    }
}
