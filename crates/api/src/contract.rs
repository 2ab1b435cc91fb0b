//! The OpenAPI document as integrators receive it: what utoipa generates from the handlers,
//! completed in one place with what every operation shares, so that no handler can forget it:
//!
//! - every response has a description, and every error answer is `application/problem+json`
//!   with the `Problem` schema (on the FHIR export under `/fhir/`, `application/fhir+json` with
//!   the `OperationOutcome` schema);
//! - every protected operation documents 401 and 403, every operation on a path id 404, every
//!   operation with a body 400, 415 and 422, every GET of a versioned resource 304; 201 carries
//!   `Location` and 429 `Retry-After`;
//! - `limit` shows its bounds; a page's items are references to their item schema;
//! - `servers` names the server that serves the document.

use serde_json::{Map, Value, json};
use skinledger_app::paging::MAX_LIMIT;

/// The problem document's media type (RFC 9457).
pub const PROBLEM: &str = "application/problem+json";

/// The media type of the FHIR export's answers and refusals.
pub const FHIR: &str = "application/fhir+json";

/// Completes the generated document (see the module documentation).
pub fn complete(mut doc: Value) -> Value {
    doc["servers"] = json!([{
        "url": "/",
        "description": "The server that serves this document (REST under /v1, the FHIR R4 export under /fhir/R4; gRPC on the same port)"
    }]);
    let named: std::collections::BTreeSet<String> = doc["components"]["schemas"]
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                if let Some(operation) = operation.as_object_mut() {
                    complete_operation(path, method, operation);
                }
            }
        }
    }
    if let Some(schemas_out) = doc["components"]["schemas"].as_object_mut() {
        refer_page_items(schemas_out, &named);
    }
    doc
}

fn complete_operation(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let protected = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let has_body = operation.contains_key("requestBody");
    let on_an_id = path.contains('{');
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters {
            if parameter["in"] == "query" && parameter["name"] == "limit" {
                parameter["schema"]["minimum"] = json!(1);
                parameter["schema"]["maximum"] = json!(MAX_LIMIT);
                parameter["schema"]["default"] = json!(skinledger_app::paging::DEFAULT_LIMIT);
            }
        }
    }
    let Some(responses) = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    else {
        return;
    };
    // A GET answering a versioned resource (with an ETag) answers 304 to If-None-Match.
    let versioned = method == "get"
        && responses
            .get("200")
            .is_some_and(|r| r["headers"].get("ETag").is_some());
    let mut wanted: Vec<&str> = Vec::new();
    if protected {
        wanted.extend(["401", "403"]);
    }
    if on_an_id {
        wanted.push("404");
    }
    if has_body {
        wanted.extend(["400", "415", "422"]);
    }
    if versioned {
        wanted.push("304");
    }
    for status in wanted {
        responses.entry(status).or_insert_with(|| json!({}));
    }
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        if response.contains_key("$ref") {
            continue;
        }
        let described = response
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.is_empty());
        if !described {
            response.insert("description".into(), json!(describe(status)));
        }
        if status.starts_with('4') || status.starts_with('5') {
            let (media_type, refusal) = if path.starts_with("/fhir/") {
                (FHIR, "#/components/schemas/OperationOutcome")
            } else {
                (PROBLEM, "#/components/schemas/Problem")
            };
            let schema = response
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .and_then(|c| c.remove("application/json").or_else(|| c.remove(FHIR)))
                .and_then(|c| c.get("schema").cloned())
                .unwrap_or_else(|| json!({ "$ref": refusal }));
            response.insert(
                "content".into(),
                json!({ media_type: { "schema": schema } }),
            );
        }
        let headers = response.entry("headers").or_insert_with(|| json!({}));
        match status.as_str() {
            "201" => {
                headers["Location"] = json!({
                    "description": "The URL of what was created (for an entry with no URL of its own, of what it belongs to)",
                    "schema": { "type": "string" }
                });
            }
            "304" => {
                headers["ETag"] = json!({
                    "description": "The version the client already has, quoted",
                    "schema": { "type": "string" }
                });
            }
            "429" => {
                headers["Retry-After"] = json!({
                    "description": "Seconds until an attempt will be checked again",
                    "schema": { "type": "integer", "minimum": 1 }
                });
            }
            _ => {}
        }
        if headers.as_object().is_some_and(Map::is_empty) {
            response.remove("headers");
        }
    }
}

/// What an answer with `status` means, where the handler said nothing more precise.
fn describe(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "Done; no content",
        "304" => "Not modified: `If-None-Match` names the version answered; no body",
        "400" => {
            "The request could not be read (`bad_request`): not JSON, a wrong content type, an unreadable query string or header"
        }
        "401" => "No valid access token (`unauthenticated`), or credentials that do not hold",
        "403" => {
            "Authenticated, but the caller's roles do not allow this (`forbidden` or a more precise code)"
        }
        "404" => "Nothing with that id in the caller's organisation (`not_found`)",
        "408" => "The request body stopped arriving (`request_timeout`)",
        "409" => "A business rule refuses the change; `code` names it",
        "405" => "The path does not take this method (`method_not_allowed`); see `Allow`",
        "412" => "`If-Match` is not the current version (`precondition_failed`)",
        "415" => "The body is not declared `application/json` (`unsupported_media_type`)",
        "413" => "The body is larger than the server accepts (`payload_too_large`)",
        "422" => {
            "Field values that are not acceptable, each named in `errors` (`validation_failed`)"
        }
        "429" => "Too many attempts (`too_many_attempts`); see `Retry-After`",
        "500" => "An internal error; details are in the server's log",
        "503" => "The database cannot be reached now (`unavailable`)",
        "507" => "The database's storage is full; nothing was saved (`insufficient_storage`)",
        _ => "See the problem document's `code`",
    }
}

/// `Page_X.items.items` becomes a reference to `X` where that schema exists, instead of a copy.
fn refer_page_items(schemas: &mut Map<String, Value>, named: &std::collections::BTreeSet<String>) {
    for (name, schema) in schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if named.contains(item) {
            schema["properties"]["items"]["items"] =
                json!({ "$ref": format!("#/components/schemas/{item}") });
        }
    }
}
