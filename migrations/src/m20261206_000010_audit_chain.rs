//! The audit log becomes a hash chain per organisation.
//!
//! Each audit event gets its number in the organisation's chain (`seq`), the hash of the event
//! before it (`prev_hash`) and its own (`hash`, see `skinledger_domain::audit_chain`). The head
//! of each chain (its last number and hash) is kept beside the organisation's event sequence, in
//! the row whose lock already serialises the organisation's appends. Events already in the log
//! are chained here, per organisation, in the order they happened.

use sea_orm::ConnectionTrait;
use sea_orm::prelude::{DateTimeUtc, Uuid};
use sea_orm_migration::prelude::*;
use skinledger_domain::audit_chain::{GENESIS, Link};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    OrganizationId,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum EventSequences {
    Table,
    AuditSeq,
    AuditHash,
}

const INDEX: &str = "ux_audit_events_org_seq";

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: &mut ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).take())
        .await
}

async fn drop_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).take())
        .await
}

/// Events read per query while chaining the existing log.
const CHUNK: usize = 1_000;

/// Chains the events already in the log, each organisation in the order they happened. Only
/// the order (organisation, time, id) of every event is held in memory; the events themselves
/// are read a chunk at a time, in that order.
async fn chain_existing(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let keys = Query::select()
        .columns([
            Alias::new("organization_id"),
            Alias::new("occurred_at"),
            Alias::new("id"),
        ])
        .from(AuditEvents::Table)
        .to_owned();
    let mut order: Vec<(Uuid, DateTimeUtc, Uuid)> = Vec::new();
    for row in db.query_all(&keys).await? {
        order.push((
            row.try_get("", "organization_id")?,
            row.try_get("", "occurred_at")?,
            row.try_get("", "id")?,
        ));
    }
    order.sort_unstable();
    let mut org: Option<Uuid> = None;
    let mut seq = 0_i64;
    let mut prev = GENESIS.to_owned();
    let mut heads: Vec<(Uuid, i64, String)> = Vec::new();
    for chunk in order.chunks(CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|(_, _, id)| *id).collect();
        let select = Query::select()
            .columns(
                [
                    "id",
                    "organization_id",
                    "actor_kind",
                    "actor_id",
                    "action",
                    "entity_kind",
                    "entity_id",
                    "client_id",
                    "outcome",
                    "detail",
                    "request_id",
                    "occurred_at",
                ]
                .map(Alias::new),
            )
            .from(AuditEvents::Table)
            .and_where(Expr::col(Alias::new("id")).is_in(ids))
            .to_owned();
        let mut rows = std::collections::HashMap::with_capacity(chunk.len());
        for row in db.query_all(&select).await? {
            let id: Uuid = row.try_get("", "id")?;
            rows.insert(id, row);
        }
        for (_, _, id) in chunk {
            let row = rows
                .get(id)
                .ok_or_else(|| DbErr::Custom(format!("audit event {id} vanished")))?;
            let organization_id: Uuid = row.try_get("", "organization_id")?;
            if org != Some(organization_id) {
                if let Some(done) = org {
                    heads.push((done, seq, prev.clone()));
                }
                org = Some(organization_id);
                seq = 0;
                GENESIS.clone_into(&mut prev);
            }
            seq += 1;
            let actor_kind: String = row.try_get("", "actor_kind")?;
            let action: String = row.try_get("", "action")?;
            let entity_kind: String = row.try_get("", "entity_kind")?;
            let outcome: String = row.try_get("", "outcome")?;
            let detail: Option<String> = row.try_get("", "detail")?;
            let request_id: Option<String> = row.try_get("", "request_id")?;
            let occurred_at: DateTimeUtc = row.try_get("", "occurred_at")?;
            let hash = Link {
                seq,
                prev_hash: &prev,
                id: *id,
                organization_id,
                occurred_at,
                actor_kind: &actor_kind,
                actor_id: row.try_get("", "actor_id")?,
                action: &action,
                entity_kind: &entity_kind,
                entity_id: row.try_get("", "entity_id")?,
                client_id: row.try_get("", "client_id")?,
                outcome: &outcome,
                detail: detail.as_deref(),
                request_id: request_id.as_deref(),
            }
            .hash();
            let update = Query::update()
                .table(AuditEvents::Table)
                .value(AuditEvents::Seq, seq)
                .value(AuditEvents::PrevHash, prev.clone())
                .value(AuditEvents::Hash, hash.clone())
                .and_where(Expr::col(Alias::new("id")).eq(*id))
                .to_owned();
            db.execute(&update).await?;
            prev = hash;
        }
    }
    if let Some(done) = org {
        heads.push((done, seq, prev));
    }
    for (organization_id, seq, hash) in heads {
        // Every organisation with events has its sequence row once it has written an event;
        // one that has only audit events gets it here.
        let upsert = Query::insert()
            .into_table(Alias::new("event_sequences"))
            .columns([
                Alias::new("organization_id"),
                Alias::new("last_seq"),
                Alias::new("purged_through"),
                Alias::new("audit_seq"),
                Alias::new("audit_hash"),
            ])
            .values_panic([
                organization_id.into(),
                0_i64.into(),
                0_i64.into(),
                seq.into(),
                hash.clone().into(),
            ])
            .on_conflict(
                OnConflict::column(Alias::new("organization_id"))
                    .update_columns([Alias::new("audit_seq"), Alias::new("audit_hash")])
                    .to_owned(),
            )
            .to_owned();
        db.execute(&upsert).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            AuditEvents::Table,
            ColumnDef::new(AuditEvents::Seq)
                .big_integer()
                .not_null()
                .default(0),
        )
        .await?;
        add(
            manager,
            AuditEvents::Table,
            ColumnDef::new(AuditEvents::PrevHash)
                .string_len(64)
                .not_null()
                .default(""),
        )
        .await?;
        add(
            manager,
            AuditEvents::Table,
            ColumnDef::new(AuditEvents::Hash)
                .string_len(64)
                .not_null()
                .default(""),
        )
        .await?;
        add(
            manager,
            EventSequences::Table,
            ColumnDef::new(EventSequences::AuditSeq)
                .big_integer()
                .not_null()
                .default(0),
        )
        .await?;
        add(
            manager,
            EventSequences::Table,
            ColumnDef::new(EventSequences::AuditHash)
                .string_len(64)
                .not_null()
                .default(GENESIS),
        )
        .await?;
        chain_existing(manager).await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OrganizationId)
                    .col(AuditEvents::Seq)
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        drop_column(manager, EventSequences::Table, EventSequences::AuditHash).await?;
        drop_column(manager, EventSequences::Table, EventSequences::AuditSeq).await?;
        drop_column(manager, AuditEvents::Table, AuditEvents::Hash).await?;
        drop_column(manager, AuditEvents::Table, AuditEvents::PrevHash).await?;
        drop_column(manager, AuditEvents::Table, AuditEvents::Seq).await
    }
}
