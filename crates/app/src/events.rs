//! Integration events: appended in the transaction of the change they report (the outbox),
//! read back as an ordered feed that each caller sees through their roles.

use std::time::Duration;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
pub use skinledger_domain::events::EventData;
use skinledger_domain::events::EventType;
use skinledger_domain::permission::Scope;
use skinledger_store::entities::event;
use skinledger_store::events as store;
use uuid::Uuid;

pub(crate) use crate::changes::Change;
pub use crate::changes::EVENTS_WRITTEN;
use crate::paging::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::txn::Txn;
use crate::{Actor, App, Error, ErrorCode, Result};

/// How far ahead `lot.expiring` looks, in days (the expiring report's default horizon).
pub const EXPIRING_WITHIN_DAYS: u64 = 30;

/// The longest a feed request may wait for a newer event.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// How often a waiting feed looks for newer events (they may come from another replica).
const POLL_EVERY: Duration = Duration::from_millis(200);

/// Gives the event metrics their `# HELP` (once a recorder is installed).
pub fn describe_metrics() {
    metrics::describe_counter!(
        EVENTS_WRITTEN,
        "Integration events appended to the outbox, by type"
    );
}

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The event's id (UUIDv7): the same in the feed, in gRPC streams and in webhooks.
    pub id: Uuid,
    /// Its number in the organisation's sequence: increasing, without gaps.
    pub seq: i64,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened.
    pub occurred_at: chrono::DateTime<Utc>,
    /// The clinic where it happened, or `null` for organisation-wide changes.
    pub clinic_id: Option<Uuid>,
    /// The other clinic of a transfer, or `null`.
    pub other_clinic_id: Option<Uuid>,
    /// The client concerned, or `null`.
    pub client_id: Option<Uuid>,
    /// The treatment concerned, or `null`.
    pub treatment_id: Option<Uuid>,
    /// The lot concerned, or `null`.
    pub lot_id: Option<Uuid>,
    /// The thing the event is about when it is none of the above (a screening, a transfer, a
    /// staff member, a webhook), or `null`.
    pub subject_id: Option<Uuid>,
    /// Small, non-clinical facts.
    pub data: EventData,
}

/// A page of the feed: `next_cursor` is where to resume, also when no event was visible.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    /// The events, in sequence order.
    pub items: Vec<Event>,
    /// The cursor to send as `after` next time.
    pub next_cursor: String,
}

/// What a feed request asks for.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// The cursor of the last page; from the oldest event kept when absent.
    pub after: Option<String>,
    /// Only these types; all when empty.
    pub types: Vec<EventType>,
    /// Only events at this clinic (either side of a transfer).
    pub clinic_id: Option<Uuid>,
    /// Page size (1 to 200, default 50).
    pub limit: Option<u64>,
    /// How long to wait for a newer event when there is none (at most 30 s).
    pub wait: Option<Duration>,
}

/// `stock.low` for each product whose usable units at `clinic` (active lots, not expired) fell
/// in this transaction from above its reorder point to at or below it, given the units each
/// product lost here. A reorder point of 0 never reports.
pub(crate) async fn low_stock(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lost: impl IntoIterator<Item = (Uuid, i64)>,
) -> Result<Vec<Change>> {
    use skinledger_domain::inventory::{lot_usable_on, reorder_point_at, runs_low};
    use skinledger_store::stock;

    let mut by_product: std::collections::BTreeMap<Uuid, i64> = std::collections::BTreeMap::new();
    for (product, units) in lost {
        if units > 0 {
            *by_product.entry(product).or_default() += units;
        }
    }
    let products: Vec<Uuid> = by_product.keys().copied().collect();
    let today = Utc::now().date_naive();
    let mut changes = Vec::new();
    for shelf in stock::shelves(db, org, clinic, &products).await? {
        let point = reorder_point_at(
            i64::from(shelf.product_reorder_point),
            shelf.clinic_reorder_point.map(i64::from),
        );
        let lost = by_product.get(&shelf.product_id).copied().unwrap_or(0);
        let usable: i64 = shelf
            .lots
            .iter()
            .filter(|l| lot_usable_on(l.status, l.expiry, today).is_ok())
            .map(|l| l.on_hand)
            .sum();
        // Reported once, by the change that crossed the point.
        if runs_low(usable, point) && !runs_low(usable + lost, point) {
            changes.push(
                Change::new(EventType::StockLow)
                    .clinic(clinic)
                    .data(EventData {
                        product_id: Some(shelf.product_id),
                        units: Some(usable),
                        reorder_point: Some(point),
                        ..EventData::default()
                    }),
            );
        }
    }
    Ok(changes)
}

