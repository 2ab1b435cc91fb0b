//! sea-orm entities, one per table.

pub mod adverse_event;
pub mod api_client;
pub mod audit_event;
pub mod client;
pub mod clinic;
pub mod course;
pub mod idempotency_key;
pub mod login_failure;
pub mod organization;
pub mod policy;
pub mod refresh_token;
pub mod screening;
pub mod screening_clearance;
pub mod staff;
pub mod staff_role;
pub mod treatment;
pub mod treatment_addendum;
