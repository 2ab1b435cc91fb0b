//! Clinics: open, read, list and change them.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::local_time::TimeZone;
use skinledger_domain::names::Name;
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_store::clinics;
use skinledger_store::entities::clinic;
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::text::optional_text;
use crate::txn::Txn;

/// A clinic as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Clinic {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its postal address.
    pub address: Option<String>,
    /// Its phone number.
    pub phone: Option<String>,
    /// Whether it is operating. A closed clinic keeps its records readable but takes no
    /// treatments, receipts, transfers in, stocktakes, adjustments or disposals.
    pub active: bool,
    /// Its IANA time zone: the day of a session, and every date counted from it, is the day
    /// on this clinic's calendar.
    pub timezone: TimeZone,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<clinic::Model> for Clinic {
    fn from(m: clinic::Model) -> Self {
        let timezone = timezone_of(&m);
        Self {
            id: m.id,
            name: m.name,
            address: m.address,
            phone: m.phone,
            active: m.active,
            timezone,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new clinic, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClinic {
    /// Its name.
    pub name: String,
    /// Its postal address.
    pub address: Option<String>,
    /// Its phone number.
    pub phone: Option<String>,
    /// Its IANA time zone; the server's configured default when absent.
    #[serde(default)]
    pub timezone: Option<TimeZone>,
}

/// Changes to a clinic; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new address.
    pub address: Option<String>,
    /// A new phone number.
    pub phone: Option<String>,
    /// Open or close the clinic.
    pub active: Option<bool>,
    /// A new IANA time zone.
    #[serde(default)]
    pub timezone: Option<TimeZone>,
}

/// The clinic `id` of the organisation, which must be operating: a write at a closed clinic
/// answers 409 `clinic_inactive` (404 when there is no such clinic).
pub(crate) async fn active_clinic(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<clinic::Model> {
    let row = clinics::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("clinic"))?;
    if !row.active {
        return Err(clinic_inactive(&row));
    }
    Ok(row)
}

/// 409 `clinic_inactive` for a closed clinic.
pub(crate) fn clinic_inactive(row: &clinic::Model) -> Error {
    Error::Conflict {
        code: ErrorCode::ClinicInactive,
        detail: format!(
            "{} is closed; its records can be read but not added to",
            row.name
        ),
        extra: Some(serde_json::json!({ "clinic_id": row.id })),
    }
}

/// The clinic's time zone. A stored zone was parsed when written; UTC should it ever not
/// parse.
pub(crate) fn timezone_of(row: &clinic::Model) -> TimeZone {
    TimeZone::parse(&row.timezone).unwrap_or_default()
}

impl App {
    /// Opens a clinic (`org_admin`).
    pub async fn create_clinic(
        &self,
        actor: &Actor,
        new: NewClinic,
        key: Option<&IdempotencyKey>,
    ) -> Result<Clinic> {
        let subject = Subject::new("clinic", None);
        self.audited(actor, "clinic.create", subject, async move {
            actor.require(Action::ClinicCreate, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let name = errors.check("name", Name::parse(&new.name));
            let address = optional_text(&mut errors, "address", new.address.as_deref(), 500);
            let phone = optional_text(&mut errors, "phone", new.phone.as_deref(), 40);
            errors.into_result()?;
            let name = name.ok_or_else(|| Error::invalid("name", "is required"))?;
            let timezone = new.timezone.unwrap_or(self.settings().default_timezone);
            idempotency::run(
                self.db(),
                actor,
                key,
                "clinic.create",
                &new,
                |txn| async move {
                    let now = Utc::now();
                    let row = clinics::insert(
                        &txn,
                        clinic::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            name: Set(name.to_string()),
                            address: Set(address),
                            phone: Set(phone),
                            active: Set(true),
                            timezone: Set(timezone.name().to_owned()),
                            created_at: Set(now),
                            updated_at: Set(now),
                        },
                    )
                    .await?;
                    txn.audit(AuditEvent::by(
                        actor,
                        "clinic.create",
                        "clinic",
                        Some(row.id),
                    ));
                    Ok((Clinic::from(row), txn))
                },
            )
            .await
        })
        .await
    }

    /// One clinic: any role held there, or `org_admin`.
    pub async fn get_clinic(&self, actor: &Actor, id: Uuid) -> Result<Clinic> {
        let row = clinics::get(self.db().read(), actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("clinic"))?;
        actor.require(Action::ClinicRead, Scope::Clinic(id))?;
        Ok(row.into())
    }

    /// The clinics the caller may see.
    pub async fn list_clinics(&self, actor: &Actor, page: &PageParams) -> Result<Page<Clinic>> {
        let page = page.parse()?;
        let only = permission::clinics_for(&actor.grants, Action::ClinicRead);
        let rows = clinics::list(self.db().read(), actor.org_id, only.as_deref(), page).await?;
        Ok(Page::from_store(rows, Clinic::from))
    }

    /// Changes a clinic (`org_admin`).
    pub async fn update_clinic(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ClinicChanges,
    ) -> Result<Clinic> {
        let subject = Subject::new("clinic", Some(id)).clinic(id);
        self.audited(actor, "clinic.update", subject, async move {
            let mut errors = ValidationErrors::new();
            let name = changes
                .name
                .as_deref()
                .and_then(|n| errors.check("name", Name::parse(n)));
            let address = optional_text(&mut errors, "address", changes.address.as_deref(), 500);
            let phone = optional_text(&mut errors, "phone", changes.phone.as_deref(), 40);
            let txn = Txn::begin(self.db()).await?;
            let row = clinics::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("clinic"))?;
            actor.require(Action::ClinicUpdate, Scope::Clinic(id))?;
            errors.into_result()?;
            let mut active: clinic::ActiveModel = row.into();
            if let Some(name) = name {
                active.name = Set(name.to_string());
            }
            if changes.address.is_some() {
                active.address = Set(address);
            }
            if changes.phone.is_some() {
                active.phone = Set(phone);
            }
            if let Some(flag) = changes.active {
                active.active = Set(flag);
            }
            if let Some(zone) = changes.timezone {
                active.timezone = Set(zone.name().to_owned());
            }
            active.updated_at = Set(Utc::now());
            let row = clinics::update(&txn, active).await?;
            txn.audit(AuditEvent::by(actor, "clinic.update", "clinic", Some(id)).detail(&changes));
            txn.commit().await?;
            Ok(row.into())
        })
        .await
    }
}
