//! What the clinical, inventory and two-process flows share: a REST caller that works against an
//! in-process server and a child process alike, an organisation with two clinics and a staff
//! member per role, and the steps every flow repeats (a client, a screening, a roller in stock,
//! a treatment) - all over the wire, as a clinic's systems would call.

#![allow(
    dead_code,
    reason = "each test file uses its own part of these helpers; #[expect] would fail in the others"
)]
#![expect(
    clippy::expect_used,
    reason = "test helpers: a step that cannot complete fails the test at that step"
)]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Answer, Org, PASSWORD, TestServer, grant, pb, tokens_of};
use tonic::transport::Channel;
use uuid::Uuid;

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

/// The body of a new client with contact details made from the name.
pub fn new_client(first: &str, last: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": last,
        "date_of_birth": "1988-04-12",
        "phone": "+49 30 5550 1234",
        "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
        "fitzpatrick_type": "iii",
        "consent_version": "2025-01",
        "consent_signed_at": "2025-01-10T09:00:00Z",
        "photo_consent": true,
    })
}

/// Registers a client; answers the client as created.
pub async fn register_client(api: &Rest, token: &str, first: &str, last: &str) -> Value {
    api.post("/v1/clients", token, &new_client(first, last))
        .await
        .expect_status(201)
        .json()
}

/// Every yes/no factor of the questionnaire: `no`, except those in `yes`.
pub fn answers(yes: &[&str]) -> Value {
    let mut answers = serde_json::Map::new();
    for factor in [
        "pregnant",
        "active_acne",
        "inflamed_or_infected_skin",
        "active_herpes",
        "herpes_history",
        "eczema_or_rosacea",
        "anticoagulants",
        "autoimmune_disease",
        "frequent_alcohol_use",
        "very_sensitive_skin",
    ] {
        answers.insert(factor.into(), Value::Bool(yes.contains(&factor)));
    }
    Value::Object(answers)
}

/// Records a screening of `client` at `clinic` today with the factors in `yes`.
pub async fn screen(api: &Rest, token: &str, client: Uuid, clinic: Uuid, yes: &[&str]) -> Value {
    api.post(
        &format!("/v1/clients/{client}/screenings"),
        token,
        &json!({ "clinic_id": clinic, "answers": answers(yes) }),
    )
    .await
    .expect_status(201)
    .json()
}

/// Registers a client and screens them clear; answers their id.
pub async fn eligible_client(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    first: &str,
    last: &str,
) -> Uuid {
    let client = id_of(&register_client(api, token, first, last).await);
    let screening = screen(api, token, client, clinic, &[]).await;
    assert_eq!(screening["outcome"], "eligible", "{screening}");
    client
}

/// A GTIN-14 ending in `n`, with a valid check digit.
pub fn gtin(n: u64) -> String {
    let body = format!("0950600{:06}", n % 1_000_000);
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let digit = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 { digit * 3 } else { digit }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Today (UTC), as the server dates things.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A date `days` after `date`.
pub fn plus_days(date: NaiveDate, days: i64) -> NaiveDate {
    date + chrono::Duration::days(days)
}

/// An expiry date comfortably in the future.
pub fn next_year() -> NaiveDate {
    plus_days(today(), 400)
}

/// A date as GS1 (17)/(11) write it.
pub fn yymmdd(date: NaiveDate) -> String {
    date.format("%y%m%d").to_string()
}

/// Adds a 0.5 mm single-use roller to the catalogue; answers its id.
pub async fn create_roller(api: &Rest, token: &str, gtin: &str) -> Uuid {
    api.post(
        "/v1/products",
        token,
        &json!({
            "kind": "roller",
            "name": format!("Roller 0.5 mm {gtin}"),
            "maker": "Dermaroll GmbH",
            "gtin": gtin,
            "needle_length_mm": 0.5,
            "needle_count": 192,
        }),
    )
    .await
    .expect_status(201)
    .id()
}

/// Receives `quantity` units of `lot_number` of a product at `clinic` by typed fields; answers
/// the receipt.
pub async fn receive(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    product: Uuid,
    lot_number: &str,
    quantity: u32,
) -> Value {
    api.post(
        &format!("/v1/clinics/{clinic}/receipts"),
        token,
        &json!({ "product_id": product, "lot_number": lot_number, "expiry": next_year(),
                 "quantity": quantity }),
    )
    .await
    .expect_status(201)
    .json()
}

/// A 0.5 mm roller session on the full face, consuming one roller of `product`.
pub fn treatment(clinic: Uuid, client: Uuid, product: Uuid) -> Value {
    json!({
        "clinic_id": clinic,
        "client_id": client,
        "indications": ["fine_lines_and_wrinkles"],
        "areas": ["full_face"],
        "device_kind": "roller",
        "needle_depth_mm": 0.5,
        "passes": 6,
        "anaesthetic_product": "EMLA 5%",
        "anaesthetic_minutes": 30,
        "topicals": ["hyaluronic serum"],
        "endpoint": "erythema",
        "duration_minutes": 30,
        "notes": "Tolerated well; mild erythema at the end.",
        "consumables": [{ "product_id": product }],
    })
}

/// The `id` field of an answer body.
pub fn id_of(body: &Value) -> Uuid {
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no id in {body}"))
}

/// A UUID field of a JSON value.
pub fn uuid_at(body: &Value, field: &str) -> Uuid {
    body[field]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no {field} in {body}"))
}

/// A `YYYY-MM-DD` date.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| panic!("not a date: {text}"))
}

