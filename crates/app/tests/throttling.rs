//! Password guessing: failed logins are slowed per account and address, per address across
//! accounts, and per account across addresses; answers do not tell which accounts exist, and
//! deactivated staff cannot get back in.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use std::net::IpAddr;

use common::{Harness, PASSWORD, at, email, expect_unauthenticated};
use skinledger_app::auth::{TokenAnswer, TokenGrant};
use skinledger_app::throttle::PER_ACCOUNT_AND_SOURCE as MAX_FAILED_LOGINS;
use skinledger_app::{Error, Result};
use skinledger_domain::role::Role;
use skinledger_store::Db;

skinledger_store::on_both_backends!(
    after_five_failed_logins_even_the_right_password_is_throttled,
    throttling_one_account_leaves_other_accounts_alone,
    a_successful_login_forgets_earlier_failures,
    an_unknown_email_and_a_wrong_password_get_the_same_answer,
    a_deactivated_staff_member_can_neither_log_in_nor_refresh,
    parallel_guesses_check_at_most_five_passwords,
    the_right_password_twelve_times_at_once_is_never_throttled,
    an_attacker_is_slowed_while_the_owner_logs_in_from_elsewhere,
    spraying_one_password_over_many_accounts_is_slowed_per_address,
    wrong_client_secrets_are_slowed_per_address,
);

fn addr(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("an address"))
}

async fn login_from(h: &Harness, email: &str, password: &str, from: &str) -> Result<TokenAnswer> {
    h.token_from(
        TokenGrant::Password {
            org: "glow".into(),
            email: email.into(),
            password: password.into(),
        },
        None,
        addr(from),
    )
    .await
}

async fn an_attacker_is_slowed_while_the_owner_logs_in_from_elsewhere(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    for _ in 0..MAX_FAILED_LOGINS {
        expect_unauthenticated(
            login_from(&h, &org.admin_email, "a guess", "198.51.100.66").await,
            "invalid_credentials",
        );
    }
    match login_from(&h, &org.admin_email, PASSWORD, "198.51.100.66").await {
        Err(Error::Throttled { retry_after_secs }) => {
            assert!((1..=15).contains(&retry_after_secs), "{retry_after_secs}");
        }
        other => panic!("the attacker's address is slowed: {other:?}"),
    }
    login_from(&h, &org.admin_email, PASSWORD, "203.0.113.10")
        .await
        .expect("the owner, from the clinic, logs in");
    // The same address as IPv4-mapped IPv6 is the same address.
    assert!(matches!(
        login_from(&h, "nobody@glow.test", PASSWORD, "::ffff:198.51.100.66").await,
        Err(Error::Unauthenticated { .. })
    ));
}

async fn spraying_one_password_over_many_accounts_is_slowed_per_address(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let per_source = h.settings().login_failures_per_source;
    for i in 0..per_source {
        expect_unauthenticated(
            login_from(
                &h,
                &format!("staff{i}@glow.test"),
                "Summer2026!",
                "198.51.100.7",
            )
            .await,
            "invalid_credentials",
        );
    }
    let next = login_from(&h, "another@glow.test", "Summer2026!", "198.51.100.7").await;
    assert!(matches!(next, Err(Error::Throttled { .. })), "{next:?}");
    let right = login_from(&h, &org.admin_email, PASSWORD, "198.51.100.7").await;
    assert!(
        matches!(right, Err(Error::Throttled { .. })),
        "nothing more is checked from that address for now: {right:?}"
    );
    login_from(&h, &org.admin_email, PASSWORD, "203.0.113.10")
        .await
        .expect("other addresses are not slowed");
}

async fn wrong_client_secrets_are_slowed_per_address(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let client = h
        .integration(
            &org.admin,
            "booking sync",
            vec![at(Role::FrontDesk, clinic.id)],
        )
        .await;
    let grant = |secret: &str| TokenGrant::ClientCredentials {
        client_id: client.client_id.clone(),
        client_secret: secret.into(),
    };
    for _ in 0..MAX_FAILED_LOGINS {
        expect_unauthenticated(
            h.token_from(grant("sls_guess"), None, addr("198.51.100.9"))
                .await,
            "invalid_credentials",
        );
    }
    let secret = client.client_secret.clone().expect("shown once");
    let throttled = h
        .token_from(grant(&secret), None, addr("198.51.100.9"))
        .await;
    assert!(
        matches!(throttled, Err(Error::Throttled { .. })),
        "{throttled:?}"
    );
    h.token_from(grant(&secret), None, addr("203.0.113.10"))
        .await
        .expect("the integration's own address is not slowed");
}

