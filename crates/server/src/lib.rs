//! The skinledger server: configuration, wiring, serving and graceful shutdown.
//!
//! [`launch`] is public so that tests can bind `127.0.0.1:0` and run the real server.

pub mod config;
pub mod demo;
pub mod serving;
pub mod telemetry;

use std::future::Future;
use std::time::Duration;

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use skinledger_api::ApiSettings;
use skinledger_app::{App, AppSettings};
use skinledger_migration::Migrator;
use skinledger_store::{Db, DbSettings};
use tokio::net::TcpListener;

pub use config::{Config, LogFormat};

/// Connects to the configured database.
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&DbSettings {
        max_connections: config.database_max_connections,
        acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms),
        connect_timeout: Duration::from_millis(config.database_connect_timeout_ms),
        statement_timeout: Duration::from_millis(config.database_statement_timeout_ms),
        ..DbSettings::new(config.database_url.clone())
    })
    .await
    .map_err(|e| anyhow::anyhow!(skinledger_store::db::describe(&e)))?;
    Ok(db)
}

/// Applies every pending migration. On PostgreSQL they run in one transaction holding an
/// advisory lock, so that replicas starting together migrate once: the others wait for it and
/// then find nothing left to do. (SQLite has one writer anyway.)
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    if db.backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        return Ok(());
    }
    Migrator::up(db.write(), None).await?;
    Ok(())
}

/// The PostgreSQL advisory lock key migrations take ("skinledger" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x736b_696e_6c65_6467;

/// Builds the app over a connected database.
pub fn app(
    config: &Config,
    db: Db,
) -> anyhow::Result<(App, skinledger_app::read_audit::ReadAuditTask)> {
    let settings = AppSettings {
        issuer: config.token_issuer.clone(),
        audience: config.token_audience.clone(),
        access_ttl: Duration::from_secs(config.access_token_ttl_secs),
        refresh_ttl: Duration::from_secs(config.refresh_token_ttl_secs),
        signing_key: config.signing_key()?,
        default_timezone: config.default_timezone,
        audit_spool: Some(config.data_dir.join("audit-spool.jsonl")),
        login_failures_per_source: config.login_failures_per_source,
        event_retention: Duration::from_secs(config.event_retention_days.saturating_mul(86_400)),
        caller_cache: Duration::from_millis(config.caller_cache_ms),
        webhooks: skinledger_app::webhooks::WebhookSettings {
            allow_private_addresses: config.webhook_allow_private_addresses,
            allowed_addresses: config.webhook_allowed_addresses.clone(),
            timeout: Duration::from_secs(config.webhook_timeout_secs),
            retry_base: Duration::from_millis(config.webhook_retry_base_ms),
            retry_window: Duration::from_secs(config.webhook_retry_window_secs),
        },
    };
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        folder.mode(0o700);
    }
    folder.create(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data folder {}: {e}",
            config.data_dir.display()
        )
    })?;
    Ok(App::new(db, settings))
}

/// Serves REST and gRPC on `listener` until `shutdown` completes, then drains requests and
/// writes the audit events still queued.
pub async fn launch(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = connect(&config).await?;
    if config.run_migrations {
        migrate(&db).await?;
    }
    let tls = config.tls()?;
    let ops_listener = match config.ops_listen_addr {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (ops_listen_addr): {e}"))?,
        ),
        None => None,
    };
    let (app, audit_task) = app(&config, db.clone())?;
    let service = skinledger_api::service(
        app.clone(),
        &ApiSettings {
            body_limit: config.body_limit_bytes,
            body_read_timeout: Duration::from_secs(config.body_read_timeout_secs),
            hsts: config.hsts || tls.is_some(),
            trusted_proxy_hops: config.trusted_proxy_hops,
            ops_apart: ops_listener.is_some(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot build the router: {e}"))?;
    // Routes are made ready once here: serving the router itself would rebuild every route for
    // each connection (about 300 KiB each), where this shares one routing table among all.
    let router = service.router.clone().with_state(());
    let limits = serving::Limits {
        max_connections: config.max_connections,
        header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
        idle_timeout: Duration::from_secs(config.idle_timeout_secs),
        http2_max_concurrent_streams: config.http2_max_concurrent_streams,
        http2_max_pending_reset_streams: config.http2_max_pending_reset_streams,
    };

    let purge = tokio::spawn({
        let db = db.clone();
        let housekeeping = app.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            let mut hour = 0_u32;
            loop {
                every.tick().await;
                // Once a day (and at start): each organisation's audit head, for anchoring.
                if hour.is_multiple_of(24)
                    && let Err(e) = housekeeping.log_audit_heads().await
                {
                    tracing::warn!(error = %e, "cannot read the audit heads");
                }
                hour = hour.wrapping_add(1);
                match skinledger_app::idempotency::purge(&db).await {
                    Ok(n) if n > 0 => tracing::info!(purged = n, "forgot old idempotency keys"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot purge idempotency keys"),
                }
                match housekeeping.purge_events().await {
                    Ok(n) if n > 0 => tracing::info!(purged = n, "deleted events past retention"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot purge old events"),
                }
                match housekeeping.purge_webhook_deliveries().await {
                    Ok(n) if n > 0 => {
                        tracing::info!(purged = n, "deleted webhook deliveries past retention");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot purge old webhook deliveries"),
                }
                match housekeeping.announce_expiring_lots().await {
                    Ok(n) if n > 0 => tracing::info!(events = n, "announced expiring lots"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot announce expiring lots"),
                }
            }
        }
    });

    // Webhook deliveries, shared with the other replicas through the database.
    let (stop_webhooks, webhooks_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut webhooks = tokio::spawn(app.webhook_worker().run(async move {
        let _ = webhooks_stopped.await;
    }));

    tracing::info!(
        addr = %listener.local_addr()?,
        tls = tls.is_some(),
        "serving REST and gRPC"
    );
    // On the signal the server stops being ready but keeps serving for the drain window, so
    // that load balancers move traffic away first; then it stops accepting and finishes the
    // requests under way.
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let draining = app.clone();
    let (drained_tx, drained_rx) = tokio::sync::watch::channel(false);
    let drained = async move {
        shutdown.await;
        draining.start_draining();
        tracing::info!(grace_secs = grace.as_secs(), "draining before shutdown");
        tokio::time::sleep(grace).await;
        let _ = drained_tx.send(true);
    };
    let ops = ops_listener.map(|ops_listener| {
        let mut drained = drained_rx.clone();
        let router = service.ops.clone().with_state(());
        let limits = limits.clone();
        if let Ok(addr) = ops_listener.local_addr() {
            tracing::info!(%addr, "serving health, metrics and gRPC reflection");
        }
        tokio::spawn(serving::serve(
            ops_listener,
            router,
            limits,
            None,
            async move {
                let _ = drained.wait_for(|done| *done).await;
            },
        ))
    });
    let main = serving::serve(listener, router, limits, tls, drained);
    main.await?;
    if let Some(ops) = ops {
        ops.await??;
    }
    drop(drained_rx);
    drop(service);
    purge.abort();
    // An attempt under way finishes (it is bounded by the webhook timeout); one cut short
    // would be taken over by another replica when its lease runs out.
    let _ = stop_webhooks.send(());
    let patience = Duration::from_secs(config.webhook_timeout_secs.saturating_add(5));
    if tokio::time::timeout(patience, &mut webhooks).await.is_err() {
        tracing::warn!("webhook deliveries did not stop in time");
        webhooks.abort();
    }
    drop(app);
    audit_task.finish().await;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
