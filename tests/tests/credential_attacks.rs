//! Credential attacks from outside, over real sockets from distinct loopback addresses
//! (127.0.0.2, 127.0.0.3, ...): password spraying across accounts is slowed per address, the
//! owner still logs in from elsewhere, every throttle answer says when to come back, and behind
//! a trusted proxy the forwarded address is the one counted.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::{Answer, Backend, PASSWORD, TestServer, e2e_on_both_backends, grant, pb};
use tonic::Code;

e2e_on_both_backends!(
    spraying_from_one_address_is_slowed_while_the_owner_logs_in_from_another,
    behind_a_trusted_proxy_the_forwarded_address_is_counted,
);

/// An HTTP client whose connections come from `from`.
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().expect("an address"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

async fn login(
    server: &TestServer,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Answer {
    let mut request = client.post(server.url("/v1/auth/token")).json(&json!({
        "grant_type": "password",
        "org": "glow",
        "email": email,
        "password": password,
    }));
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    server.send(request).await
}

fn retry_after(answer: &Answer) -> u64 {
    answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a throttle answer says when to come back")
}

async fn spraying_from_one_address_is_slowed_while_the_owner_logs_in_from_another(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    let per_source = server.config.login_failures_per_source;
    assert_eq!(per_source, 20);
    let mut emails = Vec::new();
    for i in 0..25 {
        let email = format!("nurse{i}@glow.test");
        if i < 5 {
            server
                .create_staff(
                    &org.admin_token,
                    &email,
                    &[grant(Role::Nurse, Some(clinic))],
                )
                .await;
        }
        emails.push(email);
    }

    // One password tried once on each of 25 accounts, from one address; forging
    // X-Forwarded-For does not help, no proxy being trusted.
    let sprayer = client_from("127.0.0.2");
    let mut answers: Vec<u16> = Vec::new();
    let mut last = None;
    for (i, email) in emails.iter().enumerate() {
        let forged = format!("198.51.100.{i}");
        let answer = login(&server, &sprayer, email, "Winter2026!", Some(&forged)).await;
        answers.push(answer.status.as_u16());
        last = Some(answer);
    }
    let per_source = usize::try_from(per_source).expect("small");
    assert!(
        answers[..per_source].iter().all(|s| *s == 401),
        "{answers:?}"
    );
    assert!(
        answers[per_source..].iter().all(|s| *s == 429),
        "{answers:?}"
    );
    let last = last.expect("answers");
    assert_eq!(last.code().as_deref(), Some("too_many_attempts"));
    assert!((1..=900).contains(&retry_after(&last)));

    // The right password from that address waits too; from another address it is let in.
    let blocked = login(&server, &sprayer, &org.admin_email, PASSWORD, None).await;
    assert_eq!(blocked.status.as_u16(), 429);
    let owner = client_from("127.0.0.3");
    let admitted = login(&server, &owner, &org.admin_email, PASSWORD, None).await;
    assert_eq!(admitted.status.as_u16(), 200, "{}", admitted.text());

    // gRPC from the sprayer's address: refused the same way, with retry-after.
    let channel = tonic::transport::Channel::from_shared(server.base_url.clone())
        .expect("an endpoint")
        .local_address(Some("127.0.0.2".parse().expect("an address")))
        .connect()
        .await
        .expect("a connection");
    let refused = pb::auth_service_client::AuthServiceClient::new(channel)
        .token(pb::TokenRequest {
            grant_type: "password".into(),
            org: "glow".into(),
            email: org.admin_email.clone(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect_err("throttled");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().starts_with("too_many_attempts"));
    let seconds: u64 = refused
        .metadata()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after metadata");
    assert!(seconds >= 1);

    // Client credentials from that address are slowed as well.
    let (_, client_id, _) = server
        .create_api_client(&org.admin_token, &[grant(Role::FrontDesk, Some(clinic))])
        .await;
    let guessed = server
        .send(sprayer.post(server.url("/v1/auth/token")).json(&json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": "sls_guess",
        })))
        .await;
    assert_eq!(guessed.status.as_u16(), 429, "{}", guessed.text());
    retry_after(&guessed);

    // Every throttled attempt on a known organisation is on the record.
    let log = server
        .get(
            "/v1/audit-events?action=auth.login&limit=200",
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    let throttled = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["outcome"] == "throttled")
        .count();
    assert!(throttled >= 6, "{throttled} throttled logins audited");
    server.stop().await;
}

async fn behind_a_trusted_proxy_the_forwarded_address_is_counted(backend: Backend) {
    let server = TestServer::start_with(backend, |c| c.trusted_proxy_hops = 1).await;
    let org = server.create_org("glow").await;
    // Everything comes from the proxy's address; the proxy says who is behind it (and the
    // client's own claim, further left, is not believed).
    let proxy = client_from("127.0.0.4");
    for _ in 0..5 {
        let answer = login(
            &server,
            &proxy,
            &org.admin_email,
            "a guess",
            Some("203.0.113.50, 198.51.100.66"),
        )
        .await;
        assert_eq!(answer.status.as_u16(), 401);
    }
    let attacker = login(
        &server,
        &proxy,
        &org.admin_email,
        PASSWORD,
        Some("203.0.113.99, 198.51.100.66"),
    )
    .await;
    assert_eq!(attacker.status.as_u16(), 429, "{}", attacker.text());
    assert!(retry_after(&attacker) <= 15);
    let owner = login(
        &server,
        &proxy,
        &org.admin_email,
        PASSWORD,
        Some("198.51.100.67"),
    )
    .await;
    assert_eq!(owner.status.as_u16(), 200, "{}", owner.text());
    server.stop().await;
}
