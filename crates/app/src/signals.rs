//! The adverse-event signal of a lot: counted when an adverse event is recorded, in the same
//! transaction; when it crosses the policy's rule the lot goes on hold at every clinic (its
//! units into quarantine, as a recall does), until an `org_admin` releases it or recalls it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::clinical::Severity;
use skinledger_domain::inventory::{LotStatus, MovementKind, StockChange};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_domain::signal::{Finding, Report, SignalRule};
use skinledger_store::entities::{adverse_event as adverse_row, lot as lot_row};
use skinledger_store::{consumables, lookups, lots, movements, treatments, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{ActorKind, AuditEvent, AuditOutcome, Subject};
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::Entry;
use crate::lots::{LotDetail, detail, load};
use crate::recalls::{QuarantinedUnits, move_units, quarantine_everywhere};
use crate::text::{MAX_TEXT_LEN, required_text};
use crate::txn::Txn;
use skinledger_domain::events::EventType;

/// The hold reason, on the lot and on its movements.
pub const HOLD_REASON: &str = "adverse_event_signal";

/// A lot's adverse-event signal: what the policy's rule finds today, and the adverse events
/// behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LotSignal {
    /// The lot.
    pub lot_id: Uuid,
    /// `active`, `held` (on hold after a signal) or `recalled`.
    pub status: LotStatus,
    /// When the signal put it on hold, while it is.
    pub held_at: Option<DateTime<Utc>>,
    /// The policy's rule.
    pub rule: SignalRule,
    /// The first day of the rule's window, today included at its end.
    pub window_start: NaiveDate,
    /// Counted adverse events (at least the rule's severity) with their onset in the window.
    pub in_window: u32,
    /// Treatments that used the lot.
    pub treatments: u64,
    /// Of those, treatments followed by a counted adverse event.
    pub affected_treatments: u64,
    /// `affected_treatments` in percent of `treatments`.
    pub rate_percent: f64,
    /// Whether the count or the rate is at or past the rule's threshold.
    pub crossed: bool,
    /// The counted adverse events, oldest onset first (those at clinics the caller may trace).
    pub adverse_events: Vec<SignalEvent>,
}

/// One counted adverse event behind a signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignalEvent {
    /// The adverse event.
    pub adverse_event_id: Uuid,
    /// The treatment it followed.
    pub treatment_id: Uuid,
    /// Where that treatment was performed.
    pub clinic_id: Uuid,
    /// How bad it was.
    pub severity: Severity,
    /// When it began.
    pub onset_on: NaiveDate,
    /// Whether its onset is in the window.
    pub in_window: bool,
}

/// The release of a lot on hold, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// Why it may be used again: the maker's investigation, a review of the cases.
    pub reason: String,
}

/// A release as carried out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Release {
    /// The lot, active again, with its stock.
    pub lot: LotDetail,
    /// Units back on the shelf, per clinic: those that went into quarantine while it was held.
    pub restored: Vec<QuarantinedUnits>,
}

/// Applies the rule to a lot's adverse events.
fn evaluate(
    rule: &SignalRule,
    treatments: u64,
    events: &[adverse_row::Model],
    today: NaiveDate,
) -> Finding {
    let reports: Vec<_> = events
        .iter()
        .map(|e| Report {
            treatment: e.treatment_id,
            severity: *e.severity,
            onset_on: e.onset_on,
        })
        .collect();
    rule.evaluate(treatments, &reports, today)
}

