//! API clients: machine credentials of an organisation's own systems.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use skinledger_domain::role::Grant;
use uuid::Uuid;

use crate::codec::Json;
use crate::entities::api_client;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts an API client.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: api_client::ActiveModel,
) -> Result<api_client::Model, DbErr> {
    row.insert(db).await
}

/// Saves changes to an API client.
pub async fn update(
    db: &impl ConnectionTrait,
    row: api_client::ActiveModel,
) -> Result<api_client::Model, DbErr> {
    row.update(db).await
}

/// One API client of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<api_client::Model>, DbErr> {
    scoped::get::<api_client::Entity>(db, org, id).await
}

/// The stored grants of an API client that may act now (not revoked); `None` when there is no
/// such client. One statement.
pub async fn acting_grants(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<Vec<Grant>>, DbErr> {
    let grants: Option<Json<Vec<Grant>>> = api_client::Entity::find_by_id(id)
        .select_only()
        .column(api_client::Column::Grants)
        .filter(api_client::Column::OrganizationId.eq(org))
        .filter(api_client::Column::RevokedAt.is_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(grants.map(Json::into_inner))
}

/// An API client by its public client id, whichever organisation it belongs to: the client id
/// is what names the organisation at the `client_credentials` grant.
pub async fn by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<api_client::Model>, DbErr> {
    api_client::Entity::find()
        .filter(api_client::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

/// A page of the organisation's API clients.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    page: PageRequest,
) -> Result<Page<api_client::Model>, DbErr> {
    let query = api_client::Entity::find().filter(api_client::Column::OrganizationId.eq(org));
    scoped::page(db, query, page).await
}
