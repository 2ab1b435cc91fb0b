//! The fields of a protobuf message and of its OpenAPI schema or request, side by side.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use prost_types::FileDescriptorSet;
use prost_types::field_descriptor_proto::{Label, Type};
use serde_json::Value;

/// A message field as it bears on presence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProtoField {
    pub(crate) repeated: bool,
    pub(crate) message: bool,
    pub(crate) optional: bool,
}

/// The fields and the required fields of an OpenAPI counterpart.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    pub(crate) fields: BTreeSet<String>,
    pub(crate) required: BTreeSet<String>,
}

/// Every message of `skinledger.v1`, by name, with its fields.
pub(crate) fn messages() -> BTreeMap<String, BTreeMap<String, ProtoField>> {
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
pub(crate) fn shape(doc: &Value, schema: &Value) -> Shape {
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
pub(crate) fn request_shape(doc: &Value, operation: &str, id: Option<&str>) -> Shape {
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
pub(crate) fn listed(
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
