//! skinledger's persistence: the schema as sea-orm entities, connections for SQLite and
//! PostgreSQL, and every query. Every query of tenant data takes the organisation id.
//! Functions take `&impl ConnectionTrait`, so the caller chooses the transaction.

pub mod api_clients;
pub mod audit;
mod batches;
pub mod clients;
pub mod clinics;
pub mod codec;
pub mod consumables;
pub mod courses;
pub mod db;
#[expect(
    missing_docs,
    reason = "entity fields are the table's columns, described where they are created, in migrations/; each entity says what its table holds"
)]
pub mod entities;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod journal;
pub mod lookups;
pub mod lots;
pub mod movements;
pub mod orgs;
pub mod paging;
pub mod policies;
pub mod products;
pub mod reader;
pub mod scoped;
pub mod screenings;
pub mod staff;
pub mod stock;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod transfers;
pub mod treatments;
pub mod units;
pub mod webhooks;

pub use db::{Db, DbSettings, PoolStats};
pub use error::{Failure, failure, is_constraint_violation, is_unique_violation};
pub use paging::{Page, PageRequest};
pub use reader::Reader;
pub use sea_orm;
