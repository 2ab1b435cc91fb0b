//! Each message's OpenAPI counterpart, and the differences the transports keep on purpose.

use Rest::{Nothing, Request, Schema};

/// What a message is compared with in the OpenAPI document. A message missing from [`PAIRS`]
/// is compared with the schema of its own name.
pub(crate) enum Rest {
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

/// Every message whose counterpart is not the schema of its own name.
pub(crate) const PAIRS: &[(&str, Rest)] = &[
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
pub(crate) const RENAMED_FIELDS: &[(&str, &[&str], &[&str], &str)] = &[
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
pub(crate) const OPTIONAL_THOUGH_REQUIRED: &[(&str, &[&str], &str)] = &[(
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
pub(crate) const PLAIN_THOUGH_OPTIONAL: &[(&str, &[&str], &str)] = &[
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
