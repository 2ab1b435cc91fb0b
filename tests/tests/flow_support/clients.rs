//! Clients over REST: a new one, registered, screened and eligible, and a treatment for one.

use serde_json::{Value, json};
use uuid::Uuid;

use super::Rest;
use super::reading::id_of;

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