/// After an adverse event of `severity` on `treatment`: every active lot the treatment used
/// whose signal the event crosses goes on hold, in the caller's transaction. Answers the
/// integration events to publish.
pub(crate) async fn check_after_adverse_event(
    txn: &Txn,
    actor: &Actor,
    treatment: Uuid,
    severity: Severity,
    today: NaiveDate,
) -> Result<Vec<Change>> {
    let org = actor.org_id;
    let (_, policy) = crate::policy::current(txn, org).await?;
    let rule = policy.adverse_event_signal;
    if !rule.counts(severity) {
        return Ok(Vec::new());
    }
    let mut changes = Vec::new();
    for lot_id in consumables::lots_of_treatment(txn, org, treatment).await? {
        // One writer at a time counts a lot's events, so two events recorded at once are
        // both counted by the second.
        let Some(lot) = lots::get_exclusive(txn, org, lot_id).await? else {
            continue;
        };
        // A lot recalled or on hold already is out of use: there is nothing to hold.
        if lot.status.withdrawal().is_some() {
            continue;
        }
        let used = consumables::treatments_using(txn, org, lot_id).await?;
        let events = treatments::adverse_events_after_lot(txn, org, lot_id).await?;
        let finding = evaluate(&rule, used, &events, today);
        if finding.crossed {
            changes.extend(hold(txn, actor, &lot, &finding).await?);
        }
    }
    Ok(changes)
}

/// Puts a lot on hold: its status, its units on every shelf into quarantine, its serials set
/// aside, the audit event (by the system, naming who recorded the event that crossed).
async fn hold(
    txn: &Txn,
    actor: &Actor,
    lot: &lot_row::Model,
    finding: &Finding,
) -> Result<Vec<Change>> {
    let org = actor.org_id;
    if !lots::mark_held(txn, org, lot.id, HOLD_REASON, Utc::now()).await? {
        return Ok(Vec::new());
    }
    let quarantined = quarantine_everywhere(
        txn,
        actor,
        lot.id,
        MovementKind::SignalHold,
        Some(HOLD_REASON),
    )
    .await?;
    units::quarantine_lot(txn, org, lot.id).await?;
    txn.audit(AuditEvent {
        org_id: org,
        actor_kind: ActorKind::System,
        actor_id: None,
        action: "lot.hold",
        entity_kind: "lot",
        entity_id: Some(lot.id),
        client_id: None,
        outcome: AuditOutcome::Success,
        detail: Some(serde_json::json!({
            "reason": HOLD_REASON,
            "in_window": finding.in_window,
            "treatments": finding.treatments,
            "affected_treatments": finding.affected_treatments,
            "rate_percent": finding.rate_percent,
            "quarantined": quarantined,
            "triggered_by": actor.principal.id(),
        })),
        request_id: actor.request_id.clone(),
    });
    let mut changes = vec![
        Change::new(EventType::LotSignal)
            .lot(lot.id)
            .data(EventData {
                product_id: Some(lot.product_id),
                units: Some(quarantined.iter().map(|q| q.quantity).sum()),
                ..EventData::default()
            }),
    ];
    for q in &quarantined {
        changes.extend(
            events::low_stock(txn, org, q.clinic_id, [(lot.product_id, q.quantity)]).await?,
        );
    }
    Ok(changes)
}

