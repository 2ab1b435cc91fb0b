//! Integration events.

use std::time::Duration;

use skinledger_app::events::{Event, EventData, EventPage, FeedQuery};
use skinledger_domain::ValidationErrors;

use crate::grpc::{date, field_id, parse_all, pb, time};

impl From<Event> for pb::Event {
    fn from(e: Event) -> Self {
        let Event {
            id,
            seq,
            event_type,
            occurred_at,
            clinic_id,
            other_clinic_id,
            client_id,
            treatment_id,
            lot_id,
            subject_id,
            data,
        } = e;
        let id_text = |i: Option<uuid::Uuid>| i.map(|i| i.to_string());
        pb::Event {
            id: id.to_string(),
            seq,
            r#type: event_type.as_str().to_owned(),
            occurred_at: time(occurred_at),
            clinic_id: id_text(clinic_id),
            other_clinic_id: id_text(other_clinic_id),
            client_id: id_text(client_id),
            treatment_id: id_text(treatment_id),
            lot_id: id_text(lot_id),
            subject_id: id_text(subject_id),
            data: Some(data.into()),
        }
    }
}

impl From<EventData> for pb::EventData {
    fn from(d: EventData) -> Self {
        let EventData {
            product_id,
            units,
            reorder_point,
            expires_on,
            change,
            version,
        } = d;
        pb::EventData {
            product_id: product_id.map(|i| i.to_string()),
            units,
            reorder_point,
            expires_on: expires_on.map(date),
            change,
            version,
        }
    }
}

impl From<EventPage> for pb::ListEventsResponse {
    fn from(page: EventPage) -> Self {
        let EventPage { items, next_cursor } = page;
        pb::ListEventsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::ListEventsRequest> for FeedQuery {
    type Error = ValidationErrors;

    fn try_from(r: pb::ListEventsRequest) -> Result<Self, ValidationErrors> {
        let pb::ListEventsRequest {
            after,
            types,
            clinic_id,
            limit,
            wait,
        } = r;
        let mut errors = ValidationErrors::new();
        let types = parse_all(&mut errors, "types", &types);
        let clinic_id = clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", &c));
        errors.into_result()?;
        Ok(FeedQuery {
            after,
            types,
            clinic_id,
            limit,
            wait: wait.map(|s| Duration::from_secs(u64::from(s))),
        })
    }
}

impl TryFrom<pb::WatchEventsRequest> for FeedQuery {
    type Error = ValidationErrors;

    fn try_from(r: pb::WatchEventsRequest) -> Result<Self, ValidationErrors> {
        let pb::WatchEventsRequest {
            after,
            types,
            clinic_id,
        } = r;
        let mut errors = ValidationErrors::new();
        let types = parse_all(&mut errors, "types", &types);
        let clinic_id = clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", &c));
        errors.into_result()?;
        Ok(FeedQuery {
            after,
            types,
            clinic_id,
            limit: None,
            wait: None,
        })
    }
}
