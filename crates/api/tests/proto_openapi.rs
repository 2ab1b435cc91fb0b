//! The gRPC contract and the REST contract cannot drift apart: every protobuf message of
//! `skinledger.v1` is compared with its OpenAPI counterpart (the same field names; a field REST
//! requires is never `optional` in the message; a field REST may leave out is `optional` there),
//! and a message without one says why, so that a new message has to be paired or explained.
//!
//! This is the second half of the guard. The first is in `grpc::wire`: the conversions
//! destructure app types exhaustively, so a field added to an app type does not compile until
//! the message carries it, and then this test fails until the OpenAPI schema and the message
//! agree.
//!
//! Proto3 cannot mark a field required, so required-ness is compared through presence:
//!
//! - a scalar with `optional` has presence and is what REST may leave out;
//! - a singular message field always has presence: REST may require it (the server then always
//!   sets it) or not, unless it is marked `optional`, which says REST may leave it out;
//! - a repeated field has no presence (an empty list and none are the same on the wire), so it
//!   stands for a REST array whether REST requires it or not.

#![expect(clippy::expect_used, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use prost_types::FileDescriptorSet;
use prost_types::field_descriptor_proto::{Label, Type};
use serde_json::Value;

/// What a message is compared with in the OpenAPI document. A message missing from [`PAIRS`]
/// is compared with the schema of its own name.
enum Rest {
    /// A schema of `components.schemas`.
    Schema(&'static str),
    /// A request: the JSON body of the operation `METHOD /path`, when it has one, with its
    /// parameters. The path's `{id}` is the message field named here, any other path parameter
    /// the field of its name, `If-Match` is `if_match`
    /// and each query parameter is the field of its name; the other headers are REST's own
    /// (`Accept`) or travel as gRPC metadata (`Idempotency-Key`).
    Request(&'static str, Option<&'static str>),
    /// No counterpart, for the reason given.
    Nothing(&'static str),
}

use Rest::{Nothing, Request, Schema};

/// Every message whose counterpart is not the schema of its own name.
const PAIRS: &[(&str, Rest)] = &[
    // Auth.
    ("TokenResponse", Schema("TokenAnswer")),
    ("RevokeResponse", Nothing("REST answers 204 without a body")),
    ("MeRequest", Request("GET /v1/me", None)),
    ("MeResponse", Schema("Me")),
    // Organisation.
    ("CreateClinicRequest", Request("POST /v1/clinics", None)),
    (
        "GetClinicRequest",
        Request("GET /v1/clinics/{id}", Some("id")),
    ),
    ("ListClinicsRequest", Request("GET /v1/clinics", None)),
    ("ListClinicsResponse", Schema("Page_Clinic")),
    (
        "UpdateClinicRequest",
        Request("PATCH /v1/clinics/{id}", Some("id")),
    ),
    ("CreateStaffRequest", Request("POST /v1/staff", None)),
    ("GetStaffRequest", Request("GET /v1/staff/{id}", Some("id"))),
    ("ListStaffRequest", Request("GET /v1/staff", None)),
    ("ListStaffResponse", Schema("Page_StaffMember")),
    (
        "UpdateStaffRequest",
        Request("PATCH /v1/staff/{id}", Some("id")),
    ),
    (
        "DeactivateStaffRequest",
        Request("POST /v1/staff/{id}/deactivate", Some("id")),
    ),
    (
        "SetStaffRolesRequest",
        Request("PUT /v1/staff/{id}/roles", Some("id")),
    ),
    (
        "CreateApiClientRequest",
        Request("POST /v1/api-clients", None),
    ),
    (
        "ListApiClientsRequest",
        Request("GET /v1/api-clients", None),
    ),
    ("ListApiClientsResponse", Schema("Page_ApiClient")),
    (
        "RevokeApiClientRequest",
        Request("DELETE /v1/api-clients/{id}", Some("id")),
    ),
    ("Policy", Schema("PolicyVersion")),
    ("GetPolicyRequest", Request("GET /v1/policy", None)),
    (
        "PutPolicyRequest",
        Nothing(
            "PUT /v1/policy takes the policy document itself as its body; the message carries it \
             as the JSON text `document_json`, with `if_match` for the If-Match header",
        ),
    ),
    // Clients, screenings and courses.
    ("CreateClientRequest", Request("POST /v1/clients", None)),
    (
        "GetClientRequest",
        Request("GET /v1/clients/{id}", Some("id")),
    ),
    ("ListClientsRequest", Request("GET /v1/clients", None)),
    ("ListClientsResponse", Schema("Page_Client")),
    (
        "UpdateClientRequest",
        Request("PATCH /v1/clients/{id}", Some("id")),
    ),
    ("ScreeningReason", Schema("Reason")),
    (
        "RecordScreeningRequest",
        Request("POST /v1/clients/{id}/screenings", Some("client_id")),
    ),
    (
        "ListScreeningsRequest",
        Request("GET /v1/clients/{id}/screenings", Some("client_id")),
    ),
    ("ListScreeningsResponse", Schema("Page_Screening")),
    (
        "GetScreeningRequest",
        Request("GET /v1/screenings/{id}", Some("id")),
    ),
    (
        "ClearScreeningFactorRequest",
        Request("POST /v1/screenings/{id}/clearance", Some("id")),
    ),
    (
        "CreateCourseRequest",
        Request("POST /v1/clients/{id}/courses", Some("client_id")),
    ),
    (
        "ListCoursesRequest",
        Request("GET /v1/clients/{id}/courses", Some("client_id")),
    ),
    ("ListCoursesResponse", Schema("Page_Course")),
    (
        "GetCourseRequest",
        Request("GET /v1/courses/{id}", Some("id")),
    ),
    // Treatments.
    (
        "CheckEligibilityRequest",
        Request("POST /v1/eligibility", None),
    ),
    (
        "CreateTreatmentRequest",
        Request("POST /v1/treatments", None),
    ),
    (
        "GetTreatmentRequest",
        Request("GET /v1/treatments/{id}", Some("id")),
    ),
    (
        "ListClientTreatmentsRequest",
        Request("GET /v1/clients/{id}/treatments", Some("client_id")),
    ),
    ("ListTreatmentsResponse", Schema("Page_Treatment")),
    (
        "StringList",
        Nothing(
            "gives the lists of UpdateTreatmentRequest presence, so that a list left unset stays \
             as it is; REST sends the array or leaves it out",
        ),
    ),
    (
        "UpdateTreatmentRequest",
        Request("PATCH /v1/treatments/{id}", Some("id")),
    ),
    (
        "SignTreatmentRequest",
        Request("POST /v1/treatments/{id}/sign", Some("id")),
    ),
    (
        "AddAddendumRequest",
        Request("POST /v1/treatments/{id}/addenda", Some("treatment_id")),
    ),
    (
        "RecordAdverseEventRequest",
        Request(
            "POST /v1/treatments/{id}/adverse-events",
            Some("treatment_id"),
        ),
    ),
    (
        "GetAftercareRequest",
        Request("GET /v1/treatments/{id}/aftercare", Some("treatment_id")),
    ),
    // Inventory.
    ("CreateProductRequest", Request("POST /v1/products", None)),
    (
        "GetProductRequest",
        Request("GET /v1/products/{id}", Some("id")),
    ),
    ("ListProductsRequest", Request("GET /v1/products", None)),
    ("ListProductsResponse", Schema("Page_Product")),
    (
        "UpdateProductRequest",
        Request("PATCH /v1/products/{id}", Some("id")),
    ),
    (
        "GetClinicStockRequest",
        Request("GET /v1/clinics/{id}/stock", Some("clinic_id")),
    ),
    (
        "ReceiveStockRequest",
        Request("POST /v1/clinics/{id}/receipts", Some("clinic_id")),
    ),
    (
        "AdjustStockRequest",
        Request("POST /v1/clinics/{id}/adjustments", Some("clinic_id")),
    ),
    (
        "RecordDisposalRequest",
        Request("POST /v1/clinics/{id}/disposals", Some("clinic_id")),
    ),
    (
        "RecordStocktakeRequest",
        Request("POST /v1/clinics/{id}/stocktakes", Some("clinic_id")),
    ),
    (
        "ListMovementsRequest",
        Request("GET /v1/clinics/{id}/movements", Some("clinic_id")),
    ),
    ("ListMovementsResponse", Schema("Page_Movement")),
    ("SendTransferRequest", Request("POST /v1/transfers", None)),
    (
        "ReceiveTransferRequest",
        Request("POST /v1/transfers/{id}/receive", Some("id")),
    ),
    (
        "CancelTransferRequest",
        Request("POST /v1/transfers/{id}/cancel", Some("id")),
    ),
    (
        "GetTransferRequest",
        Request("GET /v1/transfers/{id}", Some("id")),
    ),
    ("ListTransfersRequest", Request("GET /v1/transfers", None)),
    ("ListTransfersResponse", Schema("Page_Transfer")),
    ("GetLotRequest", Request("GET /v1/lots/{id}", Some("id"))),
    (
        "GetLotSignalRequest",
        Request("GET /v1/lots/{id}/signal", Some("id")),
    ),
    (
        "ReleaseLotRequest",
        Request("POST /v1/lots/{id}/release", Some("id")),
    ),
    (
        "RecallLotRequest",
        Request("POST /v1/lots/{id}/recall", Some("id")),
    ),
    (
        "TraceLotRequest",
        Request("GET /v1/lots/{id}/trace", Some("id")),
    ),
    (
        "TraceLotCsvRequest",
        Request("GET /v1/lots/{id}/trace", Some("id")),
    ),
    (
        "LotTraceCsv",
        Nothing(
            "REST answers the CSV document itself for `Accept: text/csv`, its file name in \
             Content-Disposition",
        ),
    ),
    // Reports.
    (
        "LowStockRequest",
        Request("GET /v1/reports/low-stock", None),
    ),
    ("LowStockResponse", Schema("Report_LowStockLine")),
    ("ExpiringRequest", Request("GET /v1/reports/expiring", None)),
    ("ExpiringResponse", Schema("Report_ExpiringLine")),
    ("UsageRequest", Request("GET /v1/reports/usage", None)),
    ("UsageResponse", Schema("Report_UsageLine")),
    (
        "DisposalsRequest",
        Request("GET /v1/reports/disposals", None),
    ),
    ("DisposalsResponse", Schema("Report_DisposalLine")),
    // Audit.
    ("AuditEvent", Schema("AuditEntry")),
    (
        "ListAuditEventsRequest",
        Request("GET /v1/audit-events", None),
    ),
    ("ListAuditEventsResponse", Schema("Page_AuditEntry")),
    ("GetAuditHeadRequest", Request("GET /v1/audit/head", None)),
    (
        "VerifyAuditChainRequest",
        Request("GET /v1/audit/verify", None),
    ),
    // Events.
    ("ListEventsRequest", Request("GET /v1/events", None)),
    ("ListEventsResponse", Schema("EventPage")),
    (
        "WatchEventsRequest",
        Nothing("a server stream; REST follows the feed with `GET /v1/events?wait=`"),
    ),
    // Webhooks.
    ("CreateWebhookRequest", Request("POST /v1/webhooks", None)),
    ("ListWebhooksRequest", Request("GET /v1/webhooks", None)),
    ("ListWebhooksResponse", Schema("Page_Webhook")),
    (
        "GetWebhookRequest",
        Request("GET /v1/webhooks/{id}", Some("id")),
    ),
    (
        "UpdateWebhookRequest",
        Request("PATCH /v1/webhooks/{id}", Some("id")),
    ),
    (
        "DeleteWebhookRequest",
        Request("DELETE /v1/webhooks/{id}", Some("id")),
    ),
    (
        "DeleteWebhookResponse",
        Nothing("REST answers 204 without a body"),
    ),
    (
        "ListWebhookDeliveriesRequest",
        Request("GET /v1/webhooks/{id}/deliveries", Some("webhook_id")),
    ),
    (
        "ListWebhookDeliveriesResponse",
        Schema("Page_WebhookDelivery"),
    ),
    (
        "RetryWebhookDeliveryRequest",
        Request(
            "POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry",
            Some("webhook_id"),
        ),
    ),
    (
        "ReplayWebhookRequest",
        Request("POST /v1/webhooks/{id}/replay", Some("id")),
    ),
];

/// Fields the two transports carry differently on purpose: (message, fields only the message
/// has, fields only REST has, why).
const RENAMED_FIELDS: &[(&str, &[&str], &[&str], &str)] = &[
    (
        "Policy",
        &["document_json"],
        &["document"],
        "the policy document travels as the JSON text REST answers as `document`, with the same \
         fields and validation",
    ),
    (
        "TraceLotRequest",
        &[],
        &["bom"],
        "a byte order mark concerns only the CSV answer, which TraceLotCsvRequest asks for",
    ),
];

/// Fields REST requires that the message keeps `optional` on purpose: (message, fields, why).
const OPTIONAL_THOUGH_REQUIRED: &[(&str, &[&str], &str)] = &[(
    "ScreeningAnswers",
    &[
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
    ],
    "every yes/no answer must be sent: presence lets the server refuse an unset answer, as REST \
     refuses a missing one, instead of reading it as a \"no\" (answers always set them)",
)];

/// Scalars REST may leave out that the message sends without presence on purpose, their proto3
/// default meaning what REST assumes when they are left out: (message, fields, why).
const PLAIN_THOUGH_OPTIONAL: &[(&str, &[&str], &str)] = &[
    (
        "CreateClientRequest",
        &["photo_consent"],
        "false when left out, in both",
    ),
    (
        "TraceLotCsvRequest",
        &["bom"],
        "false when left out, in both",
    ),
    (
        "TokenRequest",
        &[
            "org",
            "email",
            "password",
            "refresh_token",
            "client_id",
            "client_secret",
        ],
        "an empty text is a field not sent: no grant takes an empty one",
    ),
];

/// A message field as it bears on presence.
#[derive(Debug, Clone, Copy)]
struct ProtoField {
    repeated: bool,
    message: bool,
    optional: bool,
}

/// The fields and the required fields of an OpenAPI counterpart.
#[derive(Debug, Default)]
struct Shape {
    fields: BTreeSet<String>,
    required: BTreeSet<String>,
}

/// Every message of `skinledger.v1`, by name, with its fields.
fn messages() -> BTreeMap<String, BTreeMap<String, ProtoField>> {
    let set = FileDescriptorSet::decode(skinledger_api::grpc::pb::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut all = BTreeMap::new();
    for file in set.file.iter().filter(|f| f.package() == "skinledger.v1") {
        for message in &file.message_type {
            assert!(
                message.nested_type.is_empty(),
                "{} nests messages; compare them too",
                message.name()
            );
            let fields = message
                .field
                .iter()
                .map(|f| {
                    let field = ProtoField {
                        repeated: f.label() == Label::Repeated,
                        message: f.r#type() == Type::Message,
                        optional: f.proto3_optional(),
                    };
                    (f.name().to_owned(), field)
                })
                .collect();
            all.insert(message.name().to_owned(), fields);
        }
    }
    all
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a reference to a component schema");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The fields of a schema. `allOf` (a flattened part) adds its parts' fields; `oneOf` (the
/// variants of a tagged enum) has every variant's fields, required when every variant requires
/// them.
fn shape(doc: &Value, schema: &Value) -> Shape {
    let schema = resolve(doc, schema);
    let mut out = Shape::default();
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            let part = shape(doc, part);
            out.fields.extend(part.fields);
            out.required.extend(part.required);
        }
        return out;
    }
    if let Some(variants) = schema["oneOf"].as_array() {
        let mut required: Option<BTreeSet<String>> = None;
        for variant in variants {
            let variant = shape(doc, variant);
            out.fields.extend(variant.fields);
            required = Some(match required {
                None => variant.required,
                Some(r) => r.intersection(&variant.required).cloned().collect(),
            });
        }
        out.required = required.unwrap_or_default();
        return out;
    }
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("an object schema: {schema}"));
    out.fields = properties.keys().cloned().collect();
    out.required = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r.as_str().expect("a field name").to_owned())
        .collect();
    out
}

