//! First-expiry-first-out: which lots a treatment's units are taken from.
//!
//! Using the lot that expires first keeps the fewest units from expiring on the shelf. A lot is
//! usable on a day when it is active and its expiry date is that day or later: the expiry date is
//! the last day of use, as printed on the box, so a lot expiring on the treatment day is used.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::inventory::{LotRefusal, LotStatus, Withdrawal, is_expired_on, lot_usable_on};

/// One lot's stock at the treating clinic, as the store reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LotCandidate {
    /// The lot.
    pub lot_id: Uuid,
    /// Its last day of use.
    pub expiry: NaiveDate,
    /// Whether it was recalled.
    pub status: LotStatus,
    /// Units on the shelf at this clinic.
    pub on_hand: i64,
    /// Units set aside at this clinic because the lot was recalled.
    pub quarantined: i64,
}

impl LotCandidate {
    /// Whether units of this lot may be used on `on`: active, and not past its expiry date.
    pub fn is_usable_on(&self, on: NaiveDate) -> bool {
        self.usable_on(on).is_ok()
    }

    /// Whether units of this lot may be used on `on`, or why not.
    pub fn usable_on(&self, on: NaiveDate) -> Result<(), LotRefusal> {
        lot_usable_on(self.status, self.expiry, on)
    }

    /// Whether the lot is past its expiry date on `on`.
    pub fn is_expired_on(&self, on: NaiveDate) -> bool {
        is_expired_on(self.expiry, on)
    }
}

/// Why units cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FefoError {
    /// Not enough usable units, and none of the shortfall is explained by expiry or recall.
    #[error("not enough stock: {available} usable units on hand")]
    OutOfStock {
        /// Usable units on hand.
        available: i64,
    },
    /// Usable units are short, and some stock on the shelf is past its expiry date.
    #[error("the stock on hand is past its expiry date, and expired lots are never used")]
    LotExpired,
    /// Usable units are short, and some stock on the shelf belongs to a recalled lot.
    #[error("the stock on hand is from a recalled lot, and recalled lots are never used")]
    LotRecalled,
    /// The lot named is on hold after an adverse-event signal.
    #[error("the lot is on hold after an adverse-event signal, and is not used until released")]
    LotOnHold,
}

impl From<LotRefusal> for FefoError {
    fn from(refusal: LotRefusal) -> Self {
        match refusal {
            LotRefusal::Withdrawn(Withdrawal::Recalled) => FefoError::LotRecalled,
            LotRefusal::Withdrawn(Withdrawal::OnHold) => FefoError::LotOnHold,
            LotRefusal::Expired => FefoError::LotExpired,
        }
    }
}

impl FefoError {
    /// The stable error code for clients.
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            FefoError::OutOfStock { .. } => crate::ErrorCode::OutOfStock,
            FefoError::LotExpired => crate::ErrorCode::LotExpired,
            FefoError::LotRecalled => crate::ErrorCode::LotRecalled,
            FefoError::LotOnHold => crate::ErrorCode::LotOnHold,
        }
    }
}