impl App {
    /// A lot's adverse-event signal (clinic managers and `org_admin`, who trace lots): the
    /// rule, the counts, and the adverse events behind them at the clinics the caller may see.
    pub async fn lot_signal(&self, actor: &Actor, id: Uuid) -> Result<LotSignal> {
        let db = self.db().read();
        let org = actor.org_id;
        let lot = load(db, org, id).await?;
        actor.require(Action::LotTrace, Scope::Anywhere)?;
        let (_, policy) = crate::policy::current(db, org).await?;
        let rule = policy.adverse_event_signal;
        let today = Utc::now().date_naive();
        let used = consumables::treatments_using(db, org, id).await?;
        let events = treatments::adverse_events_after_lot(db, org, id).await?;
        let finding = evaluate(&rule, used, &events, today);
        let counted: Vec<&adverse_row::Model> =
            events.iter().filter(|e| rule.counts(*e.severity)).collect();
        let treatment_ids: Vec<Uuid> = counted.iter().map(|e| e.treatment_id).collect();
        let clinic_of: HashMap<Uuid, Uuid> = lookups::treatments(db, org, &treatment_ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t.clinic_id))
            .collect();
        let visible: Option<HashSet<Uuid>> =
            permission::clinics_for(&actor.grants, Action::LotTrace)
                .map(|v| v.into_iter().collect());
        let start = rule.window_start(today);
        let mut adverse_events = Vec::with_capacity(counted.len());
        for e in counted {
            let Some(&clinic_id) = clinic_of.get(&e.treatment_id) else {
                continue;
            };
            if visible.as_ref().is_some_and(|v| !v.contains(&clinic_id)) {
                continue;
            }
            adverse_events.push(SignalEvent {
                adverse_event_id: e.id,
                treatment_id: e.treatment_id,
                clinic_id,
                severity: *e.severity,
                onset_on: e.onset_on,
                in_window: e.onset_on >= start && e.onset_on <= today,
            });
        }
        Ok(LotSignal {
            lot_id: id,
            status: *lot.status,
            held_at: lot.held_at,
            window_start: start,
            in_window: finding.in_window,
            treatments: finding.treatments,
            affected_treatments: finding.affected_treatments,
            rate_percent: finding.rate_percent,
            crossed: finding.crossed,
            rule,
            adverse_events,
        })
    }

    /// Releases a lot on hold (`org_admin`), giving a reason: it is active again, and the units
    /// that went into quarantine while it was held (at the hold, or arriving since, less any
    /// written off) go back on their shelves, with their serials. A lot not on hold answers 409
    /// `lot_not_on_hold`; to withdraw it instead, recall it.
    pub async fn release_lot(
        &self,
        actor: &Actor,
        id: Uuid,
        request: ReleaseRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Release> {
        let subject = Subject::new("lot", Some(id));
        self.audited(actor, "lot.release", subject, async move {
            let org = actor.org_id;
            load(self.db().read(), org, id).await?;
            actor.require(Action::LotRecall, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let reason = required_text(&mut errors, "reason", &request.reason, MAX_TEXT_LEN);
            errors.into_result()?;
            let reason = reason.ok_or_else(|| Error::invalid("reason", "must not be empty"))?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "lot.release",
                &(id, &request),
                |txn| async move {
                    let lot = lots::get_exclusive(&txn, org, id)
                        .await?
                        .ok_or(Error::NotFound("lot"))?;
                    let since = match (*lot.status, lot.held_at) {
                        (LotStatus::Held, Some(at)) => at,
                        _ => {
                            return Err(Error::conflict(
                                ErrorCode::LotNotOnHold,
                                format!("lot {} is not on hold", lot.lot_number),
                            ));
                        }
                    };
                    let back = movements::quarantined_since(&txn, org, id, since).await?;
                    lots::release(&txn, org, id).await?;
                    let mut restored = Vec::new();
                    for (clinic_id, entered) in back {
                        let quantity = move_units(
                            &txn,
                            actor,
                            Entry::new(
                                clinic_id,
                                id,
                                MovementKind::HoldRelease,
                                StockChange::default(),
                            ),
                            |have| entered.min(have.quarantined),
                            |n| StockChange {
                                on_hand: n,
                                quarantined: -n,
                                in_transit_out: 0,
                            },
                        )
                        .await?;
                        if quantity > 0 {
                            restored.push(QuarantinedUnits {
                                clinic_id,
                                quantity,
                            });
                        }
                    }
                    units::release_lot(&txn, org, id, since).await?;
                    txn.audit(
                        AuditEvent::by(actor, "lot.release", "lot", Some(id))
                            .detail(serde_json::json!({ "reason": reason, "restored": restored })),
                    );
                    txn.publish(
                        org,
                        vec![Change::new(EventType::LotReleased).lot(id).data(EventData {
                            product_id: Some(lot.product_id),
                            units: Some(restored.iter().map(|q| q.quantity).sum()),
                            ..EventData::default()
                        })],
                    );
                    let lot = load(&txn, org, id).await?;
                    let answer = Release {
                        lot: detail(&txn, actor, lot).await?,
                        restored,
                    };
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }
}
