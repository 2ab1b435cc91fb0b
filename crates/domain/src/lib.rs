//! skinledger's domain: everything that is true of microneedling practice management whatever
//! the transport or the database. Pure types and functions; no IO, no async, no ORM.
//!
//! Start with [`role`] and [`permission`] for who may do what, [`screening`] and [`eligibility`]
//! for what the product refuses to let happen at the treatment chair, and [`fefo`] and [`gs1`]
//! for the single-use devices every treatment consumes.

pub mod aftercare;
pub mod audit_chain;
pub mod calendar;
pub mod clinical;
pub mod contraindication;
pub mod course;
pub mod depth;
pub mod eligibility;
pub mod error;
pub mod error_code;
pub mod events;
pub mod fefo;
pub mod gs1;
pub mod gtin;
pub mod inventory;
pub mod local_time;
pub mod names;
#[cfg(feature = "openapi")]
mod openapi;
pub mod permission;
pub mod policy;
pub mod role;
pub mod screening;
pub mod signal;
pub mod webhook;
pub mod wire;

pub use error::{FieldError, ValidationErrors};
pub use error_code::ErrorCode;