impl Event {
    pub(crate) fn from_row(row: event::Model) -> Self {
        let event::Model {
            id,
            organization_id: _,
            seq,
            event_type,
            occurred_at,
            clinic_id,
            other_clinic_id,
            client_id,
            treatment_id,
            lot_id,
            subject_id,
            payload,
        } = row;
        Self {
            id,
            seq,
            event_type: *event_type,
            occurred_at,
            clinic_id,
            other_clinic_id,
            client_id,
            treatment_id,
            lot_id,
            subject_id,
            data: payload.into_inner(),
        }
    }

    /// Whether `actor` may see this event: their roles allow its type's read action at its
    /// clinic (either side of a transfer), or anywhere for an organisation-wide event.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        let action = self.event_type.read_action();
        match (self.clinic_id, self.other_clinic_id) {
            (None, None) => actor.may(action, Scope::Anywhere),
            (clinic, other) => [clinic, other]
                .into_iter()
                .flatten()
                .any(|c| actor.may(action, Scope::Clinic(c))),
        }
    }

    fn matches(&self, query: &FeedQuery) -> bool {
        (query.types.is_empty() || query.types.contains(&self.event_type))
            && query
                .clinic_id
                .is_none_or(|c| self.clinic_id == Some(c) || self.other_clinic_id == Some(c))
    }
}

/// Rows read per look at the outbox while filling a page.
const SCAN: u64 = 500;
/// Looks per request before answering with what was found (and the cursor reached).
const MAX_SCANS: usize = 8;

