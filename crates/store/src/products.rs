//! The product catalogue and per-clinic reorder points.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use crate::entities::{clinic_reorder_point, product};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Filters of the product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Only products of this kind (`roller`, `pen_cartridge`, `other`).
    pub kind: Option<String>,
    /// Only the product with this GTIN (14 digits).
    pub gtin: Option<String>,
}

/// Inserts a product; fails with a unique violation when its GTIN is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: product::ActiveModel,
) -> Result<product::Model, DbErr> {
    row.insert(db).await
}

/// One product of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<product::Model>, DbErr> {
    scoped::get::<product::Entity>(db, org, id).await
}

/// The organisation's product with this GTIN (14 digits).
pub async fn by_gtin(
    db: &impl ConnectionTrait,
    org: Uuid,
    gtin: &str,
) -> Result<Option<product::Model>, DbErr> {
    product::Entity::find()
        .filter(product::Column::OrganizationId.eq(org))
        .filter(product::Column::Gtin.eq(gtin))
        .one(db)
        .await
}

/// The organisation's products among `ids`.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<product::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    product::Entity::find()
        .filter(product::Column::OrganizationId.eq(org))
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Every product of the organisation, oldest first.
pub async fn all(db: &impl ConnectionTrait, org: Uuid) -> Result<Vec<product::Model>, DbErr> {
    product::Entity::find()
        .filter(product::Column::OrganizationId.eq(org))
        .order_by_asc(product::Column::Id)
        .all(db)
        .await
}

/// Saves the `Set` fields of `changes` and increments the version, only if the stored version
/// is still `expected_version`. Answers whether the row was updated.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    expected_version: i32,
    changes: product::ActiveModel,
) -> Result<bool, DbErr> {
    let result = product::Entity::update_many()
        .set(changes)
        .col_expr(
            product::Column::Version,
            Expr::col(product::Column::Version).add(1),
        )
        .filter(product::Column::OrganizationId.eq(org))
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A page of the organisation's products, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    filter: &ProductFilter,
    page: PageRequest,
) -> Result<Page<product::Model>, DbErr> {
    let mut query = product::Entity::find().filter(product::Column::OrganizationId.eq(org));
    if let Some(kind) = &filter.kind {
        query = query.filter(product::Column::Kind.eq(kind.as_str()));
    }
    if let Some(gtin) = &filter.gtin {
        query = query.filter(product::Column::Gtin.eq(gtin.as_str()));
    }
    scoped::page(db, query, page).await
}

/// The clinic reorder points of the given products.
pub async fn reorder_points_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    product_ids: &[Uuid],
) -> Result<Vec<clinic_reorder_point::Model>, DbErr> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    clinic_reorder_point::Entity::find()
        .filter(clinic_reorder_point::Column::OrganizationId.eq(org))
        .filter(clinic_reorder_point::Column::ProductId.is_in(product_ids.iter().copied()))
        .order_by_asc(clinic_reorder_point::Column::ClinicId)
        .all(db)
        .await
}

/// Every clinic reorder point of the organisation.
pub async fn all_reorder_points(
    db: &impl ConnectionTrait,
    org: Uuid,
) -> Result<Vec<clinic_reorder_point::Model>, DbErr> {
    clinic_reorder_point::Entity::find()
        .filter(clinic_reorder_point::Column::OrganizationId.eq(org))
        .all(db)
        .await
}

/// Sets a clinic's own reorder point for a product, replacing any earlier one.
pub async fn set_reorder_point(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    product: Uuid,
    reorder_point: i32,
) -> Result<(), DbErr> {
    clinic_reorder_point::Entity::insert(clinic_reorder_point::ActiveModel {
        organization_id: Set(org),
        clinic_id: Set(clinic),
        product_id: Set(product),
        reorder_point: Set(reorder_point),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            clinic_reorder_point::Column::ClinicId,
            clinic_reorder_point::Column::ProductId,
        ])
        .update_columns([
            clinic_reorder_point::Column::ReorderPoint,
            clinic_reorder_point::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Removes a clinic's own reorder point, so the product's applies again.
pub async fn clear_reorder_point(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    product: Uuid,
) -> Result<(), DbErr> {
    clinic_reorder_point::Entity::delete_many()
        .filter(clinic_reorder_point::Column::OrganizationId.eq(org))
        .filter(clinic_reorder_point::Column::ClinicId.eq(clinic))
        .filter(clinic_reorder_point::Column::ProductId.eq(product))
        .exec(db)
        .await?;
    Ok(())
}
