//! sea-orm entities, one per table.

pub mod adverse_event;
pub mod api_client;
pub mod audit_event;
pub mod client;
pub mod clinic;
pub mod clinic_reorder_point;
pub mod course;
pub mod idempotency_key;
pub mod login_failure;
pub mod lot;
pub mod movement;
pub mod organization;
pub mod policy;
pub mod product;
pub mod refresh_token;
pub mod screening;
pub mod screening_clearance;
pub mod staff;
pub mod staff_role;
pub mod stock;
pub mod transfer;
pub mod transfer_line;
pub mod treatment;
pub mod treatment_addendum;
pub mod treatment_consumable;
pub mod unit;