impl App {
    /// The organisation's events after a cursor, in sequence order, as far as the caller's
    /// roles let them see; with `wait`, holds the answer until an event arrives or the wait
    /// ends. A cursor older than the retention answers 410 `cursor_expired`.
    pub async fn list_events(&self, actor: &Actor, query: &FeedQuery) -> Result<EventPage> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let wait = query.wait.unwrap_or_default();
        if wait > MAX_WAIT {
            return Err(Error::invalid("wait", "must be at most 30 seconds"));
        }
        let mut cursor = parse_cursor(query.after.as_deref())?;
        let db = self.db().read();
        if let Some(sequence) = store::sequence(db, actor.org_id).await?
            && cursor < sequence.purged_through
        {
            return Err(Error::Gone {
                code: ErrorCode::CursorExpired,
                detail: "events after this cursor are no longer kept; resynchronise and \
                         start again from a new cursor"
                    .into(),
            });
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (items, reached, at_end) = self.scan(actor, query, cursor, limit).await?;
            cursor = reached;
            if !items.is_empty() || !at_end || tokio::time::Instant::now() >= deadline {
                return Ok(EventPage {
                    items,
                    next_cursor: cursor.to_string(),
                });
            }
            tokio::time::sleep_until((tokio::time::Instant::now() + POLL_EVERY).min(deadline))
                .await;
        }
    }

    /// Reads events after `cursor` until `limit` visible ones are found or the outbox is read
    /// to its end; answers them, the cursor reached and whether the end was reached.
    async fn scan(
        &self,
        actor: &Actor,
        query: &FeedQuery,
        mut cursor: i64,
        limit: u64,
    ) -> Result<(Vec<Event>, i64, bool)> {
        let db = self.db().read();
        let mut items = Vec::new();
        for _ in 0..MAX_SCANS {
            let rows = store::after(db, actor.org_id, cursor, SCAN).await?;
            let at_end = (rows.len() as u64) < SCAN;
            for row in rows {
                let seq = row.seq;
                let event = Event::from_row(row);
                if event.matches(query) && event.visible_to(actor) {
                    items.push(event);
                }
                cursor = seq;
                if items.len() as u64 == limit {
                    return Ok((items, cursor, false));
                }
            }
            if at_end {
                return Ok((items, cursor, true));
            }
        }
        Ok((items, cursor, false))
    }

    /// Deletes events older than the retention; answers how many.
    pub async fn purge_events(&self) -> Result<u64> {
        let retention = chrono::Duration::from_std(self.settings().event_retention)
            .map_err(|e| Error::Internal(format!("event retention: {e}")))?;
        let txn = Txn::begin(self.db()).await?;
        let purged = store::purge(&txn, Utc::now() - retention).await?;
        txn.commit().await?;
        Ok(purged)
    }

    /// `lot.expiring` for every lot with units on hand at a clinic that expires within
    /// [`EXPIRING_WITHIN_DAYS`] days (and has not expired), once a day per lot and clinic:
    /// run it as often as wanted, from any number of replicas. Answers how many were written.
    pub async fn announce_expiring_lots(&self) -> Result<usize> {
        use skinledger_domain::inventory::is_expired_on;
        use skinledger_store::{lots, orgs, stock};
        let now = Utc::now();
        let today = now.date_naive();
        let horizon = today + chrono::Days::new(EXPIRING_WITHIN_DAYS);
        let midnight = today.and_time(chrono::NaiveTime::MIN).and_utc();
        let mut written = 0;
        for org in orgs::all_ids(self.db().read()).await? {
            let txn = Txn::begin(self.db()).await?;
            // The organisation's sequence first: replicas announcing at once take turns, and
            // the second sees what the first wrote.
            skinledger_store::journal::reserve(&txn, org, 0, 0).await?;
            let announced: std::collections::HashSet<(Option<Uuid>, Option<Uuid>)> =
                store::of_type_since(&txn, org, EventType::LotExpiring.as_str(), midnight)
                    .await?
                    .into_iter()
                    .map(|e| (e.lot_id, e.clinic_id))
                    .collect();
            let balances = stock::on_hand(&txn, org, None).await?;
            let ids: Vec<Uuid> = balances.iter().map(|b| b.lot_id).collect();
            let lots: std::collections::HashMap<Uuid, _> = lots::by_ids(&txn, org, &ids)
                .await?
                .into_iter()
                .map(|l| (l.id, l))
                .collect();
            let mut changes = Vec::new();
            for balance in &balances {
                let Some(lot) = lots.get(&balance.lot_id) else {
                    continue;
                };
                if is_expired_on(lot.expiry, today)
                    || lot.expiry > horizon
                    || announced.contains(&(Some(lot.id), Some(balance.clinic_id)))
                {
                    continue;
                }
                changes.push(
                    Change::new(EventType::LotExpiring)
                        .clinic(balance.clinic_id)
                        .lot(lot.id)
                        .data(EventData {
                            product_id: Some(lot.product_id),
                            units: Some(i64::from(balance.on_hand)),
                            expires_on: Some(lot.expiry),
                            ..EventData::default()
                        }),
                );
            }
            written += changes.len();
            txn.publish(org, changes);
            txn.commit().await?;
        }
        Ok(written)
    }
}

/// A feed cursor: the number of the last event seen; `0` (or none) is before the first.
pub(crate) fn parse_cursor(raw: Option<&str>) -> Result<i64> {
    match raw.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| Error::invalid("after", "is not a cursor of the event feed")),
    }
}