/// The fields of an operation's request: its JSON body's, and its parameters, as named in
/// [`Rest::Request`].
fn request_shape(doc: &Value, operation: &str, id: Option<&str>) -> Shape {
    let (method, path) = operation.split_once(' ').expect("METHOD /path");
    let op = &doc["paths"][path][method.to_lowercase()];
    assert!(op.is_object(), "{operation} is not in the OpenAPI document");
    let mut out = match op["requestBody"]["content"].get("application/json") {
        Some(body) => shape(doc, &body["schema"]),
        None => Shape::default(),
    };
    for parameter in op["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().expect("a parameter name");
        let field = match (parameter["in"].as_str().expect("a parameter place"), name) {
            ("path", "id") => id.unwrap_or_else(|| panic!("{operation}: name the id's field")),
            // Any other path parameter is the field of its name.
            ("path", other) => other,
            ("header", "If-Match") => "if_match",
            ("header", _) => continue,
            ("query", name) => name,
            (place, name) => panic!("{operation}: parameter {name} in {place}"),
        };
        out.fields.insert(field.to_owned());
        if parameter["required"].as_bool() == Some(true) {
            out.required.insert(field.to_owned());
        }
    }
    out
}

/// Whether `field` of `message` is in one of the `listed` exceptions; each one found is
/// recorded in `used`.
fn listed(
    listed: &[(&'static str, &'static [&'static str], &'static str)],
    message: &str,
    field: &str,
    used: &mut BTreeSet<(&'static str, &'static str)>,
) -> bool {
    for (m, fields, _why) in listed {
        if *m == message
            && let Some(f) = fields.iter().find(|f| **f == field)
        {
            used.insert((*m, *f));
            return true;
        }
    }
    false
}

#[test]
fn every_message_carries_the_fields_of_its_openapi_counterpart() {
    let doc = skinledger_api::openapi();
    let messages = messages();
    assert!(messages.len() > 50, "the descriptor set holds the contract");
    let pairs: BTreeMap<&str, &Rest> = PAIRS.iter().map(|(m, r)| (*m, r)).collect();
    assert_eq!(pairs.len(), PAIRS.len(), "a message is paired twice");
    let renamed_proto: Vec<_> = RENAMED_FIELDS
        .iter()
        .map(|(m, proto, _, why)| (*m, *proto, *why))
        .collect();
    let renamed_rest: Vec<_> = RENAMED_FIELDS
        .iter()
        .map(|(m, _, rest, why)| (*m, *rest, *why))
        .collect();
    let mut used = BTreeSet::new();
    let mut drift = Vec::new();

    for (name, fields) in &messages {
        let rest = match pairs.get(name.as_str()) {
            Some(Schema(schema)) => shape(&doc, &doc["components"]["schemas"][*schema]),
            Some(Request(operation, id)) => request_shape(&doc, operation, *id),
            Some(Nothing(why)) => {
                assert!(!why.is_empty(), "{name}: say why it has no counterpart");
                continue;
            }
            None if doc["components"]["schemas"].get(name).is_some() => {
                shape(&doc, &doc["components"]["schemas"][name])
            }
            None => {
                drift.push(format!(
                    "{name}: no schema of that name; pair it in PAIRS, or say why it has none"
                ));
                continue;
            }
        };
        for field in fields.keys() {
            if !rest.fields.contains(field) && !listed(&renamed_proto, name, field, &mut used) {
                drift.push(format!("{name}.{field}: not in REST"));
            }
        }
        for field in &rest.fields {
            if !fields.contains_key(field) && !listed(&renamed_rest, name, field, &mut used) {
                drift.push(format!("{name}.{field}: in REST, not in the message"));
            }
        }
        for (field, proto) in fields {
            if proto.repeated || !rest.fields.contains(field) {
                continue;
            }
            let required = rest.required.contains(field);
            if required
                && proto.optional
                && !listed(OPTIONAL_THOUGH_REQUIRED, name, field, &mut used)
            {
                drift.push(format!(
                    "{name}.{field}: REST requires it, the message has it `optional`"
                ));
            }
            if !required
                && !proto.optional
                && !proto.message
                && !listed(PLAIN_THOUGH_OPTIONAL, name, field, &mut used)
            {
                drift.push(format!(
                    "{name}.{field}: REST may leave it out, the message cannot tell it unset \
                     (make it `optional`)"
                ));
            }
        }
    }

    for (message, _) in PAIRS {
        if !messages.contains_key(*message) {
            drift.push(format!("PAIRS names {message}, which is no message"));
        }
    }
    for list in [&renamed_proto, &renamed_rest] {
        for (message, fields, _) in list {
            for field in *fields {
                if !used.contains(&(*message, *field)) {
                    drift.push(format!("{message}.{field}: listed as renamed, but is not"));
                }
            }
        }
    }
    for list in [OPTIONAL_THOUGH_REQUIRED, PLAIN_THOUGH_OPTIONAL] {
        for (message, fields, _) in list {
            for field in *fields {
                if !used.contains(&(*message, *field)) {
                    drift.push(format!(
                        "{message}.{field}: listed as an exception, but is none"
                    ));
                }
            }
        }
    }
    assert!(
        drift.is_empty(),
        "gRPC and REST differ:\n{}",
        drift.join("\n")
    );
}