async fn after_five_failed_logins_even_the_right_password_is_throttled(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    assert_eq!(MAX_FAILED_LOGINS, 5);

    for _ in 0..5 {
        expect_unauthenticated(
            h.password_login("glow", &org.admin_email, "not the password")
                .await,
            "invalid_credentials",
        );
    }
    let throttled = h.password_login("glow", &org.admin_email, PASSWORD).await;

    match throttled {
        Err(Error::Throttled { retry_after_secs }) => {
            assert!(retry_after_secs > 0 && retry_after_secs <= 15 * 60);
        }
        other => panic!("expected throttling, got {other:?}"),
    }
    let err = h
        .password_login("glow", " ADMIN@glow.test", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "too_many_attempts",
        "the email's case does not matter"
    );
    let log = h.audit_log(&org.admin).await;
    assert!(
        log.iter()
            .any(|e| e.action == "auth.login" && e.outcome == "throttled"),
        "the throttled attempt is audited: {log:#?}"
    );
}

async fn throttling_one_account_leaves_other_accounts_alone(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let nurse_email = email("glow", "nurse");
    h.member(&org.admin, &nurse_email, vec![at(Role::Nurse, clinic.id)])
        .await;

    for _ in 0..5 {
        let _ = h
            .password_login("glow", &nurse_email, "not the password")
            .await;
    }

    let throttled = h.password_login("glow", &nurse_email, PASSWORD).await;
    assert!(matches!(throttled, Err(Error::Throttled { .. })));
    h.password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("another account logs in");
}

async fn a_successful_login_forgets_earlier_failures(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    for _ in 0..4 {
        let _ = h
            .password_login("glow", &org.admin_email, "not the password")
            .await;
    }
    h.password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("four failures do not throttle");
    for _ in 0..4 {
        let _ = h
            .password_login("glow", &org.admin_email, "not the password")
            .await;
    }

    h.password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("the count started again after the success");
}

async fn an_unknown_email_and_a_wrong_password_get_the_same_answer(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let wrong_password = h
        .password_login("glow", &org.admin_email, "not the password")
        .await
        .unwrap_err();
    let unknown_email = h
        .password_login("glow", "nobody@glow.test", PASSWORD)
        .await
        .unwrap_err();
    let unknown_org = h
        .password_login("nowhere", &org.admin_email, PASSWORD)
        .await
        .unwrap_err();

    for err in [&wrong_password, &unknown_email, &unknown_org] {
        assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
        assert_eq!(err.code(), "invalid_credentials");
    }
    assert_eq!(wrong_password.to_string(), unknown_email.to_string());
    assert_eq!(wrong_password.to_string(), unknown_org.to_string());
}

async fn a_deactivated_staff_member_can_neither_log_in_nor_refresh(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let nurse_email = email("glow", "nurse");
    let nurse = h
        .member(&org.admin, &nurse_email, vec![at(Role::Nurse, clinic.id)])
        .await;
    let refresh = h
        .password_login("glow", &nurse_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();

    let deactivated = h.deactivate_staff(&org.admin, nurse.id).await.unwrap();

    assert!(!deactivated.active);
    expect_unauthenticated(
        h.password_login("glow", &nurse_email, PASSWORD).await,
        "invalid_credentials",
    );
    expect_unauthenticated(h.refresh(&refresh).await, "invalid_grant");
}

async fn parallel_guesses_check_at_most_five_passwords(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let guesses = (0..20).map(|i| {
        let h = &h;
        let email = org.admin_email.clone();
        async move {
            h.password_login("glow", &email, &format!("guess number {i}"))
                .await
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| matches!(a, Err(e) if e.code() == "invalid_credentials"))
        .count();
    let throttled = answers
        .iter()
        .filter(|a| matches!(a, Err(Error::Throttled { .. })))
        .count();
    assert!(checked <= 5, "{checked} passwords were checked in parallel");
    assert_eq!(
        checked + throttled,
        20,
        "every guess is refused: {answers:?}"
    );
    // Refused guesses are not failures: the account locks once five were actually checked.
    let after = h.password_login("glow", &org.admin_email, PASSWORD).await;
    if checked == 5 {
        assert!(matches!(after, Err(Error::Throttled { .. })), "{after:?}");
    } else {
        assert!(after.is_ok(), "{after:?}");
    }
}

async fn the_right_password_twelve_times_at_once_is_never_throttled(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    // A phone retrying, a tablet and a desk computer: more logins at once than failures allow.
    let logins = (0..12).map(|_| {
        let h = &h;
        let email = org.admin_email.clone();
        async move { h.password_login("glow", &email, PASSWORD).await }
    });
    let answers = futures::future::join_all(logins).await;
    assert!(
        answers.iter().all(Result::is_ok),
        "every right password is let in: {answers:?}"
    );
    // And nothing of them is left to count against the account.
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        expect_unauthenticated(
            h.password_login("glow", &org.admin_email, "not the password")
                .await,
            "invalid_credentials",
        );
    }
    assert!(
        h.password_login("glow", &org.admin_email, PASSWORD)
            .await
            .is_ok()
    );
}
