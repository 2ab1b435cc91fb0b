//! The protobuf messages of `skinledger.v1` to and from the app's types, one module per resource.
//!
//! Every conversion here destructures its source exhaustively, without `..`:
//!
//! - an answer (`impl From<app type> for pb::Message`) names every field of the app type, so a
//!   field added to an app or domain type does not compile until gRPC carries it, or until the
//!   conversion says with `field: _` and a comment why gRPC leaves it out;
//! - a request (`TryFrom<pb::Request>`, or a function for the requests that map to more than
//!   one app value) names every field of the message and builds the app input with a full
//!   struct literal, so a field added to a message does not compile until it is read.
//!
//! A compile failure is the guard on this side. What the two transports carry is kept equal by
//! `crates/api/tests/proto_openapi/`, which compares every message with its OpenAPI schema:
//! the same field names, and a field REST requires is never `optional` in the message.
//!
//! Requests are refused with a [`ValidationErrors`] naming every field that does not parse, as
//! REST names them. [`ValidationErrors::check`] records an error whenever it answers `None`, so
//! a required field that is still `None` after the checks means the errors are not empty.
//!
//! [`ValidationErrors`]: skinledger_domain::ValidationErrors
//! [`ValidationErrors::check`]: skinledger_domain::ValidationErrors::check

pub mod audit;
pub mod auth;
pub mod clients;
pub mod courses;
pub mod events;
pub mod lots;
pub mod organization;
pub mod products;
pub mod reports;
pub mod screenings;
pub mod stock;
pub mod transfers;
pub mod treatments;
pub mod webhooks;
