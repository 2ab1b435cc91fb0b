//! The vocabulary of device stock: product kinds, lots, movements, transfers, and the balance
//! of one lot at one clinic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::gs1::is_cset82;
use crate::names::{TextError, text_conversions};
use crate::wire::wire_enum;

wire_enum! {
    /// What kind of device a product is.
    pub enum ProductKind ("product kind", refusal lists names) {
        /// A disposable dermaroller.
        Roller => "roller",
        /// A needle cartridge for a microneedling pen.
        PenCartridge => "pen_cartridge",
        /// Anything else the clinic stocks.
        Other => "other",
    }
}

impl ProductKind {
    /// Whether a unit carries needles and may touch one client only, once.
    pub fn is_single_use_needle_device(self) -> bool {
        matches!(self, ProductKind::Roller | ProductKind::PenCartridge)
    }

    /// The kind of session a needle device serves: a roller a roller session, a pen cartridge
    /// a pen session; `None` for anything else.
    pub fn device_kind(self) -> Option<crate::clinical::DeviceKind> {
        match self {
            ProductKind::Roller => Some(crate::clinical::DeviceKind::Roller),
            ProductKind::PenCartridge => Some(crate::clinical::DeviceKind::Pen),
            ProductKind::Other => None,
        }
    }
}

wire_enum! {
    /// Whether a lot may still be used.
    pub enum LotStatus ("lot status", refusal lists names) {
        /// Usable until its expiry date.
        Active => "active",
        /// Withdrawn by the maker or the organisation; never used again, whatever its expiry.
        Recalled => "recalled",
        /// Set aside at every clinic because adverse events after its treatments crossed the
        /// policy's signal; released back to active or turned into a recall by an `org_admin`.
        Held => "held",
    }
}

impl LotStatus {
    /// Why a lot in this status is out of use whatever the date, or `None` for an active lot.
    pub fn withdrawal(self) -> Option<Withdrawal> {
        match self {
            LotStatus::Active => None,
            LotStatus::Recalled => Some(Withdrawal::Recalled),
            LotStatus::Held => Some(Withdrawal::OnHold),
        }
    }

    /// Whether the lot's units are kept in quarantine rather than on the shelf: exactly while
    /// it is withdrawn, so units that arrive or come back then go to quarantine too.
    pub fn quarantines_units(self) -> bool {
        self.withdrawal().is_some()
    }
}

/// Why a lot is out of use whatever the date: its units are neither used, received, sent nor
/// written off at the chair, and stay in quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Withdrawal {
    /// Recalled by the maker or the organisation; never used again.
    Recalled,
    /// On hold after an adverse-event signal, until an `org_admin` releases or recalls it.
    OnHold,
}

/// Why units of a lot may not be used on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LotRefusal {
    /// The lot is withdrawn, whatever its expiry.
    Withdrawn(Withdrawal),
    /// The lot is past its expiry date.
    Expired,
}

/// Whether a lot whose expiry date is `expiry` is past it on `on`. The date printed on the box
/// is the last day of use, so a lot expiring on `on` is not expired yet.
pub fn is_expired_on(expiry: NaiveDate, on: NaiveDate) -> bool {
    expiry < on
}

/// Whether units of a lot with `status` and `expiry` may be used on `on`, or why not. A
/// withdrawal is named before expiry because it is the graver reason and holds whatever the
/// date.
pub fn lot_usable_on(
    status: LotStatus,
    expiry: NaiveDate,
    on: NaiveDate,
) -> Result<(), LotRefusal> {
    if let Some(withdrawal) = status.withdrawal() {
        return Err(LotRefusal::Withdrawn(withdrawal));
    }
    if is_expired_on(expiry, on) {
        return Err(LotRefusal::Expired);
    }
    Ok(())
}

/// The reorder point of a product at a clinic: the clinic's own when it has one, else the
/// product's.
pub fn reorder_point_at(product: i64, clinic: Option<i64>) -> i64 {
    clinic.unwrap_or(product)
}

/// Whether a clinic runs low on a product: its usable units are at or below the reorder point.
/// A reorder point of 0 (or less) never reports.
pub fn runs_low(usable: i64, reorder_point: i64) -> bool {
    reorder_point > 0 && usable <= reorder_point
}

