//! What the clinical, inventory and two-process flows share: a REST caller that works against an
//! in-process server and a child process alike, an organisation with two clinics and a staff
//! member per role, and the steps every flow repeats (a client, a screening, a roller in stock,
//! a treatment) - all over the wire, as a clinic's systems would call.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses its own part of these helpers and of their re-exports; #[expect] \
              would fail in the others"
)]
#![expect(
    clippy::expect_used,
    reason = "test helpers: a step that cannot complete fails the test at that step"
)]

mod clients;
mod grpc;
mod reading;
mod stock;

use std::time::Duration;

use futures::StreamExt;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Answer, Org, PASSWORD, TestServer, grant, tokens_of};
use uuid::Uuid;

pub use clients::{answers, eligible_client, new_client, register_client, screen, treatment};
pub use grpc::{
    assert_grpc_refused, client_service, inventory_service, pb_answers, pb_new_client,
    pb_treatment, treatment_service, with_key,
};
pub use reading::{
    assert_refused, date, date_at, id_of, items, keys, next_year, plus_days, today, uuid_at,
};
pub use stock::{
    Counts, assert_ledger_matches_stock, create_roller, gtin, movements, receive, stock_of,
    sums_by_lot, yymmdd,
};

/// REST calls to one server, in this process or another.
#[derive(Debug, Clone)]
pub struct Rest {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client, shared so connections are reused.
    pub http: reqwest::Client,
}

impl Rest {
    /// The REST side of a test server.
    pub fn of(server: &TestServer) -> Self {
        Self {
            base: server.base_url.clone(),
            http: server.http.clone(),
        }
    }

    /// A server listening at `base`.
    pub fn at(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// A request with a bearer token, to be completed and sent with [`Rest::send`].
    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// Sends a request and collects the answer.
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(self.request(Method::GET, path, token)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(self.request(Method::POST, path, token).json(body))
            .await
    }

    /// `POST path` with a JSON body and an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Answer {
        self.send(
            self.request(Method::POST, path, token)
                .header("Idempotency-Key", key)
                .json(body),
        )
        .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(self.request(Method::PATCH, path, token).json(body))
            .await
    }

    /// Logs a staff member in with the password grant; answers the access token.
    pub async fn login(&self, org: &str, email: &str) -> String {
        let answer = self
            .send(self.http.post(format!("{}/v1/auth/token", self.base)).json(
                &json!({ "grant_type": "password", "org": org, "email": email, "password": PASSWORD }),
            ))
            .await
            .expect_status(200);
        tokens_of(&answer.json()).access
    }
}

/// A staff member, logged in.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Their id.
    pub id: Uuid,
    /// Their access token.
    pub token: String,
}

/// Adds a staff member with `roles` as the organisation's admin and logs them in.
pub async fn add_staff(api: &Rest, org: &str, admin: &str, email: &str, roles: &[Value]) -> Staff {
    let id = api
        .post(
            "/v1/staff",
            admin,
            &json!({ "email": email, "name": email.split('@').next().unwrap_or(email),
                     "password": PASSWORD, "roles": roles }),
        )
        .await
        .expect_status(201)
        .id();
    Staff {
        id,
        token: api.login(org, email).await,
    }
}

/// An organisation with two clinics and someone in every role.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The organisation's slug.
    pub slug: String,
    /// An `org_admin`'s access token.
    pub admin: String,
    /// The first clinic.
    pub clinic_a: Uuid,
    /// The second clinic.
    pub clinic_b: Uuid,
    /// `clinic_manager` of A.
    pub manager_a: Staff,
    /// `clinic_manager` of B.
    pub manager_b: Staff,
    /// `physician` at A and B.
    pub physician: Staff,
    /// `nurse` at A.
    pub nurse_a: Staff,
    /// `nurse` at B.
    pub nurse_b: Staff,
    /// `front_desk` at A.
    pub front_desk: Staff,
}

impl Chain {
    /// Opens two clinics in `org` and staffs them over REST.
    pub async fn open(api: &Rest, org: &Org) -> Self {
        let (slug, admin) = (org.slug.as_str(), org.admin_token.as_str());
        let clinic_a = api
            .post(
                "/v1/clinics",
                admin,
                &json!({ "name": format!("{slug} Mitte") }),
            )
            .await
            .expect_status(201)
            .id();
        let clinic_b = api
            .post(
                "/v1/clinics",
                admin,
                &json!({ "name": format!("{slug} Nord") }),
            )
            .await
            .expect_status(201)
            .id();
        let (a, b) = (Some(clinic_a), Some(clinic_b));
        let who = |name: &str, roles: Vec<Value>| (format!("{name}@{slug}.test"), roles);
        let people = [
            who("manager.a", vec![grant(Role::ClinicManager, a)]),
            who("manager.b", vec![grant(Role::ClinicManager, b)]),
            who(
                "physician",
                vec![grant(Role::Physician, a), grant(Role::Physician, b)],
            ),
            who("nurse.a", vec![grant(Role::Nurse, a)]),
            who("nurse.b", vec![grant(Role::Nurse, b)]),
            who("frontdesk", vec![grant(Role::FrontDesk, a)]),
        ];
        // Password hashing dominates; two at a time keep both cores busy.
        let mut staff: Vec<Staff> = futures::stream::iter(&people)
            .map(|(email, roles)| add_staff(api, slug, admin, email, roles))
            .buffered(2)
            .collect()
            .await;
        let mut next = move || staff.remove(0);
        let (manager_a, manager_b, physician) = (next(), next(), next());
        let (nurse_a, nurse_b, front_desk) = (next(), next(), next());
        Self {
            slug: slug.to_owned(),
            admin: admin.to_owned(),
            clinic_a,
            clinic_b,
            manager_a,
            manager_b,
            physician,
            nurse_a,
            nurse_b,
            front_desk,
        }
    }
}
