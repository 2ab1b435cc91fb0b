//! Treatment records, their addenda and adverse events.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use skinledger_domain::clinical::TreatmentStatus;
use uuid::Uuid;

use crate::entities::{adverse_event, treatment, treatment_addendum};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts a treatment.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: treatment::ActiveModel,
) -> Result<treatment::Model, DbErr> {
    row.insert(db).await
}

/// One treatment of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<treatment::Model>, DbErr> {
    scoped::get::<treatment::Entity>(db, org, id).await
}

/// Saves the `Set` fields of `changes` and increments the version, only while the treatment is
/// a draft at `expected_version`: a signed record is never updated, whatever the caller checked.
/// Answers whether the row was updated.
pub async fn update_draft_if_version(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    expected_version: i32,
    changes: treatment::ActiveModel,
) -> Result<bool, DbErr> {
    let result = treatment::Entity::update_many()
        .set(changes)
        .col_expr(
            treatment::Column::Version,
            Expr::col(treatment::Column::Version).add(1),
        )
        .filter(treatment::Column::OrganizationId.eq(org))
        .filter(treatment::Column::Id.eq(id))
        .filter(treatment::Column::Version.eq(expected_version))
        .filter(treatment::Column::Status.eq(TreatmentStatus::Draft.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The client's treatments other than `except`, the deepest first within a day.
fn client_sessions(org: Uuid, client: Uuid, except: Option<Uuid>) -> Select<treatment::Entity> {
    let mut query = treatment::Entity::find()
        .filter(treatment::Column::OrganizationId.eq(org))
        .filter(treatment::Column::ClientId.eq(client));
    if let Some(id) = except {
        query = query.filter(treatment::Column::Id.ne(id));
    }
    query
}

/// The client's latest treatment performed on or before `on`, leaving out `except`.
pub async fn last_on_or_before(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    on: NaiveDate,
    except: Option<Uuid>,
) -> Result<Option<treatment::Model>, DbErr> {
    client_sessions(org, client, except)
        .filter(treatment::Column::PerformedOn.lte(on))
        .order_by_desc(treatment::Column::PerformedOn)
        .order_by_desc(treatment::Column::NeedleDepthHundredths)
        .one(db)
        .await
}

/// The client's first treatment performed after `on`, leaving out `except`: the deepest of
/// that day when there are several.
pub async fn first_after(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    on: NaiveDate,
    except: Option<Uuid>,
) -> Result<Option<treatment::Model>, DbErr> {
    client_sessions(org, client, except)
        .filter(treatment::Column::PerformedOn.gt(on))
        .order_by_asc(treatment::Column::PerformedOn)
        .order_by_desc(treatment::Column::NeedleDepthHundredths)
        .one(db)
        .await
}

/// A page of one client's treatments, oldest recorded first.
pub async fn list_for_client(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    page: PageRequest,
) -> Result<Page<treatment::Model>, DbErr> {
    let query = treatment::Entity::find()
        .filter(treatment::Column::OrganizationId.eq(org))
        .filter(treatment::Column::ClientId.eq(client));
    scoped::page(db, query, page).await
}

/// The course and day of every treatment that counts towards one of `course_ids`.
pub async fn course_sessions(
    db: &impl ConnectionTrait,
    org: Uuid,
    course_ids: &[Uuid],
) -> Result<Vec<(Uuid, NaiveDate)>, DbErr> {
    if course_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Option<Uuid>, NaiveDate)> = treatment::Entity::find()
        .select_only()
        .column(treatment::Column::CourseId)
        .column(treatment::Column::PerformedOn)
        .filter(treatment::Column::OrganizationId.eq(org))
        .filter(treatment::Column::CourseId.is_in(course_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(course, on)| course.map(|c| (c, on)))
        .collect())
}

/// Appends an addendum.
pub async fn insert_addendum(
    db: &impl ConnectionTrait,
    row: treatment_addendum::ActiveModel,
) -> Result<treatment_addendum::Model, DbErr> {
    row.insert(db).await
}

/// Every addendum of the given treatments, oldest first.
pub async fn addenda_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_ids: &[Uuid],
) -> Result<Vec<treatment_addendum::Model>, DbErr> {
    if treatment_ids.is_empty() {
        return Ok(Vec::new());
    }
    treatment_addendum::Entity::find()
        .filter(treatment_addendum::Column::OrganizationId.eq(org))
        .filter(treatment_addendum::Column::TreatmentId.is_in(treatment_ids.iter().copied()))
        .order_by_asc(treatment_addendum::Column::Id)
        .all(db)
        .await
}

/// Appends an adverse event.
pub async fn insert_adverse_event(
    db: &impl ConnectionTrait,
    row: adverse_event::ActiveModel,
) -> Result<adverse_event::Model, DbErr> {
    row.insert(db).await
}

/// Every adverse event of the given treatments, oldest first.
pub async fn adverse_events_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_ids: &[Uuid],
) -> Result<Vec<adverse_event::Model>, DbErr> {
    if treatment_ids.is_empty() {
        return Ok(Vec::new());
    }
    adverse_event::Entity::find()
        .filter(adverse_event::Column::OrganizationId.eq(org))
        .filter(adverse_event::Column::TreatmentId.is_in(treatment_ids.iter().copied()))
        .order_by_asc(adverse_event::Column::Id)
        .all(db)
        .await
}

/// Every adverse event after a treatment that used a lot, oldest onset first.
pub async fn adverse_events_after_lot(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
) -> Result<Vec<adverse_event::Model>, DbErr> {
    use crate::entities::treatment_consumable as used;
    let treatments = sea_orm::sea_query::Query::select()
        .column(used::Column::TreatmentId)
        .from(used::Entity)
        .and_where(Expr::col(used::Column::OrganizationId).eq(org))
        .and_where(Expr::col(used::Column::LotId).eq(lot))
        .to_owned();
    adverse_event::Entity::find()
        .filter(adverse_event::Column::OrganizationId.eq(org))
        .filter(adverse_event::Column::TreatmentId.in_subquery(treatments))
        .order_by_asc(adverse_event::Column::OnsetOn)
        .order_by_asc(adverse_event::Column::Id)
        .all(db)
        .await
}
