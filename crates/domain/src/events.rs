//! What integrators and mobile apps are told happened: the kinds of event in the feed and in
//! webhooks, and who may see each.
//!
//! An event names what changed (ids) and never carries clinical content: no screening
//! answers, notes or adverse-event text. A consumer fetches the details through the API with
//! its own credentials, so it sees only what its roles allow.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clinical::UnknownValue;
use crate::permission::Action;

macro_rules! event_types {
    ($( $(#[$meta:meta])* $variant:ident => $wire:literal, $action:ident; )+) => {
        /// The kind of an event.
        ///
        /// Its OpenAPI schema lists the wire names (`crate::openapi`): a derived one would
        /// list the variant names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum EventType {
            $( $(#[$meta])* #[serde(rename = $wire)] $variant, )+
        }

        impl EventType {
            /// Every kind, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The wire name (`client.created`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// What a caller must be allowed, at the event's clinic (or anywhere, for an event
            /// of no clinic), to see the event.
            pub const fn read_action(self) -> Action {
                match self {
                    $(Self::$variant => Action::$action,)+
                }
            }
        }
    };
}

event_types! {
    /// A client was registered.
    ClientCreated => "client.created", ClientRead;
    /// A client's details changed.
    ClientUpdated => "client.updated", ClientRead;
    /// A contraindication screening was recorded.
    ScreeningRecorded => "screening.recorded", ClientRead;
    /// A physician cleared a screening factor.
    ScreeningCleared => "screening.cleared", ClientRead;
    /// A treatment was recorded.
    TreatmentCreated => "treatment.created", ClientRead;
    /// A treatment was signed and is now immutable.
    TreatmentSigned => "treatment.signed", ClientRead;
    /// An addendum was added to a signed treatment.
    TreatmentAddendumAdded => "treatment.addendum_added", ClientRead;
    /// An adverse event was recorded on a treatment.
    AdverseEventRecorded => "adverse_event.recorded", ClientRead;
    /// A delivery was received at a clinic.
    StockReceived => "stock.received", StockRead;
    /// Stock was adjusted, counted or written off at a clinic.
    StockAdjusted => "stock.adjusted", StockRead;
    /// A clinic's usable stock of a product fell to or below its reorder point.
    StockLow => "stock.low", StockRead;
    /// A lot expires within the policy's horizon (once a day per lot and clinic).
    LotExpiring => "lot.expiring", StockRead;
    /// A lot was recalled.
    LotRecalled => "lot.recalled", StockRead;
    /// Adverse events after a lot's treatments crossed the policy's signal: the lot is on hold
    /// at every clinic.
    LotSignal => "lot.signal", StockRead;
    /// A lot on hold was released back into usable stock.
    LotReleased => "lot.released", StockRead;
    /// Stock left a clinic for another.
    TransferSent => "transfer.sent", StockRead;
    /// A transfer arrived.
    TransferReceived => "transfer.received", StockRead;
    /// A transfer was cancelled and its stock returned.
    TransferCancelled => "transfer.cancelled", StockRead;
    /// A staff member was added, changed, deactivated, or their roles changed.
    StaffChanged => "staff.changed", StaffRead;
    /// The clinical policy changed.
    PolicyChanged => "policy.changed", PolicyRead;
    /// A webhook endpoint was disabled after failing for too long.
    WebhookDisabled => "webhook.disabled", WebhookManage;
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue::new("event type", s))
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
