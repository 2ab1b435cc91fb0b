//! skinledger's persistence: the schema as sea-orm entities, connections for SQLite and
//! PostgreSQL, and every query. Every query of tenant data takes the organisation id.
//! Functions take `&impl ConnectionTrait`, so the caller chooses the transaction.

pub mod api_clients;
pub mod audit;
pub mod clients;
pub mod clinics;
pub mod courses;
pub mod db;
pub mod entities;
pub mod error;
pub mod idempotency;
pub mod orgs;
pub mod paging;
pub mod policies;
pub mod screenings;
pub mod staff;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod treatments;

pub use db::{Db, DbSettings};
pub use error::is_unique_violation;
pub use paging::{Page, PageRequest};
pub use sea_orm;
