//! The audit log becomes a hash chain per organisation.
//!
//! Each audit event gets its number in the organisation's chain (`seq`), the hash of the event
//! before it (`prev_hash`) and its own (`hash`, see `skinledger_domain::audit_chain`). The head
//! of each chain (its last number and hash) is kept beside the organisation's event sequence, in
//! the row whose lock already serialises the organisation's appends. Events already in the log
//! are chained here, per organisation, in the order they happened.

use sea_orm::prelude::{DateTimeUtc, Uuid};
use sea_orm::{ConnectionTrait, Statement};
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

/// Chains the events already in the log, each organisation in the order they happened.
async fn chain_existing(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, organization_id, actor_kind, actor_id, action, entity_kind, entity_id, \
             client_id, outcome, detail, request_id, occurred_at FROM audit_events \
             ORDER BY organization_id, occurred_at, id",
        ))
        .await?;
    let mut org: Option<Uuid> = None;
    let mut seq = 0_i64;
    let mut prev = GENESIS.to_owned();
    let mut heads: Vec<(Uuid, i64, String)> = Vec::new();
    for row in rows {
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
        let id: Uuid = row.try_get("", "id")?;
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
            id,
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
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        db.execute(&update).await?;
        prev = hash;
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
