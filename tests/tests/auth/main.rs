//! Authentication over REST and gRPC: the three grants, refresh rotation and reuse detection,
//! revocation, `me`, forged tokens, throttling and the sameness of failed logins.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod credentials;
mod forged_tokens;
mod grpc;
mod login_failures;
mod sessions;

use serde_json::json;
use skinledger_e2e::TestServer;

async fn refresh(server: &TestServer, token: &str) -> skinledger_e2e::Answer {
    server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "refresh_token", "refresh_token": token }),
        )
        .await
}
