//! Requests the server must refuse precisely (413, 422 naming fields, 400 for what is not JSON
//! or not protobuf), the request id, and the operations endpoints of both protocols.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod body_limits;
mod grpc_messages;
mod json_bodies;
mod operations;
