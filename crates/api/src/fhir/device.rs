//! Single-use devices as FHIR `Device`s.
//!
//! A `Device`'s id is the id of its **lot**: rollers and pen cartridges are single use, and what
//! a recall, a signal or a receiving hospital needs is the batch a client was treated with. The
//! resource carries the product (name, maker, kind), the lot number, the expiry and the UDI
//! carrier from the GS1 data: the GTIN as device identifier and the human-readable element
//! string `(01)...(17)...(10)...`. A unit received with a serial number appears inside the
//! `Procedure` that consumed it, as a contained `Device` with its `serialNumber`, the full
//! element string with `(21)` and the lot's `Device` as `parent`.

use fhir_model::BuilderError;
use fhir_model::r4b::codes::{DeviceNameType, FHIRDeviceStatus};
use fhir_model::r4b::resources::{Device, DeviceDeviceName, DeviceUdiCarrier};
use fhir_model::r4b::types::{Annotation, Meta};
use skinledger_app::consumption::ConsumedUnit;
use skinledger_app::lots::LotDetail;
use skinledger_app::products::Product;
use skinledger_domain::gs1::{Gs1Data, encode_bracketed};
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::LotStatus;

use super::codes::{
    GS1_DI, LOT_IDS, PRODUCT_KIND, day, identifier, instant, reference, wire_concept,
};

/// What a device is made of: its lot and its product.
pub struct DeviceFacts<'a> {
    /// The lot, with the product's name and GTIN.
    pub lot: &'a LotDetail,
    /// The product.
    pub product: &'a Product,
}

impl DeviceFacts<'_> {
    /// The GS1 data of one unit of the lot: GTIN, expiry, lot number and, when given, serial.
    fn gs1(&self, serial: Option<&str>) -> Option<Gs1Data> {
        let gtin = Gtin::parse(self.lot.gtin.as_deref()?).ok()?;
        Some(Gs1Data {
            gtin: Some(gtin),
            lot: Some(self.lot.lot.lot_number.clone()),
            production_date: None,
            expiry: Some(self.lot.lot.expiry),
            serial: serial.map(str::to_owned),
        })
    }

    /// The UDI carrier of one unit, when the product has a GTIN.
    fn udi(&self, serial: Option<&str>) -> Result<Vec<Option<DeviceUdiCarrier>>, BuilderError> {
        let (Some(gtin), Some(data)) = (&self.lot.gtin, self.gs1(serial)) else {
            return Ok(Vec::new());
        };
        Ok(vec![Some(
            DeviceUdiCarrier::builder()
                .device_identifier(gtin.clone())
                .issuer(GS1_DI.to_owned())
                .carrier_hrf(encode_bracketed(&data))
                .build()?,
        )])
    }

    fn name(&self) -> Result<Vec<Option<DeviceDeviceName>>, BuilderError> {
        Ok(vec![Some(
            DeviceDeviceName::builder()
                .name(self.lot.product_name.clone())
                .r#type(DeviceNameType::UserFriendlyName)
                .build()?,
        )])
    }

    fn status(&self) -> FHIRDeviceStatus {
        // A recalled lot is out of use for good, a lot on hold until released.
        if self.lot.lot.status.withdrawal().is_some() {
            FHIRDeviceStatus::Inactive
        } else {
            FHIRDeviceStatus::Active
        }
    }

    /// The recall, as a note, when the lot was recalled.
    fn notes(&self) -> Result<Vec<Option<Annotation>>, BuilderError> {
        let lot = &self.lot.lot;
        match (lot.status, lot.recalled_at) {
            (LotStatus::Recalled, Some(at)) => Ok(vec![Some(
                Annotation::builder()
                    .time(super::codes::date_time(at))
                    .text(format!(
                        "Recalled: {}",
                        lot.recall_reason.as_deref().unwrap_or("no reason given")
                    ))
                    .build()?,
            )]),
            _ => Ok(Vec::new()),
        }
    }

    /// The lot as a `Device`.
    pub fn lot_device(&self) -> Result<Device, BuilderError> {
        let lot = &self.lot.lot;
        Device::builder()
            .id(lot.id.to_string())
            .meta(
                Meta::builder()
                    .last_updated(instant(lot.created_at))
                    .build()?,
            )
            .identifier(vec![Some(identifier(LOT_IDS, &lot.id.to_string())?)])
            .udi_carrier(self.udi(None)?)
            .status(self.status())
            .manufacturer(self.product.maker.clone())
            .expiration_date(day(lot.expiry))
            .lot_number(lot.lot_number.clone())
            .device_name(self.name()?)
            .r#type(wire_concept(PRODUCT_KIND, self.product.kind.as_str())?)
            .note(self.notes()?)
            .build()
    }

    /// One serialised unit of the lot, to be contained in the `Procedure` that consumed it.
    pub fn unit_device(&self, local_id: &str, unit: &ConsumedUnit) -> Result<Device, BuilderError> {
        let serial = unit.serial.as_deref();
        let builder = Device::builder()
            .id(local_id.to_owned())
            .udi_carrier(self.udi(serial)?)
            .status(self.status())
            .manufacturer(self.product.maker.clone())
            .expiration_date(day(unit.expiry))
            .lot_number(unit.lot_number.clone())
            .device_name(self.name()?)
            .r#type(wire_concept(PRODUCT_KIND, self.product.kind.as_str())?)
            .parent(reference(&format!("Device/{}", unit.lot_id))?);
        match serial {
            Some(serial) => builder.serial_number(serial.to_owned()).build(),
            None => builder.build(),
        }
    }
}
