//! gRPC refusals as any gRPC client reads them: the status code that fits the refusal, and the
//! standard `google.rpc` details (`ErrorInfo` with our code as its reason, `BadRequest` naming
//! every invalid field), decoded here with `tonic-types` as a client would.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb};
use tonic::Code;
use tonic_types::StatusExt;

e2e_on_both_backends!(each_refusal_kind_carries_its_code_and_standard_details);

/// The refusal of `result`, with its `ErrorInfo` checked: our `code` as the reason, in the
/// `skinledger` domain.
fn refused<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, tonic::Status>,
    code: Code,
    reason: &str,
) -> tonic::Status {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{reason}: {}", status.message());
    let details = status.get_error_details();
    let info = details.error_info().expect("an ErrorInfo detail");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, "skinledger");
    assert!(status.message().starts_with(reason), "{}", status.message());
    status
}

async fn each_refusal_kind_carries_its_code_and_standard_details(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = org.admin_token.as_str();
    let clinic = server.create_clinic(admin, "Glow Mitte").await;
    let mut grpc = server.org_grpc();
    let new_staff = |email: &str, name: &str, password: &str| pb::CreateStaffRequest {
        email: email.into(),
        name: name.into(),
        password: password.into(),
        roles: vec![skinledger_e2e::pb_grant(Role::Nurse, Some(clinic))],
    };

    // A taken value: ALREADY_EXISTS.
    grpc.create_staff(authorized(
        new_staff("nurse@glow.test", "Nina", PASSWORD),
        admin,
    ))
    .await
    .expect("created");
    refused(
        grpc.create_staff(authorized(
            new_staff("nurse@glow.test", "Nina", PASSWORD),
            admin,
        ))
        .await,
        Code::AlreadyExists,
        "already_exists",
    );

    // Invalid fields: INVALID_ARGUMENT, every field named in BadRequest.
    let invalid = refused(
        grpc.create_staff(authorized(new_staff("not an email", "", "short"), admin))
            .await,
        Code::InvalidArgument,
        "validation_failed",
    );
    let details = invalid.get_error_details();
    let mut fields: Vec<&str> = details
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["email", "name", "password"]);

    // Not allowed: PERMISSION_DENIED.
    server
        .create_staff(
            admin,
            "desk@glow.test",
            &[grant(Role::FrontDesk, Some(clinic))],
        )
        .await;
    let desk = server
        .login("glow", "desk@glow.test", PASSWORD)
        .await
        .access;
    refused(
        grpc.create_clinic(authorized(
            pb::CreateClinicRequest {
                name: "Glow Nord".into(),
                ..Default::default()
            },
            &desk,
        ))
        .await,
        Code::PermissionDenied,
        "forbidden",
    );

    // A stale version: ABORTED (read again and retry).
    refused(
        grpc.put_policy(authorized(
            pb::PutPolicyRequest {
                document_json: "{}".into(),
                if_match: Some(99),
            },
            admin,
        ))
        .await,
        Code::Aborted,
        "precondition_failed",
    );

    // A rule: FAILED_PRECONDITION.
    refused(
        grpc.deactivate_staff(authorized(
            pb::DeactivateStaffRequest {
                id: org.admin_id.to_string(),
            },
            admin,
        ))
        .await,
        Code::FailedPrecondition,
        "cannot_deactivate_self",
    );
    server.stop().await;
}
