//! Staff members: add, read, list, change, deactivate, and set their roles.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::names::{Email, Name, Password};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_domain::role::{Grant, Role};
use skinledger_store::entities::staff as staff_row;
use skinledger_store::{clinics, is_unique_violation, staff, tokens};
use uuid::Uuid;

use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::events::{Change, EventData};
use crate::grants::{RoleGrant, grants_of};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::txn::Txn;
use crate::{App, secrets};
use skinledger_domain::events::EventType;

/// A staff member as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StaffMember {
    /// Their id.
    pub id: Uuid,
    /// Their login email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Whether they may log in.
    pub active: bool,
    /// Their roles.
    pub roles: Vec<RoleGrant>,
    /// When they were added.
    pub created_at: DateTime<Utc>,
    /// When their details last changed.
    pub updated_at: DateTime<Utc>,
}

impl StaffMember {
    fn from_row(m: staff_row::Model, grants: &[Grant]) -> Self {
        Self {
            id: m.id,
            email: m.email,
            name: m.name,
            active: m.active,
            roles: grants.iter().copied().map(RoleGrant::from).collect(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new staff member, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Login email, unique in the organisation.
    pub email: String,
    /// Name.
    pub name: String,
    /// Initial password (at least 12 characters). Serialised only as a digest, for comparing
    /// retried requests.
    #[serde(serialize_with = "serialize_digest")]
    pub password: String,
    /// Initial roles.
    #[serde(default)]
    pub roles: Vec<RoleGrant>,
}

fn serialize_digest<S: serde::Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&secrets::digest(secret))
}

fn serialize_optional_digest<S: serde::Serializer>(
    secret: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serialize_digest(secret, serializer),
        None => serializer.serialize_none(),
    }
}

/// Changes to a staff member; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChanges {
    /// A new email.
    pub email: Option<String>,
    /// A new name.
    pub name: Option<String>,
    /// A new password (at least 12 characters). Changing one's own password or email needs
    /// `current_password` (403 `reauthentication_required` without it); an `org_admin` may
    /// reset another staff member's, which ends all their sessions and access tokens.
    /// Serialised only as a digest, for comparing retried requests.
    #[serde(default, serialize_with = "serialize_optional_digest")]
    #[schema(format = Password, min_length = 12)]
    pub password: Option<String>,
    /// The caller's current password, required to change their own password or email.
    /// Serialised only as a digest.
    #[serde(default, serialize_with = "serialize_optional_digest")]
    #[schema(format = Password)]
    pub current_password: Option<String>,
}

/// Parses requested roles, naming each bad entry, and checks their clinics exist.
async fn parse_roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    roles: &[RoleGrant],
    errors: &mut ValidationErrors,
) -> Result<BTreeSet<Grant>> {
    let mut grants = BTreeSet::new();
    for (i, r) in roles.iter().enumerate() {
        match Grant::new(r.role, r.clinic_id) {
            Ok(g) => {
                if !grants.insert(g) {
                    errors.add(format!("roles[{i}]"), "is listed twice");
                }
            }
            Err(e) => errors.add(format!("roles[{i}].clinic_id"), e.to_string()),
        }
    }
    let wanted: Vec<Uuid> = grants.iter().filter_map(|g| g.clinic_id).collect();
    let found = clinics::existing(db, org, &wanted).await?;
    for (i, r) in roles.iter().enumerate() {
        if let Some(clinic) = r.clinic_id
            && !r.role.is_org_wide()
            && !found.contains(&clinic)
        {
            errors.add(
                format!("roles[{i}].clinic_id"),
                "is not a clinic of this organisation",
            );
        }
    }
    Ok(grants)
}

/// Whether `actor` may make the change from `before` to `after`: `org_admin` may change
/// anything; a clinic manager only clinic roles at clinics they manage, never `org_admin`.
fn may_change_roles(actor: &Actor, before: &BTreeSet<Grant>, after: &BTreeSet<Grant>) -> bool {
    before.symmetric_difference(after).all(|g| {
        let scope = g.clinic_id.map_or(Scope::Anywhere, Scope::Clinic);
        actor.may(permission::granting(g.role), scope)
    })
}

/// 403 `reauthentication_required`: changing one's own password or email needs the current
/// password, so that a stolen access token cannot lock its owner out.
fn reauthentication_required() -> Error {
    Error::Forbidden {
        code: ErrorCode::ReauthenticationRequired,
        detail: "send your current password (`current_password`) to change your password or email"
            .into(),
    }
}

