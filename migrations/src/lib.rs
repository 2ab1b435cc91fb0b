//! skinledger's schema as sea-orm migrations, neutral between SQLite and PostgreSQL.
//!
//! Every table of tenant data carries `organization_id`, so that a distributed PostgreSQL can
//! shard by it and every query can be scoped by it.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_foundation;
mod m20261122_000001_clinical;
mod m20261123_000001_inventory;
mod m20261206_000001_local_time_and_serials;
mod m20261206_000002_disposals;
mod m20261206_000003_login_attempts;
mod m20261206_000004_refresh_retry;
mod m20261206_000005_staff_sessions;
mod m20261206_000006_login_sources;
mod m20261206_000007_events;
mod m20261206_000008_search_indexes;
mod m20261206_000009_webhooks;
mod m20261206_000010_audit_chain;
mod m20261206_000011_lot_holds;
mod m20261206_000012_trace_columns;

/// Applies skinledger's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_foundation::Migration),
            Box::new(m20261122_000001_clinical::Migration),
            Box::new(m20261123_000001_inventory::Migration),
            Box::new(m20261206_000001_local_time_and_serials::Migration),
            Box::new(m20261206_000002_disposals::Migration),
            Box::new(m20261206_000003_login_attempts::Migration),
            Box::new(m20261206_000004_refresh_retry::Migration),
            Box::new(m20261206_000005_staff_sessions::Migration),
            Box::new(m20261206_000006_login_sources::Migration),
            Box::new(m20261206_000007_events::Migration),
            Box::new(m20261206_000008_search_indexes::Migration),
            Box::new(m20261206_000009_webhooks::Migration),
            Box::new(m20261206_000010_audit_chain::Migration),
            Box::new(m20261206_000011_lot_holds::Migration),
            Box::new(m20261206_000012_trace_columns::Migration),
        ]
    }
}
