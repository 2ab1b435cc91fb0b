//! Forged and wrong access tokens are refused over REST and gRPC.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use skinledger_e2e::{
    AUDIENCE, Backend, ISSUER, OTHER_KEY, PASSWORD, SIGNING_KEY, TestServer, authorized,
    e2e_on_both_backends, pb,
};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(forged_and_wrong_access_tokens_are_refused_over_rest_and_grpc);
e2e_on_both_backends!(a_token_accepted_before_is_refused_once_it_expires);

/// The clock skew the server tolerates on `exp`, `nbf` and `iat` (docs/api.md, Tokens).
const LEEWAY_SECS: u64 = 30;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Claims the server would issue itself for this principal.
fn valid_claims(sub: &str, org: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "kind": "staff",
        "org": org,
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "jti": Uuid::now_v7(),
    })
}

fn with(claims: &Value, changes: &Value) -> Value {
    let mut out = claims.clone();
    for (k, v) in changes.as_object().expect("an object") {
        out[k] = v.clone();
    }
    out
}

fn without(claims: &Value, claim: &str) -> Value {
    let mut out = claims.clone();
    out.as_object_mut().expect("an object").remove(claim);
    out
}

fn sign(algorithm: Algorithm, key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("a signed token")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// A token assembled by hand: base64url JSON header and payload, HS256 over them with `key`.
fn by_hand(header: &Value, claims: &Value, key: Option<&[u8]>) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = match key {
        Some(key) => jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(key),
            Algorithm::HS256,
        )
        .expect("a signature"),
        None => String::new(),
    };
    format!("{message}.{signature}")
}

