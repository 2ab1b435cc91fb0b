//! Failed logins throttle the account, and an unknown email answers as a wrong password.

use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, e2e_on_both_backends, grant, pb};
use tonic::Code;

e2e_on_both_backends!(
    five_failed_logins_throttle_the_account_even_for_the_right_password,
    an_unknown_email_and_a_wrong_password_get_the_same_answer,
);

async fn five_failed_logins_throttle_the_account_even_for_the_right_password(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;

    for attempt in 1..=5 {
        let answer = server
            .password_grant("glow", "nina@glow.test", "not-her-password")
            .await;
        assert_eq!(answer.status, 401, "attempt {attempt}: {}", answer.text());
    }
    let sixth = server
        .password_grant("glow", "nina@glow.test", PASSWORD)
        .await
        .expect_status(429);
    assert_eq!(sixth.code().as_deref(), Some("too_many_attempts"));
    let retry_after: u64 = sixth
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");

    // gRPC sees the same throttle.
    let status = server
        .auth_grpc()
        .token(pb::TokenRequest {
            grant_type: "password".into(),
            org: "glow".into(),
            email: "nina@glow.test".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect_err("throttled");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().starts_with("too_many_attempts"),
        "{status:?}"
    );

    // Other accounts are unaffected.
    server.login("glow", &org.admin_email, PASSWORD).await;

    let audit = server
        .get(
            "/v1/audit-events?action=auth.login&limit=200",
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    let outcomes: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"failure"), "{outcomes:?}");
    assert!(outcomes.contains(&"throttled"), "{outcomes:?}");
}

async fn an_unknown_email_and_a_wrong_password_get_the_same_answer(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;

    let wrong_password = server
        .password_grant("glow", &org.admin_email, "not-the-password")
        .await;
    let unknown_email = server
        .password_grant("glow", "nobody@glow.test", "not-the-password")
        .await;
    let unknown_org = server
        .password_grant("nowhere", &org.admin_email, "not-the-password")
        .await;

    assert_eq!(wrong_password.status, 401, "{}", wrong_password.text());
    assert_eq!(
        wrong_password.code().as_deref(),
        Some("invalid_credentials")
    );
    for other in [&unknown_email, &unknown_org] {
        assert_eq!(other.status, wrong_password.status);
        assert_eq!(other.code(), wrong_password.code());
        assert_eq!(other.json()["detail"], wrong_password.json()["detail"]);
        assert_eq!(
            other.body,
            wrong_password.body,
            "bodies differ: {} vs {}",
            other.text(),
            wrong_password.text()
        );
    }

    let grpc = |email: &str| pb::TokenRequest {
        grant_type: "password".into(),
        org: "glow".into(),
        email: email.into(),
        password: "not-the-password".into(),
        ..Default::default()
    };
    let a = server
        .auth_grpc()
        .token(grpc(&org.admin_email))
        .await
        .expect_err("wrong password");
    let b = server
        .auth_grpc()
        .token(grpc("nobody@glow.test"))
        .await
        .expect_err("unknown email");
    assert_eq!(a.code(), b.code());
    assert_eq!(a.message(), b.message());
}
