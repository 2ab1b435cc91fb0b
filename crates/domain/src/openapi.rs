//! OpenAPI schemas of the value types whose wire form is checked by hand (`try_from`), so that
//! the document states the same bounds the parsers enforce. The enums and structs derive theirs.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::depth::NeedleDepth;
use crate::events::EventType;
use crate::gtin::Gtin;
use crate::inventory::{LotNumber, Serial};
use crate::local_time::TimeZone;

/// GS1 character set 82, 1 to 20 characters, as lot and serial numbers are.
const GS1_TEXT: &str = r#"^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$"#;

fn gs1_text(description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(20))
        .pattern(Some(GS1_TEXT))
        .examples([example])
        .into()
}

impl PartialSchema for NeedleDepth {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "A needle length in millimetres: more than 0, at most 3.00, at most two decimals.",
            ))
            .exclusive_minimum(Some(0.0))
            .maximum(Some(3.0))
            .multiple_of(Some(0.01))
            .examples([0.5])
            .into()
    }
}
impl ToSchema for NeedleDepth {}

impl PartialSchema for EventType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The kind of an event."))
            .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
            .into()
    }
}
impl ToSchema for EventType {}

impl PartialSchema for Gtin {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A GTIN-8, -12, -13 or -14 with a valid check digit; answered as GTIN-14 (left-padded with zeros).",
            ))
            .pattern(Some("^([0-9]{8}|[0-9]{12,14})$"))
            .examples(["09506000134352"])
            .into()
    }
}
impl ToSchema for Gtin {}

impl PartialSchema for LotNumber {
    fn schema() -> RefOr<Schema> {
        gs1_text("A maker's lot (batch) number.", "LOT-2026-11")
    }
}
impl ToSchema for LotNumber {}

impl PartialSchema for Serial {
    fn schema() -> RefOr<Schema> {
        gs1_text("A unit's serial number.", "SN000123")
    }
}
impl ToSchema for Serial {}

impl PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time zone name."))
            .format(Some(SchemaFormat::Custom("iana-time-zone".into())))
            .examples(["Europe/Berlin"])
            .into()
    }
}
impl ToSchema for TimeZone {}
