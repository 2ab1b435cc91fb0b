//! A change about to be reported to integrators, built where the change is made and appended
//! as a numbered integration event when its transaction commits (`crate::txn`).

use chrono::Utc;
use skinledger_domain::events::{EventData, EventType};
use skinledger_store::entities::event;
use skinledger_store::events::{self as store, EventIds};
use uuid::Uuid;

/// Events written, by type (`# HELP` in the api layer's metrics).
pub const EVENTS_WRITTEN: &str = "skinledger_events_written_total";

/// A change about to be reported, built where the change is made.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    kind: EventType,
    ids: EventIds,
    data: EventData,
}

impl Change {
    pub(crate) fn new(kind: EventType) -> Self {
        Self {
            kind,
            ids: EventIds::default(),
            data: EventData::default(),
        }
    }

    pub(crate) fn clinic(mut self, id: impl Into<Option<Uuid>>) -> Self {
        self.ids.clinic_id = id.into();
        self
    }

    pub(crate) fn other_clinic(mut self, id: Uuid) -> Self {
        self.ids.other_clinic_id = Some(id);
        self
    }

    pub(crate) fn client(mut self, id: Uuid) -> Self {
        self.ids.client_id = Some(id);
        self
    }

    pub(crate) fn treatment(mut self, id: Uuid) -> Self {
        self.ids.treatment_id = Some(id);
        self
    }

    pub(crate) fn lot(mut self, id: Uuid) -> Self {
        self.ids.lot_id = Some(id);
        self
    }

    pub(crate) fn subject(mut self, id: Uuid) -> Self {
        self.ids.subject_id = Some(id);
        self
    }

    pub(crate) fn data(mut self, data: EventData) -> Self {
        self.data = data;
        self
    }
}

/// The rows of an organisation's events, numbered after `last`, in order.
pub(crate) fn rows(org: Uuid, last: i64, changes: Vec<Change>) -> Vec<event::ActiveModel> {
    let now = Utc::now();
    let mut rows = Vec::with_capacity(changes.len());
    for (seq, change) in (last + 1..).zip(changes) {
        metrics::counter!(EVENTS_WRITTEN, "type" => change.kind.as_str()).increment(1);
        rows.push(store::row(
            Uuid::now_v7(),
            org,
            seq,
            change.kind,
            now,
            change.ids,
            change.data,
        ));
    }
    rows
}