/// 409 `last_org_admin`.
fn last_org_admin() -> Error {
    Error::conflict(
        ErrorCode::LastOrgAdmin,
        "the organisation must keep at least one active org_admin",
    )
}

impl App {
    /// Adds a staff member (`org_admin`).
    pub async fn create_staff(
        &self,
        actor: &Actor,
        new: NewStaff,
        key: Option<&IdempotencyKey>,
    ) -> Result<StaffMember> {
        let subject = Subject::new("staff", None);
        self.audited(actor, "staff.create", subject, async move {
            actor.require(Action::StaffCreate, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let email = errors.check("email", Email::parse(&new.email));
            let name = errors.check("name", Name::parse(&new.name));
            let password = errors.check("password", Password::parse(&new.password));
            let grants =
                parse_roles(self.db().read(), actor.org_id, &new.roles, &mut errors).await?;
            errors.into_result()?;
            let (Some(email), Some(name), Some(password)) = (email, name, password) else {
                return Err(Error::Internal("validated fields missing".into()));
            };
            if !may_change_roles(actor, &BTreeSet::new(), &grants) {
                return Err(Error::forbidden());
            }
            let hash = secrets::hash_password(password.expose().to_owned()).await?;
            let requested_roles = new.roles.clone();
            idempotency::run(
                self.db(),
                actor,
                key,
                "staff.create",
                &new,
                |txn| async move {
                    let now = Utc::now();
                    let inserted = staff::insert(
                        &txn,
                        staff_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            email: Set(email.to_string()),
                            name: Set(name.to_string()),
                            password_hash: Set(hash),
                            session_version: Set(0),
                            active: Set(true),
                            created_at: Set(now),
                            updated_at: Set(now),
                        },
                    )
                    .await;
                    let row = match inserted {
                        Ok(row) => row,
                        Err(e) if is_unique_violation(&e) => {
                            return Err(Error::conflict(
                                ErrorCode::AlreadyExists,
                                "a staff member with this email exists",
                            ));
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let grants: Vec<Grant> = grants.iter().copied().collect();
                    staff::replace_roles(&txn, actor.org_id, row.id, &grants).await?;
                    txn.audit(
                        AuditEvent::by(actor, "staff.create", "staff", Some(row.id))
                            .detail(&requested_roles),
                    );
                    txn.publish(actor.org_id, vec![staff_changed(row.id, "created")]);
                    let grants: Vec<Grant> = grants.into_iter().collect();
                    Ok((StaffMember::from_row(row, &grants), txn))
                },
            )
            .await
        })
        .await
    }

    /// Whether the caller may see another staff member who holds `grants`.
    fn may_see_staff(actor: &Actor, id: Uuid, grants: &[Grant]) -> bool {
        actor.staff_id() == Some(id)
            || actor.is_org_admin()
            || grants.iter().any(|g| {
                g.clinic_id
                    .is_some_and(|c| actor.may(Action::StaffRead, Scope::Clinic(c)))
            })
    }

    /// One staff member: oneself, or staff at clinics where the caller may read staff.
    pub async fn get_staff(&self, actor: &Actor, id: Uuid) -> Result<StaffMember> {
        let db = self.db().read();
        let row = staff::get(db, actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("staff"))?;
        let grants = grants_of(&staff::roles(db, actor.org_id, id).await?);
        if !Self::may_see_staff(actor, id, &grants) {
            return Err(Error::forbidden());
        }
        Ok(StaffMember::from_row(row, &grants))
    }

    /// Staff the caller may see: all for `org_admin`, those at their clinics for managers,
    /// oneself for everyone else.
    pub async fn list_staff(&self, actor: &Actor, page: &PageParams) -> Result<Page<StaffMember>> {
        let request = page.parse()?;
        let db = self.db().read();
        let page = match permission::clinics_for(&actor.grants, Action::StaffRead) {
            None => staff::list(db, actor.org_id, None, request).await?,
            Some(clinics) if !clinics.is_empty() => {
                staff::list(db, actor.org_id, Some(&clinics), request).await?
            }
            Some(_) => {
                let own = match actor.staff_id() {
                    Some(id) => staff::get(db, actor.org_id, id).await?,
                    None => None,
                };
                let own = own.filter(|row| request.after.is_none_or(|after| row.id > after));
                skinledger_store::Page {
                    items: own.into_iter().collect(),
                    next_after: None,
                }
            }
        };
        let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
        let roles = staff::roles_of(db, actor.org_id, &ids).await?;
        Ok(Page::from_store(page, |row| {
            let mine: Vec<_> = roles
                .iter()
                .filter(|r| r.staff_id == row.id)
                .cloned()
                .collect();
            StaffMember::from_row(row, &grants_of(&mine))
        }))
    }

    /// Changes a staff member's email, name or password (`org_admin`; anyone for themselves).
    pub async fn update_staff(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: StaffChanges,
    ) -> Result<StaffMember> {
        let subject = Subject::new("staff", Some(id));
        self.audited(actor, "staff.update", subject, async move {
            let mut errors = ValidationErrors::new();
            let email = changes
                .email
                .as_deref()
                .and_then(|e| errors.check("email", Email::parse(e)));
            let name = changes
                .name
                .as_deref()
                .and_then(|n| errors.check("name", Name::parse(n)));
            let password = changes
                .password
                .as_deref()
                .and_then(|p| errors.check("password", Password::parse(p)));
            // Hash before the transaction: on SQLite it would hold the single writer meanwhile.
            let new_hash = match &password {
                Some(p) => Some(secrets::hash_password(p.expose().to_owned()).await?),
                None => None,
            };
            let txn = Txn::begin(self.db()).await?;
            let row = staff::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("staff"))?;
            let is_self = actor.staff_id() == Some(id);
            if !is_self {
                actor.require(Action::StaffUpdate, Scope::Anywhere)?;
            }
            if is_self && (changes.password.is_some() || changes.email.is_some()) {
                let proven = match changes.current_password.clone() {
                    Some(current) => {
                        secrets::verify_password(current, Some(row.password_hash.clone())).await?
                    }
                    None => false,
                };
                if !proven {
                    return Err(reauthentication_required());
                }
            }
            errors.into_result()?;
            let row_session_version = row.session_version;
            let mut active: staff_row::ActiveModel = row.into();
            if let Some(email) = email {
                active.email = Set(email.to_string());
            }
            if let Some(name) = name {
                active.name = Set(name.to_string());
            }
            let password_changed = new_hash.is_some();
            if let Some(hash) = new_hash {
                active.password_hash = Set(hash);
                // Access tokens issued before carry the old version and stop working.
                active.session_version = Set(row_session_version + 1);
            }
            active.updated_at = Set(Utc::now());
            let row = match staff::update(&txn, active).await {
                Ok(row) => row,
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::conflict(
                        ErrorCode::AlreadyExists,
                        "a staff member with this email exists",
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            if password_changed {
                // A new password ends every session that the old one opened.
                tokens::revoke_all_of_staff(&txn, actor.org_id, id, Utc::now()).await?;
            }
            let grants = grants_of(&staff::roles(&txn, actor.org_id, id).await?);
            txn.audit(AuditEvent::by(actor, "staff.update", "staff", Some(id)).detail(&changes));
            txn.publish(actor.org_id, vec![staff_changed(id, "updated")]);
            txn.commit().await?;
            self.forget_caller(actor.org_id, crate::Principal::Staff(id));
            Ok(StaffMember::from_row(row, &grants))
        })
        .await
    }

    /// Deactivates a staff member: no more logins, refreshes or access (`org_admin`).
    pub async fn deactivate_staff(&self, actor: &Actor, id: Uuid) -> Result<StaffMember> {
        let subject = Subject::new("staff", Some(id));
        self.audited(actor, "staff.deactivate", subject, async move {
            let txn = Txn::begin(self.db()).await?;
            let row = staff::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("staff"))?;
            actor.require(Action::StaffDeactivate, Scope::Anywhere)?;
            if actor.staff_id() == Some(id) {
                return Err(Error::conflict(
                    ErrorCode::CannotDeactivateSelf,
                    "you cannot deactivate yourself",
                ));
            }
            let holds_admin = staff::roles(&txn, actor.org_id, id)
                .await?
                .iter()
                .any(|r| r.role == Role::OrgAdmin);
            if row.active
                && holds_admin
                && !staff::other_active_org_admins(&txn, actor.org_id, id).await?
            {
                return Err(last_org_admin());
            }
            let now = Utc::now();
            let mut active: staff_row::ActiveModel = row.into();
            active.active = Set(false);
            active.updated_at = Set(now);
            let row = staff::update(&txn, active).await?;
            tokens::revoke_all_of_staff(&txn, actor.org_id, id, now).await?;
            let grants = grants_of(&staff::roles(&txn, actor.org_id, id).await?);
            txn.audit(AuditEvent::by(actor, "staff.deactivate", "staff", Some(id)));
            txn.publish(actor.org_id, vec![staff_changed(id, "deactivated")]);
            txn.commit().await?;
            self.forget_caller(actor.org_id, crate::Principal::Staff(id));
            Ok(StaffMember::from_row(row, &grants))
        })
        .await
    }

    /// Replaces a staff member's roles. `org_admin` may set any; a clinic manager may only add
    /// or remove clinic roles at clinics they manage, and never `org_admin`.
    pub async fn set_staff_roles(
        &self,
        actor: &Actor,
        id: Uuid,
        roles: Vec<RoleGrant>,
    ) -> Result<StaffMember> {
        let subject = Subject::new("staff", Some(id));
        self.audited(actor, "staff.roles", subject, async move {
            if !actor.may(Action::StaffRolesManage, Scope::Anywhere) {
                // Still answer 404 first for ids of other organisations.
                staff::get(self.db().read(), actor.org_id, id)
                    .await?
                    .ok_or(Error::NotFound("staff"))?;
                return Err(Error::forbidden());
            }
            let txn = Txn::begin(self.db()).await?;
            let row = staff::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("staff"))?;
            if actor.staff_id() == Some(id) {
                return Err(Error::Forbidden {
                    code: ErrorCode::Forbidden,
                    detail: "nobody changes their own roles".into(),
                });
            }
            let mut errors = ValidationErrors::new();
            let after = parse_roles(&txn, actor.org_id, &roles, &mut errors).await?;
            errors.into_result()?;
            let before: BTreeSet<Grant> = grants_of(&staff::roles(&txn, actor.org_id, id).await?)
                .into_iter()
                .collect();
            if !may_change_roles(actor, &before, &after) {
                return Err(Error::forbidden());
            }
            let is_admin = |set: &BTreeSet<Grant>| set.iter().any(|g| g.role == Role::OrgAdmin);
            if is_admin(&before)
                && !is_admin(&after)
                && !staff::other_active_org_admins(&txn, actor.org_id, id).await?
            {
                return Err(last_org_admin());
            }
            let after: Vec<Grant> = after.iter().copied().collect();
            staff::replace_roles(&txn, actor.org_id, id, &after).await?;
            txn.audit(AuditEvent::by(actor, "staff.set_roles", "staff", Some(id)).detail(&roles));
            txn.publish(actor.org_id, vec![staff_changed(id, "roles")]);
            txn.commit().await?;
            self.forget_caller(actor.org_id, crate::Principal::Staff(id));
            Ok(StaffMember::from_row(row, &after))
        })
        .await
    }
}

/// `staff.changed` for a staff member: what changed, never the values.
fn staff_changed(id: Uuid, change: &str) -> Change {
    Change::new(EventType::StaffChanged)
        .subject(id)
        .data(EventData {
            change: Some(change.to_owned()),
            ..EventData::default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Principal;

    fn actor(grants: Vec<Grant>) -> Actor {
        Actor {
            org_id: Uuid::now_v7(),
            principal: Principal::Staff(Uuid::now_v7()),
            grants,
            request_id: None,
        }
    }

    #[test]
    fn a_manager_changes_roles_only_at_their_clinics_and_never_grants_org_admin() {
        let (here, there) = (Uuid::now_v7(), Uuid::now_v7());
        let manager = actor(vec![Grant {
            role: Role::ClinicManager,
            clinic_id: Some(here),
        }]);
        let nurse_here: BTreeSet<_> = [Grant {
            role: Role::Nurse,
            clinic_id: Some(here),
        }]
        .into();
        let nurse_there: BTreeSet<_> = [Grant {
            role: Role::Nurse,
            clinic_id: Some(there),
        }]
        .into();
        let admin: BTreeSet<_> = [Grant {
            role: Role::OrgAdmin,
            clinic_id: None,
        }]
        .into();
        assert!(may_change_roles(&manager, &BTreeSet::new(), &nurse_here));
        assert!(!may_change_roles(&manager, &BTreeSet::new(), &nurse_there));
        assert!(!may_change_roles(&manager, &BTreeSet::new(), &admin));
        // Roles elsewhere that stay untouched do not stop a change here.
        let both: BTreeSet<_> = nurse_here.union(&nurse_there).copied().collect();
        assert!(may_change_roles(&manager, &nurse_there, &both));
    }
}
