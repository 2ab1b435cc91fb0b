//! Clients screened and eligible to be treated, and a treatment of one of them.

use serde_json::{Value, json};

use crate::figures::{concurrency, measure};
use crate::server::HttpApi;

/// Registers `count` clients, each screened at `clinic` with nothing to report, so that each
/// may be treated today; prints the two rates.
pub(crate) async fn eligible_clients(
    api: &HttpApi,
    token: &str,
    clinic: &str,
    count: usize,
    tag: &str,
) -> Vec<String> {
    let in_flight = concurrency();
    let clients = std::sync::Mutex::new(vec![String::new(); count]);
    let mut registered = measure("POST /v1/clients", count, in_flight, |i| {
        let clients = &clients;
        async move {
            let body = json!({"first_name": format!("{tag}{i}"), "last_name": "Client", "date_of_birth": "1990-05-17", "phone": format!("+49 151 {i:07}"), "email": format!("{tag}{i}@example.test")});
            let (status, body) = api
                .call(reqwest::Method::POST, "/v1/clients", token, Some(&body))
                .await;
            assert_eq!(status, 201, "{body}");
            clients.lock().expect("lock")[i] = body["id"].as_str().expect("id").to_owned();
        }
    })
    .await;
    let clients = clients.into_inner().expect("lock");
    let no = json!({"pregnant": false, "active_acne": false, "inflamed_or_infected_skin": false, "active_herpes": false, "herpes_history": false, "eczema_or_rosacea": false, "anticoagulants": false, "autoimmune_disease": false, "frequent_alcohol_use": false, "very_sensitive_skin": false});
    let mut screened = measure("POST /v1/clients/{id}/screenings", count, in_flight, |i| {
        let (clients, no) = (&clients, &no);
        async move {
            let (status, body) = api
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/screenings", clients[i]),
                    token,
                    Some(&json!({"clinic_id": clinic, "answers": no})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    })
    .await;
    registered.print();
    screened.print();
    clients
}

/// A treatment of `client` at `clinic` with one roller of `lot`.
pub(crate) fn treatment(clinic: &str, client: &str, roller: &str, lot: &str) -> Value {
    json!({
        "clinic_id": clinic, "client_id": client, "indications": ["fine_lines_and_wrinkles"], "areas": ["full_face"],
        "device_kind": "roller", "needle_depth_mm": 0.5, "passes": 8, "endpoint": "erythema", "duration_minutes": 30,
        "consumables": [{"product_id": roller, "lot_id": lot}],
    })
}
