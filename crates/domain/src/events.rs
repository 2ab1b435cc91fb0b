//! What integrators and mobile apps are told happened: the kinds of event in the feed and in
//! webhooks, and who may see each.
//!
//! An event names what changed (ids) and never carries clinical content: no screening
//! answers, notes or adverse-event text. A consumer fetches the details through the API with
//! its own credentials, so it sees only what its roles allow.

use serde::{Deserialize, Serialize};

use crate::permission::Action;
use crate::wire::wire_enum;

wire_enum! {
    /// The kind of an event.
    ///
    /// Its OpenAPI schema lists the wire names (`crate::openapi`): a derived one would list the
    /// variant names.
    pub enum EventType ("event type", schema by hand) {
        /// A client was registered.
        ClientCreated => "client.created",
        /// A client's details changed.
        ClientUpdated => "client.updated",
        /// A contraindication screening was recorded.
        ScreeningRecorded => "screening.recorded",
        /// A physician cleared a screening factor.
        ScreeningCleared => "screening.cleared",
        /// A treatment was recorded.
        TreatmentCreated => "treatment.created",
        /// A treatment was signed and is now immutable.
        TreatmentSigned => "treatment.signed",
        /// An addendum was added to a signed treatment.
        TreatmentAddendumAdded => "treatment.addendum_added",
        /// An adverse event was recorded on a treatment.
        AdverseEventRecorded => "adverse_event.recorded",
        /// A delivery was received at a clinic.
        StockReceived => "stock.received",
        /// Stock was adjusted, counted or written off at a clinic.
        StockAdjusted => "stock.adjusted",
        /// A clinic's usable stock of a product fell to or below its reorder point.
        StockLow => "stock.low",
        /// A lot expires within the policy's horizon (once a day per lot and clinic).
        LotExpiring => "lot.expiring",
        /// A lot was recalled.
        LotRecalled => "lot.recalled",
        /// Adverse events after a lot's treatments crossed the policy's signal: the lot is on hold
        /// at every clinic.
        LotSignal => "lot.signal",
        /// A lot on hold was released back into usable stock.
        LotReleased => "lot.released",
        /// Stock left a clinic for another.
        TransferSent => "transfer.sent",
        /// A transfer arrived.
        TransferReceived => "transfer.received",
        /// A transfer was cancelled and its stock returned.
        TransferCancelled => "transfer.cancelled",
        /// A staff member was added, changed, deactivated, or their roles changed.
        StaffChanged => "staff.changed",
        /// The clinical policy changed.
        PolicyChanged => "policy.changed",
        /// A webhook endpoint was disabled after failing for too long.
        WebhookDisabled => "webhook.disabled",
    }
}

impl EventType {
    /// What a caller must be allowed, at the event's clinic (or anywhere, for an event of no
    /// clinic), to see the event.
    pub const fn read_action(self) -> Action {
        match self {
            Self::ClientCreated => Action::ClientRead,
            Self::ClientUpdated => Action::ClientRead,
            Self::ScreeningRecorded => Action::ClientRead,
            Self::ScreeningCleared => Action::ClientRead,
            Self::TreatmentCreated => Action::ClientRead,
            Self::TreatmentSigned => Action::ClientRead,
            Self::TreatmentAddendumAdded => Action::ClientRead,
            Self::AdverseEventRecorded => Action::ClientRead,
            Self::StockReceived => Action::StockRead,
            Self::StockAdjusted => Action::StockRead,
            Self::StockLow => Action::StockRead,
            Self::LotExpiring => Action::StockRead,
            Self::LotRecalled => Action::StockRead,
            Self::LotSignal => Action::StockRead,
            Self::LotReleased => Action::StockRead,
            Self::TransferSent => Action::StockRead,
            Self::TransferReceived => Action::StockRead,
            Self::TransferCancelled => Action::StockRead,
            Self::StaffChanged => Action::StaffRead,
            Self::PolicyChanged => Action::PolicyRead,
            Self::WebhookDisabled => Action::WebhookManage,
        }
    }
}

/// The small, non-clinical facts an event carries beside its ids. Never screening answers,
/// notes or adverse-event text: consumers fetch details through the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventData {
    /// The product concerned (stock, lots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<uuid::Uuid>,
    /// Units: received, adjusted (signed), sent, or usable now (`stock.low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<i64>,
    /// The reorder point crossed (`stock.low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<i64>,
    /// The lot's expiry date (`lot.expiring`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<chrono::NaiveDate>,
    /// What kind of change: for `staff.changed` `created`, `updated`, `roles` or
    /// `deactivated`; for `stock.adjusted` `adjustment`, `stocktake` or `disposal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The new version of a versioned resource (client, treatment, policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_wire_name_and_serialises_to_it() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(serde_json::Value::String(t.as_str().to_owned()))
            );
        }
        assert!("client.deleted".parse::<EventType>().is_err());
    }
}