async fn forged_and_wrong_access_tokens_are_refused_over_rest_and_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let other = server.create_org("other").await;
    let tokens = server.login("glow", &org.admin_email, PASSWORD).await;
    let sub = org.admin_id.to_string();
    let claims = valid_claims(&sub, &org.id.to_string());
    let now = now();

    // The forging is right: with the server's key, algorithm and claims a token is accepted,
    // by the library and by hand, and so is one that expired within the leeway.
    let accepted = [
        (
            "forged like the server",
            sign(Algorithm::HS256, SIGNING_KEY, &claims),
        ),
        (
            "assembled by hand",
            by_hand(
                &json!({ "alg": "HS256", "typ": "JWT" }),
                &claims,
                Some(SIGNING_KEY),
            ),
        ),
        (
            "expired 5 s ago, within the leeway",
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(
                    &claims,
                    &json!({ "exp": now - 5, "iat": now - 600, "nbf": now - 600 }),
                ),
            ),
        ),
    ];
    for (what, token) in &accepted {
        let answer = server.get("/v1/me", Some(token)).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.text());
        server
            .auth_grpc()
            .me(authorized(pb::MeRequest {}, token))
            .await
            .unwrap_or_else(|e| panic!("{what} over gRPC: {e:?}"));
    }

    let mut refused = vec![
        (
            "alg none".to_owned(),
            by_hand(&json!({ "alg": "none", "typ": "JWT" }), &claims, None),
        ),
        ("alg none with the real signature".to_owned(), {
            let real = sign(Algorithm::HS256, SIGNING_KEY, &claims);
            let signature = real.rsplit('.').next().expect("a signature").to_owned();
            let unsigned = by_hand(&json!({ "alg": "none", "typ": "JWT" }), &claims, None);
            format!("{unsigned}{signature}")
        }),
        (
            "HS512 with the right key".to_owned(),
            sign(Algorithm::HS512, SIGNING_KEY, &claims),
        ),
        (
            "HS384 with the right key".to_owned(),
            sign(Algorithm::HS384, SIGNING_KEY, &claims),
        ),
        (
            "another key".to_owned(),
            sign(Algorithm::HS256, OTHER_KEY, &claims),
        ),
        (
            "expired beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(
                    &claims,
                    &json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }),
                ),
            ),
        ),
        (
            "nbf in the future beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "nbf": now + 120 })),
            ),
        ),
        (
            "iat in the future beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "iat": now + 120, "nbf": now })),
            ),
        ),
        (
            "exp as a string".to_owned(),
            by_hand(
                &json!({ "alg": "HS256", "typ": "JWT" }),
                &with(&claims, &json!({ "exp": (now + 600).to_string() })),
                Some(SIGNING_KEY),
            ),
        ),
        (
            "wrong aud".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "aud": "someone-else" })),
            ),
        ),
        (
            "wrong iss".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "iss": "https://evil.example" })),
            ),
        ),
        (
            "an unknown kind of principal".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "kind": "robot" })),
            ),
        ),
        (
            "a subject of another organisation".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "org": other.id.to_string() })),
            ),
        ),
        ("a payload changed after signing".to_owned(), {
            let real = sign(Algorithm::HS256, SIGNING_KEY, &claims);
            let parts: Vec<&str> = real.split('.').collect();
            let changed = b64(&with(
                &claims,
                &json!({ "sub": other.admin_id.to_string(), "org": other.id.to_string() }),
            ));
            format!("{}.{changed}.{}", parts[0], parts[2])
        }),
        (
            "an accepted token with one character of its signature changed".to_owned(),
            {
                // Refused although the same token, unchanged, was accepted a moment ago.
                let real = &accepted[0].1;
                let (message, signature) = real.rsplit_once('.').expect("a signature");
                let first = if signature.starts_with('A') { 'B' } else { 'A' };
                format!("{message}.{first}{}", &signature[1..])
            },
        ),
        (
            "a refresh token".to_owned(),
            tokens.refresh.clone().expect("a refresh token"),
        ),
        ("garbage".to_owned(), "not-a-token".to_owned()),
    ];
    for claim in [
        "iss", "aud", "sub", "kind", "org", "exp", "nbf", "iat", "jti",
    ] {
        refused.push((
            format!("missing {claim}"),
            sign(Algorithm::HS256, SIGNING_KEY, &without(&claims, claim)),
        ));
    }

    let mut failures = Vec::new();
    for (what, token) in &refused {
        let answer = server.get("/v1/me", Some(token)).await;
        if answer.status != 401 || answer.code().as_deref() != Some("unauthenticated") {
            failures.push(format!("REST, {what}: {} {}", answer.status, answer.text()));
        }
        match server
            .auth_grpc()
            .me(authorized(pb::MeRequest {}, token))
            .await
        {
            Err(status)
                if status.code() == Code::Unauthenticated
                    && status.message().starts_with("unauthenticated") => {}
            other => failures.push(format!("gRPC, {what}: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "tokens accepted or refused wrongly:\n{}",
        failures.join("\n")
    );
}

/// A token the server has accepted, and so recognises when it comes again, is refused over
/// REST and gRPC once it is past its expiry and the leeway, as it would be the first time.
async fn a_token_accepted_before_is_refused_once_it_expires(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let issued = now();
    // Good for a few seconds more: expired already, within the leeway.
    let exp = issued + 4 - LEEWAY_SECS;
    let token = sign(
        Algorithm::HS256,
        SIGNING_KEY,
        &with(
            &valid_claims(&org.admin_id.to_string(), &org.id.to_string()),
            &json!({ "exp": exp, "iat": issued - 600, "nbf": issued - 600 }),
        ),
    );
    let me = || server.auth_grpc();
    for _ in 0..3 {
        let answer = server.get("/v1/me", Some(&token)).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        me().me(authorized(pb::MeRequest {}, &token))
            .await
            .expect("accepted over gRPC");
    }
    // Refused from the first second in which `exp` is more than the leeway ago.
    while now() <= exp + LEEWAY_SECS {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = server.get("/v1/me", Some(&token)).await;
    assert_eq!(answer.status, 401, "{}", answer.text());
    assert_eq!(answer.code().as_deref(), Some("unauthenticated"));
    let refused = me()
        .me(authorized(pb::MeRequest {}, &token))
        .await
        .expect_err("refused over gRPC");
    assert_eq!(refused.code(), Code::Unauthenticated);
}