/// Takes `quantity` units for a treatment on `on` from the lots expiring first, as
/// `(lot_id, units)` in the order taken.
///
/// Lots are ordered by expiry, then by id so that the choice is the same on every replica. A
/// quantity of zero or less takes nothing; callers refuse such quantities at the edge. When the
/// usable units fall short, the error names the likeliest reason a person at the clinic can act
/// on: expired stock on the shelf, else recalled stock, else plain shortage.
pub fn allocate(
    candidates: &[LotCandidate],
    on: NaiveDate,
    quantity: i64,
) -> Result<Vec<(Uuid, i64)>, FefoError> {
    let mut usable: Vec<&LotCandidate> = candidates
        .iter()
        .filter(|c| c.on_hand > 0 && c.is_usable_on(on))
        .collect();
    usable.sort_by_key(|c| (c.expiry, c.lot_id));

    let available = usable
        .iter()
        .fold(0_i64, |sum, c| sum.saturating_add(c.on_hand));
    if available < quantity {
        let stocked = |unusable: &dyn Fn(&LotCandidate) -> bool| {
            candidates.iter().any(|c| c.on_hand > 0 && unusable(c))
        };
        // A recall moves the shelf's units into quarantine: they still explain the shortfall.
        let recalled = candidates
            .iter()
            .any(|c| c.status == LotStatus::Recalled && (c.on_hand > 0 || c.quarantined > 0));
        return Err(if stocked(&|c| c.is_expired_on(on)) {
            FefoError::LotExpired
        } else if recalled {
            FefoError::LotRecalled
        } else {
            FefoError::OutOfStock { available }
        });
    }

    let mut remaining = quantity;
    let mut taken = Vec::new();
    for lot in usable {
        if remaining <= 0 {
            break;
        }
        let units = lot.on_hand.min(remaining);
        taken.push((lot.lot_id, units));
        remaining -= units;
    }
    Ok(taken)
}

/// Units of one lot at one clinic that a session dated in the past may take: the fewest on hand
/// at any moment from the session until now, so that stock is judged as it stood. Taking
/// more would have left the shelf below zero at some moment, or used units that had not yet
/// arrived. `later_changes` are the on-hand changes recorded after the session, oldest first.
pub fn available_since(on_hand_now: i64, later_changes: &[i64]) -> i64 {
    let mut balance = later_changes
        .iter()
        .fold(on_hand_now, |b, change| b.saturating_sub(*change));
    let mut fewest = balance;
    for change in later_changes {
        balance = balance.saturating_add(*change);
        fewest = fewest.min(balance);
    }
    fewest.max(0)
}

