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

mod counterparts;
mod shapes;

use std::collections::{BTreeMap, BTreeSet};

use counterparts::Rest::{Nothing, Request, Schema};
use counterparts::{OPTIONAL_THOUGH_REQUIRED, PAIRS, PLAIN_THOUGH_OPTIONAL, RENAMED_FIELDS, Rest};
use shapes::{listed, messages, request_shape, shape};

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