wire_enum! {
    /// Why a clinic's stock of a lot changed; one ledger row per change.
    pub enum MovementKind ("movement kind", refusal lists names) {
        /// Units delivered to the clinic.
        Receipt => "receipt",
        /// A unit used in a treatment.
        Consumption => "consumption",
        /// Units sent to another clinic, in transit until received.
        TransferOut => "transfer_out",
        /// Units of a transfer arriving at the receiving clinic.
        TransferIn => "transfer_in",
        /// A transfer called off before it was received; the units return to the sender.
        TransferCancel => "transfer_cancel",
        /// A correction with a reason: damage, loss, disposal, a stocktake.
        Adjustment => "adjustment",
        /// Units of a recalled lot taken out of usable stock.
        RecallQuarantine => "recall_quarantine",
        /// A single unit written off at the chair: dropped, contaminated, its packaging damaged.
        Disposal => "disposal",
        /// Units of a lot put on hold by an adverse-event signal, taken out of usable stock.
        SignalHold => "signal_hold",
        /// Units set aside while their lot was on hold, back in usable stock when the hold ends.
        HoldRelease => "hold_release",
    }
}

wire_enum! {
    /// Why a practitioner wrote off a unit at the chair.
    pub enum DisposalReason ("disposal reason", refusal lists names) {
        /// It fell: a needle that touched the floor is not sterile.
        Dropped => "dropped",
        /// It touched something other than the prepared skin before use.
        Contaminated => "contaminated",
        /// Its sterile packaging was found open or torn when it was opened.
        PackagingDamaged => "packaging_damaged",
    }
}

wire_enum! {
    /// Why stock was adjusted by hand.
    pub enum AdjustmentReason ("adjustment reason", refusal lists names) {
        /// Packaging broken, so sterility is no longer assured.
        Damaged => "damaged",
        /// Past its expiry date and taken off the shelf.
        Expired => "expired",
        /// Missing without explanation.
        Lost => "lost",
        /// Thrown away for another reason.
        Disposed => "disposed",
        /// A stocktake found a different count than the ledger.
        CountCorrection => "count_correction",
    }
}

wire_enum! {
    /// Where a transfer between two clinics stands.
    pub enum TransferStatus ("transfer status", refusal lists names) {
        /// Sent, not yet received.
        InTransit => "in_transit",
        /// Received by the other clinic.
        Received => "received",
        /// Called off; the units went back to the sender.
        Cancelled => "cancelled",
    }
}

/// The longest lot number or serial GS1 allows, in AIs (10) and (21).
const MAX_GS1_TEXT: usize = 20;

/// Parses text that must fit GS1 AI (10) or (21), so a value typed in a form could also have been
/// scanned from the box.
fn parse_gs1_text(raw: &str) -> Result<String, TextError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(TextError::Empty);
    }
    if s.chars().count() > MAX_GS1_TEXT {
        return Err(TextError::TooLong(MAX_GS1_TEXT));
    }
    if !s.chars().all(is_cset82) {
        return Err(TextError::Malformed(
            "may only contain letters, digits and !\"%&'()*+,-./:;<=>?_",
        ));
    }
    Ok(s.to_owned())
}

/// A maker's lot (batch) number: 1 to 20 characters of GS1 character set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LotNumber(String);

impl LotNumber {
    /// Parses a lot number, ignoring surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_gs1_text(raw).map(Self)
    }

    /// The lot number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit's serial number: 1 to 20 characters of GS1 character set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Serial(String);

impl Serial {
    /// Parses a serial number, ignoring surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_gs1_text(raw).map(Self)
    }

    /// The serial as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_conversions!(TextError: LotNumber, Serial; FromStr);

/// Units of one lot at one clinic, by where they stand. No count is ever below zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockBalance {
    /// On the shelf and usable, unless the lot has expired.
    pub on_hand: i64,
    /// Set aside because the lot was recalled.
    pub quarantined: i64,
    /// Sent to another clinic and not yet received there.
    pub in_transit_out: i64,
}

