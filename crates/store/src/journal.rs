//! The organisation's journal head: the last number of its integration events and the last
//! number and hash of its audit chain, in one `event_sequences` row.
//!
//! Taking numbers locks that row until the transaction ends, so appends of one organisation are
//! serialised, across replicas too: numbers are given in commit order, a rolled-back
//! transaction gives its numbers back, a reader that sees number `n` has already been able to
//! see every number before it, and the audit chain has one order. Callers take it last in their
//! transaction, after every other lock, so that no two writers wait for each other in opposite
//! orders.

use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use skinledger_domain::audit_chain::GENESIS;
use uuid::Uuid;

use crate::entities::event_sequence::{self, Column};

/// What the organisation had appended before a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The number of its last integration event.
    pub event_seq: i64,
    /// The number of its last audit event.
    pub audit_seq: i64,
    /// The hash of its last audit event ([`GENESIS`] before the first).
    pub audit_hash: String,
}

/// Takes the next `events` integration-event numbers and `audit` audit-chain numbers of the
/// organisation and answers the head as it was before them. The row stays locked until the
/// transaction ends; the caller sets the new audit hash with [`set_audit_hash`].
pub async fn reserve(
    db: &impl ConnectionTrait,
    org: Uuid,
    events: i64,
    audit: i64,
) -> Result<Head, DbErr> {
    let statement = Query::insert()
        .into_table(event_sequence::Entity)
        .columns([
            Column::OrganizationId,
            Column::LastSeq,
            Column::PurgedThrough,
            Column::AuditSeq,
            Column::AuditHash,
        ])
        .values_panic([
            org.into(),
            events.into(),
            0_i64.into(),
            audit.into(),
            GENESIS.into(),
        ])
        .on_conflict(
            OnConflict::column(Column::OrganizationId)
                .value(
                    Column::LastSeq,
                    Expr::col((event_sequence::Entity, Column::LastSeq)).add(events),
                )
                .value(
                    Column::AuditSeq,
                    Expr::col((event_sequence::Entity, Column::AuditSeq)).add(audit),
                )
                .to_owned(),
        )
        .returning(Query::returning().columns([
            Column::LastSeq,
            Column::AuditSeq,
            Column::AuditHash,
        ]))
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| DbErr::Custom("the journal head answered no row".into()))?;
    let event_seq: i64 = row.try_get("", "last_seq")?;
    let audit_seq: i64 = row.try_get("", "audit_seq")?;
    Ok(Head {
        event_seq: event_seq - events,
        audit_seq: audit_seq - audit,
        audit_hash: row.try_get("", "audit_hash")?,
    })
}

/// Records the hash of the organisation's last audit event (under the lock of [`reserve`]).
pub async fn set_audit_hash(db: &impl ConnectionTrait, org: Uuid, hash: &str) -> Result<(), DbErr> {
    event_sequence::Entity::update_many()
        .col_expr(Column::AuditHash, Expr::value(hash))
        .filter(Column::OrganizationId.eq(org))
        .exec(db)
        .await?;
    Ok(())
}

/// The organisation's head as committed, without locking; `None` before its first append.
pub async fn head(db: &impl ConnectionTrait, org: Uuid) -> Result<Option<Head>, DbErr> {
    Ok(event_sequence::Entity::find_by_id(org)
        .one(db)
        .await?
        .map(|row| Head {
            event_seq: row.last_seq,
            audit_seq: row.audit_seq,
            audit_hash: row.audit_hash,
        }))
}
