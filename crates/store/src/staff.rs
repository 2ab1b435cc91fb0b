//! Staff members and their roles.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationDef, Set,
};
use skinledger_domain::role::{Grant, Role};
use uuid::Uuid;

use crate::codec::Text;
use crate::entities::{staff, staff_role};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts a staff member.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: staff::ActiveModel,
) -> Result<staff::Model, DbErr> {
    row.insert(db).await
}

/// Saves changes to a staff member.
pub async fn update(
    db: &impl ConnectionTrait,
    row: staff::ActiveModel,
) -> Result<staff::Model, DbErr> {
    row.update(db).await
}

/// Replaces a staff member's password hash with a new hash of the same password, if the stored
/// one is still `old` (a password changed meanwhile is kept). Nothing else changes: sessions
/// stay valid and the row's `updated_at` stays, since the password did not change.
pub async fn renew_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    old: &str,
    new: &str,
) -> Result<(), DbErr> {
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(new))
        .filter(staff::Column::Id.eq(id))
        .filter(staff::Column::PasswordHash.eq(old))
        .exec(db)
        .await
        .map(drop)
}

/// One staff member of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<staff::Model>, DbErr> {
    scoped::get::<staff::Entity>(db, org, id).await
}

/// A staff member found by login email.
pub async fn by_email(
    db: &impl ConnectionTrait,
    org: Uuid,
    email: &str,
) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::OrganizationId.eq(org))
        .filter(staff::Column::Email.eq(email))
        .one(db)
        .await
}

/// A page of staff; with `at_clinics`, only those holding a role at one of those clinics.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    at_clinics: Option<&[Uuid]>,
    page: PageRequest,
) -> Result<Page<staff::Model>, DbErr> {
    let mut query = staff::Entity::find().filter(staff::Column::OrganizationId.eq(org));
    if let Some(clinics) = at_clinics {
        let holders: Vec<Uuid> = staff_role::Entity::find()
            .select_only()
            .column(staff_role::Column::StaffId)
            .filter(staff_role::Column::OrganizationId.eq(org))
            .filter(staff_role::Column::ClinicId.is_in(clinics.iter().copied()))
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        query = query.filter(staff::Column::Id.is_in(holders));
    }
    scoped::page(db, query, page).await
}

/// Every role row of one staff member.
pub async fn roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
) -> Result<Vec<staff_role::Model>, DbErr> {
    staff_role::Entity::find()
        .filter(staff_role::Column::OrganizationId.eq(org))
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .order_by_asc(staff_role::Column::Role)
        .all(db)
        .await
}

/// The roles, as `(clinic, role)` pairs, of a staff member who may act now: active, and still
/// at session version `session`. `None` when there is no such staff member.
///
/// One statement: the staff row joined to its roles, so that resolving the caller of a request
/// costs one round trip to the database.
pub async fn acting_roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
    session: i32,
) -> Result<Option<Vec<(Option<Uuid>, Role)>>, DbErr> {
    roles_if_active(db, org, staff_id, Some(session)).await
}

/// The roles, as `(clinic, role)` pairs, of a staff member who is active, whatever their
/// session; `None` when there is no such staff member. One statement, as [`acting_roles`].
pub async fn active_roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
) -> Result<Option<Vec<(Option<Uuid>, Role)>>, DbErr> {
    roles_if_active(db, org, staff_id, None).await
}

async fn roles_if_active(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
    session: Option<i32>,
) -> Result<Option<Vec<(Option<Uuid>, Role)>>, DbErr> {
    let mut query = staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .column(staff_role::Column::ClinicId)
        .column(staff_role::Column::Role)
        .join_rev(JoinType::LeftJoin, roles_of_staff())
        .filter(staff::Column::OrganizationId.eq(org))
        .filter(staff::Column::Id.eq(staff_id))
        .filter(staff::Column::Active.eq(true));
    if let Some(session) = session {
        query = query.filter(staff::Column::SessionVersion.eq(session));
    }
    let rows: Vec<(Uuid, Option<Uuid>, Option<Text<Role>>)> = query
        .order_by_asc(staff_role::Column::Role)
        .order_by_asc(staff_role::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .filter_map(|(_, clinic, role)| role.map(|role| (clinic, *role)))
            .collect(),
    ))
}

/// A staff member's role rows, matched on organisation and staff id.
fn roles_of_staff() -> RelationDef {
    staff_role::Entity::belongs_to(staff::Entity)
        .from((
            staff_role::Column::OrganizationId,
            staff_role::Column::StaffId,
        ))
        .to((staff::Column::OrganizationId, staff::Column::Id))
        .into()
}

/// Every role row of several staff members.
pub async fn roles_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_ids: &[Uuid],
) -> Result<Vec<staff_role::Model>, DbErr> {
    staff_role::Entity::find()
        .filter(staff_role::Column::OrganizationId.eq(org))
        .filter(staff_role::Column::StaffId.is_in(staff_ids.iter().copied()))
        .all(db)
        .await
}

/// Replaces a staff member's roles with `roles`.
pub async fn replace_roles(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
    roles: &[Grant],
) -> Result<(), DbErr> {
    staff_role::Entity::delete_many()
        .filter(staff_role::Column::OrganizationId.eq(org))
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .exec(db)
        .await?;
    let now = chrono::Utc::now();
    for Grant { role, clinic_id } in roles {
        staff_role::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            staff_id: Set(staff_id),
            clinic_id: Set(*clinic_id),
            role: Set((*role).into()),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Whether the organisation has an active `org_admin` other than `except`.
pub async fn other_active_org_admins(
    db: &impl ConnectionTrait,
    org: Uuid,
    except: Uuid,
) -> Result<bool, DbErr> {
    let admins: Vec<Uuid> = staff_role::Entity::find()
        .select_only()
        .column(staff_role::Column::StaffId)
        .filter(staff_role::Column::OrganizationId.eq(org))
        .filter(staff_role::Column::Role.eq(Role::OrgAdmin.as_str()))
        .filter(staff_role::Column::StaffId.ne(except))
        .into_tuple()
        .all(db)
        .await?;
    let active = staff::Entity::find()
        .filter(staff::Column::OrganizationId.eq(org))
        .filter(staff::Column::Id.is_in(admins))
        .filter(staff::Column::Active.eq(true))
        .count(db)
        .await?;
    Ok(active > 0)
}
