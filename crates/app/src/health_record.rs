//! A client's health record as a whole, for exports that need all of it at once (FHIR): every
//! treatment, and the adverse events that followed them.
//!
//! The same rules as the paged reads apply: a treatment is shown in full only to roles that read
//! clinical content at its clinic, and every read is audited.

use skinledger_domain::permission::{Action, Scope};
use skinledger_store::{PageRequest, clients, treatments as treatment_rows};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::paging::MAX_LIMIT;
use crate::treatments::{Treatment, views};

impl App {
    /// Every treatment of a client, oldest recorded first, each as the caller may see it (any
    /// role; the full record for roles that read clinical content at its clinic). Audited as
    /// one `treatment.list`, as a page of the list is.
    pub async fn all_client_treatments(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> Result<Vec<Treatment>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        let rows = all_rows(db, actor.org_id, client_id).await?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "treatment.list", "client", Some(client_id))
                    .client(client_id),
            )
            .await;
        views(db, actor, rows).await
    }

    /// The client's treatments that were followed by adverse events, each in full with its
    /// events (roles that read clinical content; 403 for any other). Treatments at clinics where
    /// the caller does not read clinical content are left out. Audited as `adverse_event.list`.
    pub async fn client_adverse_events(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> Result<Vec<Treatment>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClinicalRead, Scope::Anywhere)?;
        let rows = all_rows(db, actor.org_id, client_id)
            .await?
            .into_iter()
            .filter(|r| actor.may(Action::ClinicalRead, Scope::Clinic(r.clinic_id)))
            .collect();
        self.read_audit()
            .record(
                AuditEvent::by(actor, "adverse_event.list", "client", Some(client_id))
                    .client(client_id),
            )
            .await;
        Ok(views(db, actor, rows)
            .await?
            .into_iter()
            .filter(|t| {
                t.clinical
                    .as_ref()
                    .is_some_and(|c| !c.adverse_events.is_empty())
            })
            .collect())
    }
}

/// Every treatment row of a client, oldest first, read a page at a time.
async fn all_rows(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    client_id: Uuid,
) -> Result<Vec<skinledger_store::entities::treatment::Model>> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = treatment_rows::list_for_client(
            db,
            org,
            client_id,
            PageRequest {
                after,
                limit: MAX_LIMIT,
            },
        )
        .await?;
        rows.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(rows),
        }
    }
}
