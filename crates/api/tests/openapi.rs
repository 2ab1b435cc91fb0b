//! The OpenAPI document: generated from the handlers, covering the whole REST contract, and
//! snapshot-tested so that any change to it is a reviewed change.

#![expect(clippy::expect_used, reason = "tests")]

use std::path::Path;

/// Every path of the REST contract, with its methods.
const CONTRACT: &[(&str, &[&str])] = &[
    ("/v1/auth/token", &["post"]),
    ("/v1/auth/revoke", &["post"]),
    ("/v1/me", &["get"]),
    ("/v1/clinics", &["get", "post"]),
    ("/v1/clinics/{id}", &["get", "patch"]),
    ("/v1/staff", &["get", "post"]),
    ("/v1/staff/{id}", &["get", "patch"]),
    ("/v1/staff/{id}/roles", &["put"]),
    ("/v1/staff/{id}/deactivate", &["post"]),
    ("/v1/api-clients", &["get", "post"]),
    ("/v1/api-clients/{id}", &["delete"]),
    ("/v1/policy", &["get", "put"]),
    ("/v1/clients", &["get", "post"]),
    ("/v1/clients/{id}", &["get", "patch"]),
    ("/v1/clients/{id}/screenings", &["get", "post"]),
    ("/v1/screenings/{id}/clearance", &["post"]),
    ("/v1/eligibility", &["post"]),
    ("/v1/treatments", &["post"]),
    ("/v1/treatments/{id}", &["get", "patch"]),
    ("/v1/treatments/{id}/sign", &["post"]),
    ("/v1/treatments/{id}/addenda", &["post"]),
    ("/v1/treatments/{id}/adverse-events", &["post"]),
    ("/v1/treatments/{id}/aftercare", &["get"]),
    ("/v1/clients/{id}/treatments", &["get"]),
    ("/v1/products", &["get", "post"]),
    ("/v1/products/{id}", &["get", "patch"]),
    ("/v1/clinics/{id}/stock", &["get"]),
    ("/v1/clinics/{id}/receipts", &["post"]),
    ("/v1/clinics/{id}/adjustments", &["post"]),
    ("/v1/clinics/{id}/stocktakes", &["post"]),
    ("/v1/clinics/{id}/movements", &["get"]),
    ("/v1/transfers", &["get", "post"]),
    ("/v1/transfers/{id}/receive", &["post"]),
    ("/v1/lots/{id}", &["get"]),
    ("/v1/lots/{id}/recall", &["post"]),
    ("/v1/lots/{id}/trace", &["get"]),
    ("/v1/reports/low-stock", &["get"]),
    ("/v1/reports/expiring", &["get"]),
    ("/v1/reports/usage", &["get"]),
    ("/v1/audit-events", &["get"]),
];

fn document() -> serde_json::Value {
    serde_json::to_value(skinledger_api::openapi()).expect("the document serialises")
}

#[test]
fn every_path_of_the_contract_is_documented_with_its_methods() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for (path, methods) in CONTRACT {
        for method in *methods {
            if paths.get(*path).and_then(|p| p.get(*method)).is_none() {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(missing.is_empty(), "not documented: {missing:?}");
}

#[test]
fn every_operation_documents_its_success_answer() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} documents no success answer"
            );
        }
    }
}

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let current =
        serde_json::to_string_pretty(&document()).expect("the document serialises") + "\n";
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.snapshot.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &current).expect("snapshot written");
        return;
    }
    let stored = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        stored == current,
        "the OpenAPI document changed: review the difference, then run \
         `UPDATE_SNAPSHOTS=1 cargo test -p skinledger-api --test openapi` to accept it"
    );
}
