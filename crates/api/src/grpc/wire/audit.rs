//! The audit log.

use skinledger_app::audit::{AuditEntry, AuditFilter};
use skinledger_app::audit_chain::{Anchor, AuditHead, AuditVerification, BrokenLink};
use skinledger_app::{Page, PageParams};
use skinledger_domain::ValidationErrors;

use crate::grpc::{field_id, page, parse_time, pb, time};

impl From<AuditEntry> for pb::AuditEvent {
    fn from(e: AuditEntry) -> Self {
        let AuditEntry {
            id,
            organization_id,
            actor_kind,
            actor_id,
            action,
            entity_kind,
            entity_id,
            client_id,
            outcome,
            detail,
            request_id,
            occurred_at,
            seq,
            prev_hash,
            hash,
        } = e;
        pb::AuditEvent {
            id: id.to_string(),
            actor_kind,
            actor_id: actor_id.map(|i| i.to_string()),
            action,
            entity_kind,
            entity_id: entity_id.map(|i| i.to_string()),
            client_id: client_id.map(|i| i.to_string()),
            outcome,
            // The JSON document REST answers as an object.
            detail: detail.map(|d| d.0.to_string()),
            request_id,
            occurred_at: time(occurred_at),
            seq,
            prev_hash,
            hash,
            organization_id: organization_id.to_string(),
        }
    }
}

impl From<Page<AuditEntry>> for pb::ListAuditEventsResponse {
    fn from(page: Page<AuditEntry>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListAuditEventsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

/// The filters and the page asked for.
pub fn audit_query(
    r: pb::ListAuditEventsRequest,
) -> Result<(AuditFilter, PageParams), ValidationErrors> {
    let pb::ListAuditEventsRequest {
        limit,
        cursor,
        entity_id,
        client_id,
        action,
        outcome,
        from,
        to,
    } = r;
    let mut errors = ValidationErrors::new();
    let entity_id = entity_id
        .as_deref()
        .and_then(|id| field_id(&mut errors, "entity_id", id));
    let client_id = client_id
        .as_deref()
        .and_then(|id| field_id(&mut errors, "client_id", id));
    let from = from
        .as_deref()
        .and_then(|t| parse_time(&mut errors, "from", t));
    let to = to.as_deref().and_then(|t| parse_time(&mut errors, "to", t));
    errors.into_result()?;
    let filter = AuditFilter {
        entity_id,
        client_id,
        action,
        outcome,
        from,
        to,
    };
    Ok((filter, page(limit, cursor)))
}

impl From<AuditHead> for pb::AuditHead {
    fn from(h: AuditHead) -> Self {
        let AuditHead { seq, hash } = h;
        pb::AuditHead { seq, hash }
    }
}

impl From<AuditVerification> for pb::AuditVerification {
    fn from(v: AuditVerification) -> Self {
        let AuditVerification {
            verified,
            events_checked,
            head,
            broken,
        } = v;
        pb::AuditVerification {
            verified,
            events_checked,
            head: Some(head.into()),
            broken: broken.map(|BrokenLink { seq, problem }| pb::BrokenLink {
                seq,
                problem: problem.as_str().to_owned(),
            }),
        }
    }
}

/// The anchor to check, when one is given (both its number and its hash).
pub fn anchor(r: pb::VerifyAuditChainRequest) -> Result<Option<Anchor>, ValidationErrors> {
    let pb::VerifyAuditChainRequest {
        anchor_seq,
        anchor_hash,
    } = r;
    Anchor::parse(anchor_seq, anchor_hash)
}
