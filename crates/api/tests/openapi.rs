//! The OpenAPI document: generated from the handlers, covering the whole REST contract, and
//! snapshot-tested so that any change to it is a reviewed change.

#![expect(clippy::expect_used, reason = "tests")]

use std::path::Path;

use serde_json::Value;

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
    ("/v1/lots/{id}/signal", &["get"]),
    ("/v1/lots/{id}/release", &["post"]),
    ("/v1/reports/low-stock", &["get"]),
    ("/v1/reports/expiring", &["get"]),
    ("/v1/reports/usage", &["get"]),
    ("/v1/audit-events", &["get"]),
    ("/v1/audit/head", &["get"]),
    ("/v1/audit/verify", &["get"]),
    ("/v1/events", &["get"]),
    ("/v1/webhooks", &["get", "post"]),
    ("/v1/webhooks/{id}", &["get", "patch", "delete"]),
    ("/v1/webhooks/{id}/deliveries", &["get"]),
    (
        "/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        &["post"],
    ),
    ("/v1/webhooks/{id}/replay", &["post"]),
    ("/fhir/R4/metadata", &["get"]),
    ("/fhir/R4/Patient/{id}", &["get"]),
    ("/fhir/R4/Patient/{id}/$everything", &["get"]),
    ("/fhir/R4/Procedure", &["get"]),
    ("/fhir/R4/Device/{id}", &["get"]),
    ("/fhir/R4/AdverseEvent", &["get"]),
    ("/fhir/R4/Consent", &["get"]),
];

fn document() -> Value {
    skinledger_api::openapi()
}

/// Every operation of the document: path, method, operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    all
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = document();
    let schema: Value = serde_json::from_str(include_str!("fixtures/openapi-3.1-schema.json"))
        .expect("the OpenAPI 3.1 schema");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()));
}