/// A signed change to a [`StockBalance`], as one movement records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockChange {
    /// Change to `on_hand`.
    pub on_hand: i64,
    /// Change to `quarantined`.
    pub quarantined: i64,
    /// Change to `in_transit_out`.
    pub in_transit_out: i64,
}

/// Why a change cannot be applied to a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// The change would take a count below zero.
    #[error("not enough stock: {available} {bucket} available")]
    Insufficient {
        /// Which count would go negative (`on_hand`).
        bucket: &'static str,
        /// What that count holds now.
        available: i64,
    },
    /// The change would overflow a count; only a corrupt or hostile quantity gets here.
    #[error("quantity too large")]
    Overflow,
}

impl StockBalance {
    /// The balance after `change`, or why it would be invalid; `self` is left as it was.
    pub fn apply(self, change: StockChange) -> Result<Self, StockError> {
        let bucket = |name: &'static str, have: i64, delta: i64| {
            let after = have.checked_add(delta).ok_or(StockError::Overflow)?;
            if after < 0 {
                Err(StockError::Insufficient {
                    bucket: name,
                    available: have,
                })
            } else {
                Ok(after)
            }
        };
        Ok(Self {
            on_hand: bucket("on_hand", self.on_hand, change.on_hand)?,
            quarantined: bucket("quarantined", self.quarantined, change.quarantined)?,
            in_transit_out: bucket("in_transit_out", self.in_transit_out, change.in_transit_out)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_clinics_own_reorder_point_wins_and_zero_never_runs_low() {
        assert_eq!(reorder_point_at(5, None), 5);
        assert_eq!(reorder_point_at(5, Some(2)), 2);
        assert_eq!(reorder_point_at(5, Some(0)), 0);
        assert!(runs_low(3, 3));
        assert!(runs_low(0, 3));
        assert!(!runs_low(4, 3));
        assert!(!runs_low(0, 0));
    }

    fn assert_round_trips<T>(all: &[T])
    where
        T: Copy + fmt::Debug + PartialEq + FromStr + fmt::Display + Serialize,
        T: for<'de> Deserialize<'de>,
        <T as FromStr>::Err: fmt::Debug,
    {
        for &value in all {
            let name = value.to_string();
            assert_eq!(name.parse::<T>().unwrap(), value);
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{name}\"")
            );
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(),
                value
            );
        }
    }

    #[test]
    fn every_enum_name_matches_its_json_name() {
        assert_round_trips(&ProductKind::ALL);
        assert_round_trips(&LotStatus::ALL);
        assert_round_trips(&MovementKind::ALL);
        assert_round_trips(&AdjustmentReason::ALL);
        assert_round_trips(&TransferStatus::ALL);
        assert_round_trips(&DisposalReason::ALL);
        use crate::wire::tests::assert_wire_names;
        assert_wire_names(&ProductKind::ALL, ProductKind::as_str);
        assert_wire_names(&LotStatus::ALL, LotStatus::as_str);
        assert_wire_names(&MovementKind::ALL, MovementKind::as_str);
        assert_wire_names(&DisposalReason::ALL, DisposalReason::as_str);
        assert_wire_names(&AdjustmentReason::ALL, AdjustmentReason::as_str);
        assert_wire_names(&TransferStatus::ALL, TransferStatus::as_str);
        assert_eq!(MovementKind::ALL.len(), 10);
        assert_eq!(LotStatus::ALL.len(), 3);
    }

    #[test]
    fn an_unknown_name_lists_the_accepted_ones() {
        let err = "cartridge".parse::<ProductKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown product kind `cartridge`; expected one of: roller, pen_cartridge, other"
        );
        assert!("Active".parse::<LotStatus>().is_err());
    }

    #[test]
    fn a_lot_is_usable_through_its_expiry_date_while_active() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        assert!(!is_expired_on(day(10), day(10)));
        assert!(is_expired_on(day(10), day(11)));
        assert_eq!(lot_usable_on(LotStatus::Active, day(10), day(10)), Ok(()));
        assert_eq!(
            lot_usable_on(LotStatus::Active, day(10), day(11)),
            Err(LotRefusal::Expired)
        );
        // A withdrawal is named first, whatever the date.
        assert_eq!(
            lot_usable_on(LotStatus::Recalled, day(10), day(11)),
            Err(LotRefusal::Withdrawn(Withdrawal::Recalled))
        );
        assert_eq!(
            lot_usable_on(LotStatus::Held, day(10), day(1)),
            Err(LotRefusal::Withdrawn(Withdrawal::OnHold))
        );
    }

    #[test]
    fn only_an_active_lot_keeps_its_units_on_the_shelf() {
        assert!(!LotStatus::Active.quarantines_units());
        assert!(LotStatus::Recalled.quarantines_units());
        assert!(LotStatus::Held.quarantines_units());
    }

    #[test]
    fn rollers_and_cartridges_are_single_use_needle_devices_and_nothing_else_is() {
        assert!(ProductKind::Roller.is_single_use_needle_device());
        assert!(ProductKind::PenCartridge.is_single_use_needle_device());
        assert!(!ProductKind::Other.is_single_use_needle_device());
    }

    #[test]
    fn lot_numbers_follow_the_gs1_rules() {
        assert_eq!(
            LotNumber::parse(" L-2025/07 ").unwrap().as_str(),
            "L-2025/07"
        );
        assert_eq!(LotNumber::parse(""), Err(TextError::Empty));
        assert_eq!(
            LotNumber::parse(&"9".repeat(21)),
            Err(TextError::TooLong(20))
        );
        assert!(LotNumber::parse(&"9".repeat(20)).is_ok());
        assert!(LotNumber::parse("LOT 1").is_err());
        assert!(LotNumber::parse("LOT#1").is_err());
        assert!(Serial::parse("SN\u{1d}1").is_err());
        assert!(Serial::parse("SN-0001").is_ok());
    }

    #[test]
    fn lot_numbers_and_serials_travel_as_plain_strings() {
        let lot: LotNumber = serde_json::from_str("\"ABC123\"").unwrap();
        assert_eq!(serde_json::to_string(&lot).unwrap(), "\"ABC123\"");
        assert!(serde_json::from_str::<Serial>("\"a b\"").is_err());
    }

    #[test]
    fn consuming_more_than_is_on_hand_is_refused() {
        let balance = StockBalance {
            on_hand: 2,
            ..StockBalance::default()
        };
        let consume = |n: i64| StockChange {
            on_hand: -n,
            ..StockChange::default()
        };
        assert_eq!(balance.apply(consume(2)).unwrap().on_hand, 0);
        let err = balance.apply(consume(3)).unwrap_err();
        assert_eq!(
            err,
            StockError::Insufficient {
                bucket: "on_hand",
                available: 2
            }
        );
        assert_eq!(
            balance.apply(StockChange {
                on_hand: i64::MAX,
                ..StockChange::default()
            }),
            Err(StockError::Overflow)
        );
    }

    fn change() -> impl Strategy<Value = StockChange> {
        (-50i64..50, -50i64..50, -50i64..50).prop_map(|(on_hand, quarantined, in_transit_out)| {
            StockChange {
                on_hand,
                quarantined,
                in_transit_out,
            }
        })
    }

    proptest! {
        #[test]
        fn a_balance_is_the_sum_of_the_changes_it_accepted_and_never_negative(
            changes in proptest::collection::vec(change(), 0..60)
        ) {
            let mut balance = StockBalance::default();
            let mut sum = StockChange::default();
            for c in changes {
                if let Ok(next) = balance.apply(c) {
                    balance = next;
                    sum.on_hand += c.on_hand;
                    sum.quarantined += c.quarantined;
                    sum.in_transit_out += c.in_transit_out;
                }
                prop_assert!(balance.on_hand >= 0);
                prop_assert!(balance.quarantined >= 0);
                prop_assert!(balance.in_transit_out >= 0);
            }
            prop_assert_eq!(
                (balance.on_hand, balance.quarantined, balance.in_transit_out),
                (sum.on_hand, sum.quarantined, sum.in_transit_out)
            );
        }

        #[test]
        fn any_gs1_text_of_up_to_20_characters_is_a_lot_number(
            s in "[!\"%&'()*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}"
        ) {
            prop_assert_eq!(LotNumber::parse(&s).unwrap().to_string(), s.clone());
            prop_assert_eq!(Serial::parse(&s).unwrap().to_string(), s);
        }
    }
}
