//! sea-orm entities, one per table.

pub mod api_client;
pub mod audit_event;
pub mod clinic;
pub mod idempotency_key;
pub mod login_failure;
pub mod organization;
pub mod refresh_token;
pub mod staff;
pub mod staff_role;