/// A JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every schema with an example or a default, by JSON pointer.
fn exemplified(pointer: String, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let is_schema =
                map.contains_key("type") || map.contains_key("$ref") || map.contains_key("enum");
            if is_schema
                && (map.contains_key("examples")
                    || map.contains_key("default")
                    || map.contains_key("example"))
            {
                found.push(pointer.clone());
            }
            for (key, inner) in map {
                // Examples are values, not schemas.
                if key != "examples" && key != "example" && key != "default" {
                    exemplified(format!("{pointer}/{}", escape(key)), inner, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                exemplified(format!("{pointer}/{i}"), inner, found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_and_default_fits_its_schema() {
    let doc = document();
    let mut pointers = Vec::new();
    exemplified(String::new(), &doc, &mut pointers);
    assert!(!pointers.is_empty());
    let mut wrong = Vec::new();
    for pointer in pointers {
        let schema = doc.pointer(&pointer).expect("the pointer was found here");
        // The whole document as the root, so that references resolve; `$ref` picks the schema.
        let mut root = doc.clone();
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = Value::from(format!("#{fragment}"));
        let validator = jsonschema::draft202012::new(&root).expect("the schema compiles");
        let mut values: Vec<&Value> = schema["examples"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        values.extend(schema.get("example"));
        values.extend(schema.get("default"));
        for value in values {
            if let Err(e) = validator.validate(value) {
                wrong.push(format!("{pointer}: {value} ({e})"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_answer_is_described_and_every_error_is_a_problem_document() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        // The FHIR export answers and refuses in FHIR's own terms.
        let (media_type, schema) = if path.starts_with("/fhir/") {
            (
                "application/fhir+json",
                "#/components/schemas/OperationOutcome",
            )
        } else {
            ("application/problem+json", "#/components/schemas/Problem")
        };
        for (status, response) in operation["responses"].as_object().expect("responses") {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                !description.is_empty(),
                "{method} {path} {status}: no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().expect("content");
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    vec![media_type],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content[media_type]["schema"]["$ref"], schema,
                    "{method} {path} {status}"
                );
            }
        }
        if path.starts_with("/fhir/") {
            let success = &operation["responses"]["200"]["content"];
            assert!(
                success.get("application/fhir+json").is_some(),
                "{method} {path}: {success}"
            );
        }
    }
}

#[test]
fn refusals_every_integrator_must_handle_are_documented_where_they_can_happen() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().expect("responses");
        let protected = operation["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
        let mut expected = Vec::new();
        if protected {
            expected.extend(["401", "403"]);
        }
        if path.contains('{') {
            expected.push("404");
        }
        if operation.get("requestBody").is_some() {
            expected.extend(["400", "415", "422"]);
        }
        for status in expected {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["name"] == "limit" {
                assert_eq!(parameter["schema"]["minimum"], 1, "{method} {path}");
                assert_eq!(parameter["schema"]["maximum"], 200, "{method} {path}");
            }
        }
    }
    let token = &doc["paths"]["/v1/auth/token"]["post"]["responses"]["429"];
    assert!(token["headers"]["Retry-After"].is_object(), "{token}");
    for (path, method, operation) in operations(&doc) {
        if let Some(created) = operation["responses"].get("201") {
            assert!(
                created["headers"]["Location"].is_object(),
                "{method} {path}: 201 without Location"
            );
        }
    }
    let client = &doc["paths"]["/v1/clients/{id}"]["get"]["responses"];
    assert!(client["304"].is_object(), "a versioned GET documents 304");
}

#[test]
fn page_items_refer_to_their_schema_and_descriptions_say_null() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let pages: Vec<&String> = schemas.keys().filter(|k| k.starts_with("Page_")).collect();
    assert!(!pages.is_empty());
    for page in pages {
        let items = &schemas[page]["properties"]["items"]["items"];
        assert!(
            items["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/components/schemas/")),
            "{page}: {items}"
        );
    }
    let text = doc.to_string();
    assert!(
        !text.contains("`None`"),
        "a description says None, not null"
    );
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

/// The schema `schema` stands for: references followed, `null` alternatives set aside.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            let real: Vec<&Value> = parts.iter().filter(|p| p["type"] != "null").collect();
            if real.len() == 1 {
                return resolve(doc, real[0]);
            }
        }
    }
    schema
}

/// Every schema in the document, with where it is.
fn every_schema<'a>(at: String, value: &'a Value, found: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("properties") {
                found.push((at.clone(), value));
            }
            for (key, inner) in map {
                every_schema(format!("{at}/{key}"), inner, found);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                every_schema(format!("{at}/{i}"), inner, found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_object_is_typed_and_every_closed_set_is_an_enum() {
    let doc = document();
    let mut schemas = Vec::new();
    every_schema(String::new(), &doc, &mut schemas);
    let mut untyped = Vec::new();
    for (at, schema) in &schemas {
        let is_object = schema["type"] == "object"
            || schema["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "object"));
        if is_object
            && schema.get("properties").is_none()
            && !schema["additionalProperties"].is_object()
            && schema.get("oneOf").is_none()
        {
            untyped.push(at.clone());
        }
    }
    assert!(
        untyped.is_empty(),
        "objects with nothing said of their members: {untyped:#?}"
    );

    // Fields that hold one of a fixed set of values, wherever they appear.
    const CLOSED: &[&str] = &[
        "role",
        "severity",
        "factor",
        "endpoint",
        "device_kind",
        "fitzpatrick_type",
        "areas",
        "indications",
        "status",
        "kind",
        "outcome",
        "actor_kind",
        "grant_type",
        "token_type",
    ];
    let mut open = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if !CLOSED.contains(&field.as_str()) {
                continue;
            }
            let resolved = resolve(&doc, property);
            let resolved = if resolved["type"] == "array"
                || resolved["type"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "array"))
            {
                resolve(&doc, &resolved["items"])
            } else {
                resolved
            };
            let listed = resolved.get("enum").is_some()
                || resolved["oneOf"].as_array().is_some_and(|alts| {
                    alts.iter().all(|a| {
                        a.get("enum").is_some() || a.get("const").is_some() || a["type"] == "null"
                    })
                });
            if !listed {
                open.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(
        open.is_empty(),
        "closed sets not listed as an enum: {open:#?}"
    );
}

#[test]
fn event_types_are_listed_as_they_travel() {
    let doc = document();
    let listed = &doc["components"]["schemas"]["EventType"]["enum"];
    let sent: Vec<Value> = skinledger_domain::events::EventType::ALL
        .iter()
        .map(|t| serde_json::to_value(t).expect("an event type serialises"))
        .collect();
    assert_eq!(listed, &Value::Array(sent));
}