/// Checks that `quantity` units of one lot the client named may be used on `on`.
///
/// A recall or a hold is reported before expiry because it is the graver reason and holds
/// whatever the date ([`lot_usable_on`]).
pub fn check_lot(candidate: &LotCandidate, on: NaiveDate, quantity: i64) -> Result<(), FefoError> {
    candidate.usable_on(on)?;
    if candidate.on_hand < quantity {
        return Err(FefoError::OutOfStock {
            available: candidate.on_hand.max(0),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use chrono::Days;
    use proptest::prelude::*;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
    }

    fn lot(id: u128, expires_in_days: i64, status: LotStatus, on_hand: i64) -> LotCandidate {
        let expiry = if expires_in_days >= 0 {
            today().checked_add_days(Days::new(expires_in_days.unsigned_abs()))
        } else {
            today().checked_sub_days(Days::new(expires_in_days.unsigned_abs()))
        };
        LotCandidate {
            lot_id: Uuid::from_u128(id),
            expiry: expiry.unwrap(),
            status,
            on_hand,
            quarantined: 0,
        }
    }

    #[test]
    fn units_received_after_a_back_dated_session_were_not_there_for_it() {
        // Received 5 after the session: none were on the shelf then.
        assert_eq!(available_since(5, &[5]), 0);
        // 2 on the shelf then, 3 more received later, 1 used later: 2 stood then.
        assert_eq!(available_since(4, &[3, -1]), 2);
        // 3 on the shelf then, 3 transferred out, 3 received back: the shelf was empty between.
        assert_eq!(available_since(3, &[-3, 3]), 0);
        // Nothing after the session: what is on hand now.
        assert_eq!(available_since(7, &[]), 7);
    }

    #[test]
    fn stock_that_is_only_quarantined_by_a_recall_answers_lot_recalled() {
        let quarantined = LotCandidate {
            on_hand: 0,
            quarantined: 5,
            ..lot(1, 30, Recalled, 0)
        };
        assert_eq!(
            allocate(&[quarantined], today(), 1),
            Err(FefoError::LotRecalled)
        );
        assert_eq!(
            allocate(&[lot(2, -1, Active, 3)], today(), 1),
            Err(FefoError::LotExpired)
        );
        assert_eq!(
            allocate(&[], today(), 1),
            Err(FefoError::OutOfStock { available: 0 })
        );
    }

    use LotStatus::{Active, Recalled};

    #[test]
    fn fefo_picks_the_earliest_expiring_usable_lot() {
        let lots = [
            lot(1, 90, Active, 5),
            lot(2, 30, Active, 5),
            lot(3, 60, Active, 5),
        ];
        assert_eq!(
            allocate(&lots, today(), 1),
            Ok(vec![(Uuid::from_u128(2), 1)])
        );
    }

    #[test]
    fn a_lot_expiring_on_the_treatment_day_is_still_used() {
        let lots = [lot(1, 30, Active, 5), lot(2, 0, Active, 5)];
        assert_eq!(
            allocate(&lots, today(), 1),
            Ok(vec![(Uuid::from_u128(2), 1)])
        );
        assert_eq!(check_lot(&lots[1], today(), 1), Ok(()));
    }

    #[test]
    fn expired_recalled_and_empty_lots_are_skipped() {
        let lots = [
            lot(1, -1, Active, 5),
            lot(2, 10, Recalled, 5),
            lot(3, 5, Active, 0),
            lot(4, 20, Active, 5),
        ];
        assert_eq!(
            allocate(&lots, today(), 2),
            Ok(vec![(Uuid::from_u128(4), 2)])
        );
    }

    #[test]
    fn a_quantity_larger_than_one_lot_spans_lots_in_expiry_order() {
        let lots = [
            lot(1, 40, Active, 10),
            lot(2, 20, Active, 2),
            lot(3, 30, Active, 3),
        ];
        assert_eq!(
            allocate(&lots, today(), 7),
            Ok(vec![
                (Uuid::from_u128(2), 2),
                (Uuid::from_u128(3), 3),
                (Uuid::from_u128(1), 2)
            ])
        );
    }

    #[test]
    fn lots_expiring_the_same_day_are_taken_in_id_order_so_replicas_agree() {
        let lots = [lot(9, 20, Active, 1), lot(4, 20, Active, 1)];
        assert_eq!(
            allocate(&lots, today(), 2),
            Ok(vec![(Uuid::from_u128(4), 1), (Uuid::from_u128(9), 1)])
        );
    }

    #[test]
    fn a_shortfall_with_expired_units_on_the_shelf_says_the_lot_expired() {
        let lots = [
            lot(1, -3, Active, 5),
            lot(2, 10, Recalled, 5),
            lot(3, 10, Active, 1),
        ];
        assert_eq!(allocate(&lots, today(), 2), Err(FefoError::LotExpired));
    }

    #[test]
    fn a_shortfall_with_only_recalled_units_says_the_lot_was_recalled() {
        let lots = [lot(1, 10, Recalled, 5)];
        assert_eq!(allocate(&lots, today(), 1), Err(FefoError::LotRecalled));
    }

    #[test]
    fn a_plain_shortfall_says_how_many_units_are_left() {
        let lots = [
            lot(1, 10, Active, 2),
            lot(2, 20, Active, 1),
            lot(3, -1, Active, 0),
        ];
        assert_eq!(
            allocate(&lots, today(), 4),
            Err(FefoError::OutOfStock { available: 3 })
        );
        assert_eq!(
            allocate(&[], today(), 1),
            Err(FefoError::OutOfStock { available: 0 })
        );
    }

    #[test]
    fn a_quantity_of_zero_takes_nothing() {
        assert_eq!(allocate(&[lot(1, 10, Active, 2)], today(), 0), Ok(vec![]));
    }

    #[test]
    fn a_named_lot_is_refused_when_recalled_expired_or_short() {
        assert_eq!(
            check_lot(&lot(1, -1, Recalled, 5), today(), 1),
            Err(FefoError::LotRecalled)
        );
        assert_eq!(
            check_lot(&lot(1, -1, Active, 5), today(), 1),
            Err(FefoError::LotExpired)
        );
        assert_eq!(
            check_lot(&lot(1, 10, Active, 1), today(), 2),
            Err(FefoError::OutOfStock { available: 1 })
        );
        assert_eq!(check_lot(&lot(1, 10, Active, 2), today(), 2), Ok(()));
    }

    #[test]
    fn error_codes_match_the_api_contract() {
        assert_eq!(
            FefoError::OutOfStock { available: 0 }.code(),
            "out_of_stock"
        );
        assert_eq!(FefoError::LotExpired.code(), "lot_expired");
        assert_eq!(FefoError::LotRecalled.code(), "lot_recalled");
    }

    fn candidates() -> impl Strategy<Value = Vec<LotCandidate>> {
        let spec = (
            -10_i64..10,
            prop_oneof![4 => Just(Active), 1 => Just(Recalled)],
            -2_i64..10,
        );
        (any::<u128>(), proptest::collection::vec(spec, 0..12)).prop_map(|(salt, specs)| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (days, status, on_hand))| {
                    // An odd multiplier and an XOR are both bijective, so ids never collide
                    // (even while shrinking) yet are not sorted like the expiry dates.
                    let id =
                        (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) ^ salt;
                    lot(id, days, status, on_hand)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn allocation_takes_the_quantity_from_usable_lots_in_expiry_order(
            lots in candidates(),
            quantity in 1_i64..40,
        ) {
            let on = today();
            let usable_total: i64 = lots
                .iter()
                .filter(|c| c.is_usable_on(on) && c.on_hand > 0)
                .map(|c| c.on_hand)
                .sum();
            match allocate(&lots, on, quantity) {
                Ok(taken) => {
                    prop_assert_eq!(taken.iter().map(|(_, n)| n).sum::<i64>(), quantity);
                    let picked: Vec<&LotCandidate> = taken
                        .iter()
                        .map(|(id, _)| lots.iter().find(|c| c.lot_id == *id).unwrap())
                        .collect();
                    for (lot, (_, units)) in picked.iter().zip(&taken) {
                        prop_assert!(lot.is_usable_on(on));
                        prop_assert!(*units > 0 && *units <= lot.on_hand);
                    }
                    let order: Vec<_> = picked.iter().map(|c| (c.expiry, c.lot_id)).collect();
                    prop_assert!(order.windows(2).all(|w| w[0] < w[1]));
                    // First expiry first out: every lot but the last is emptied, and no usable
                    // lot that expires earlier than the last one taken was passed over.
                    for (lot, (_, units)) in picked.iter().zip(&taken).rev().skip(1) {
                        prop_assert_eq!(*units, lot.on_hand);
                    }
                    if let Some(last) = order.last() {
                        let passed_over = lots.iter().any(|c| {
                            c.is_usable_on(on)
                                && c.on_hand > 0
                                && (c.expiry, c.lot_id) < *last
                                && !order.contains(&(c.expiry, c.lot_id))
                        });
                        prop_assert!(!passed_over);
                    }
                }
                Err(err) => {
                    prop_assert!(usable_total < quantity);
                    let has_expired = lots.iter().any(|c| c.on_hand > 0 && c.is_expired_on(on));
                    let has_recalled =
                        lots.iter().any(|c| c.on_hand > 0 && c.status == Recalled);
                    let expected = if has_expired {
                        FefoError::LotExpired
                    } else if has_recalled {
                        FefoError::LotRecalled
                    } else {
                        FefoError::OutOfStock { available: usable_total }
                    };
                    prop_assert_eq!(err, expected);
                }
            }
        }

        #[test]
        fn a_named_lot_passes_only_when_usable_and_stocked(
            lots in candidates(),
            quantity in 1_i64..12,
        ) {
            for lot in &lots {
                let ok = lot.is_usable_on(today()) && lot.on_hand >= quantity;
                prop_assert_eq!(check_lot(lot, today(), quantity).is_ok(), ok);
            }
        }
    }
}