/// A date field of a JSON value.
pub fn date_at(body: &Value, field: &str) -> NaiveDate {
    body[field]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| panic!("no date {field} in {body}"))
}

/// The keys of a JSON object.
pub fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .cloned()
        .collect()
}

/// The `items` of a list answer.
pub fn items(answer: &Answer) -> Vec<Value> {
    answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not a list: {}", answer.text()))
}

/// A clinic's counts of one lot: on hand, quarantined, in transit out (zeros when the stock
/// answer leaves the lot out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// On the shelf, usable.
    pub on_hand: i64,
    /// Held back by a recall.
    pub quarantined: i64,
    /// Sent and not yet received.
    pub in_transit_out: i64,
}

/// A lot's counts at a clinic, from `GET /v1/clinics/{id}/stock`; also checks that the lot's
/// status there is `status` when it is listed.
pub async fn stock_of(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    lot: Uuid,
) -> (Counts, Option<String>) {
    let stock = api
        .get(&format!("/v1/clinics/{clinic}/stock"), token)
        .await
        .expect_status(200)
        .json();
    let lot = lot.to_string();
    for product in stock["products"].as_array().into_iter().flatten() {
        for entry in product["lots"].as_array().into_iter().flatten() {
            if entry["lot_id"] == lot.as_str() {
                let count = |f: &str| {
                    entry[f]
                        .as_i64()
                        .unwrap_or_else(|| panic!("no {f} in {entry}"))
                };
                return (
                    Counts {
                        on_hand: count("on_hand"),
                        quarantined: count("quarantined"),
                        in_transit_out: count("in_transit_out"),
                    },
                    entry["status"].as_str().map(str::to_owned),
                );
            }
        }
    }
    (Counts::default(), None)
}

/// Every movement of a clinic's ledger, read page by page with `limit`.
pub async fn movements(api: &Rest, token: &str, clinic: Uuid, limit: u32) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/clinics/{clinic}/movements?limit={limit}&cursor={c}"),
            None => format!("/v1/clinics/{clinic}/movements?limit={limit}"),
        };
        let page = api.get(&path, token).await.expect_status(200).json();
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(
            items.len() <= limit as usize,
            "a page over its limit: {page}"
        );
        all.extend(items);
        pages += 1;
        assert!(pages < 1_000, "the movements never end");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// The sums of a clinic's movements per lot.
pub fn sums_by_lot(movements: &[Value]) -> HashMap<Uuid, Counts> {
    let mut sums: HashMap<Uuid, Counts> = HashMap::new();
    for m in movements {
        let entry = sums.entry(uuid_at(m, "lot_id")).or_default();
        let delta = |f: &str| m[f].as_i64().unwrap_or_else(|| panic!("no {f} in {m}"));
        entry.on_hand += delta("quantity");
        entry.quarantined += delta("quarantined_delta");
        entry.in_transit_out += delta("in_transit_delta");
    }
    sums
}

/// Checks that a clinic's ledger adds up to its stock of `lot`.
pub async fn assert_ledger_matches_stock(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    lot: Uuid,
) -> Counts {
    let (stock, _) = stock_of(api, token, clinic, lot).await;
    let ledger = sums_by_lot(&movements(api, token, clinic, 7).await)
        .get(&lot)
        .copied()
        .unwrap_or_default();
    assert_eq!(
        ledger, stock,
        "the movements of lot {lot} at clinic {clinic} do not add up to its stock"
    );
    stock
}

