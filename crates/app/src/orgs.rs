//! Organisations: created from the command line with their first `org_admin`.

use sea_orm::Set;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::names::{Email, Name, Password, Slug};
use skinledger_domain::role::{Grant, Role};
use skinledger_store::entities::staff as staff_row;
use skinledger_store::{is_unique_violation, orgs, staff};
use uuid::Uuid;

use crate::ErrorCode;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, Result};
use crate::txn::Txn;
use crate::{App, secrets};

/// A new organisation and its first administrator.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Login handle, e.g. `glow-clinics`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The first `org_admin`'s email.
    pub admin_email: String,
    /// The first `org_admin`'s password.
    pub admin_password: String,
}

/// A created organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The first administrator's staff id.
    pub admin_id: Uuid,
}

impl App {
    /// Creates an organisation with one `org_admin`. Refuses an existing slug with
    /// `already_exists`.
    pub async fn create_organization(&self, new: NewOrganization) -> Result<Organization> {
        let mut errors = ValidationErrors::new();
        let slug = errors.check("slug", Slug::parse(&new.slug));
        let name = errors.check("name", Name::parse(&new.name));
        let email = errors.check("admin_email", Email::parse(&new.admin_email));
        let password = errors.check("admin_password", Password::parse(&new.admin_password));
        errors.into_result()?;
        let (Some(slug), Some(name), Some(email), Some(password)) = (slug, name, email, password)
        else {
            return Err(Error::Internal("validated fields missing".into()));
        };
        let hash = secrets::hash_password(password.expose().to_owned()).await?;
        let txn = Txn::begin(self.db()).await?;
        let org = match orgs::insert(&txn, Uuid::now_v7(), slug.as_str(), name.as_str()).await {
            Ok(org) => org,
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::conflict(
                    ErrorCode::AlreadyExists,
                    "an organisation with this slug exists",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let now = chrono::Utc::now();
        let admin = staff::insert(
            &txn,
            staff_row::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org.id),
                email: Set(email.to_string()),
                name: Set("Administrator".into()),
                password_hash: Set(hash),
                session_version: Set(0),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await?;
        staff::replace_roles(
            &txn,
            org.id,
            admin.id,
            &[Grant {
                role: Role::OrgAdmin,
                clinic_id: None,
            }],
        )
        .await?;
        txn.audit(AuditEvent {
            org_id: org.id,
            actor_kind: audit::ActorKind::System,
            actor_id: None,
            action: "organization.create",
            entity_kind: "organization",
            entity_id: Some(org.id),
            client_id: None,
            outcome: audit::AuditOutcome::Success,
            detail: None,
            request_id: None,
        });
        txn.commit().await?;
        Ok(Organization {
            id: org.id,
            slug: org.slug,
            name: org.name,
            admin_id: admin.id,
        })
    }
}
