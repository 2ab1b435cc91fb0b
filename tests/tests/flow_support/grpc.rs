//! The same steps over gRPC: the service clients, idempotency keys, messages and refusals.

use skinledger_e2e::pb;
use tonic::transport::Channel;
use uuid::Uuid;

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