/// Checks a refusal's status and problem `code`.
#[track_caller]
pub fn assert_refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status.as_u16(), answer.code().as_deref()),
        (status, Some(code)),
        "expected {status} {code}, got {}: {}",
        answer.status,
        answer.text()
    );
}

/// Checks a gRPC refusal's status code and the problem code its message starts with.
#[track_caller]
pub fn assert_grpc_refused<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, tonic::Status>,
    code: tonic::Code,
    problem: &str,
) {
    match result {
        Ok(answer) => panic!("expected {code:?} {problem}, got {answer:?}"),
        Err(status) => assert!(
            status.code() == code && status.message().starts_with(problem),
            "expected {code:?} {problem}, got {:?}: {}",
            status.code(),
            status.message()
        ),
    }
}

/// Adds an `idempotency-key` to a gRPC request.
pub fn with_key<T>(mut request: tonic::Request<T>, key: &str) -> tonic::Request<T> {
    request.metadata_mut().insert(
        "idempotency-key",
        key.parse().expect("a key is valid metadata"),
    );
    request
}

/// The `ClientService` client.
pub fn client_service(
    channel: &Channel,
) -> pb::client_service_client::ClientServiceClient<Channel> {
    pb::client_service_client::ClientServiceClient::new(channel.clone())
}

/// The `TreatmentService` client.
pub fn treatment_service(
    channel: &Channel,
) -> pb::treatment_service_client::TreatmentServiceClient<Channel> {
    pb::treatment_service_client::TreatmentServiceClient::new(channel.clone())
}

/// The `InventoryService` client.
pub fn inventory_service(
    channel: &Channel,
) -> pb::inventory_service_client::InventoryServiceClient<Channel> {
    pb::inventory_service_client::InventoryServiceClient::new(channel.clone())
}

/// The questionnaire as gRPC sends it: every answer `no`, except those in `yes`.
pub fn pb_answers(yes: &[&str]) -> pb::ScreeningAnswers {
    let says = |factor: &str| Some(yes.contains(&factor));
    pb::ScreeningAnswers {
        pregnant: says("pregnant"),
        active_acne: says("active_acne"),
        inflamed_or_infected_skin: says("inflamed_or_infected_skin"),
        active_herpes: says("active_herpes"),
        herpes_history: says("herpes_history"),
        eczema_or_rosacea: says("eczema_or_rosacea"),
        anticoagulants: says("anticoagulants"),
        autoimmune_disease: says("autoimmune_disease"),
        frequent_alcohol_use: says("frequent_alcohol_use"),
        very_sensitive_skin: says("very_sensitive_skin"),
        last_waxing_or_resurfacing_on: None,
        last_anti_inflammatory_dose_on: None,
        medications: None,
    }
}

/// A new client as gRPC sends it.
pub fn pb_new_client(first: &str, last: &str) -> pb::CreateClientRequest {
    pb::CreateClientRequest {
        first_name: first.into(),
        last_name: last.into(),
        date_of_birth: "1990-07-01".into(),
        phone: Some("+49 40 5550 9876".into()),
        email: Some(format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        )),
        fitzpatrick_type: Some("ii".into()),
        consent_version: Some("2025-01".into()),
        consent_signed_at: Some("2025-02-01T10:00:00Z".into()),
        photo_consent: false,
        notes: None,
    }
}

/// A 0.5 mm roller session as gRPC sends it, consuming one roller of `product`.
pub fn pb_treatment(clinic: Uuid, client: &str, product: &str) -> pb::CreateTreatmentRequest {
    pb::CreateTreatmentRequest {
        clinic_id: clinic.to_string(),
        client_id: client.into(),
        performed_at: None,
        indications: vec!["acne_scarring".into()],
        areas: vec!["cheeks".into(), "forehead".into()],
        device_kind: "roller".into(),
        needle_depth_mm: 0.5,
        passes: 8,
        anaesthetic_product: None,
        anaesthetic_minutes: None,
        topicals: vec!["vitamin A gel".into()],
        endpoint: "erythema".into(),
        duration_minutes: 40,
        notes: Some("Scars on both cheeks, rolled in four directions.".into()),
        interval_override_reason: None,
        course_id: None,
        consumables: vec![pb::ConsumableRequest {
            product_id: product.into(),
            serial: None,
            lot_id: None,
            quantity: None,
        }],
    }
}
