//! `skinledger`: the server binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use skinledger::config::Config;
use skinledger::demo;
use skinledger_app::orgs::NewOrganization;

/// mimalloc returns memory to the system after a burst (a password hash takes 7 MiB on its
/// worker thread; 64 connections' buffers) where the system allocator kept it.
#[global_allocator]
static ALLOCATOR: skinledger_allocator::MiMalloc = skinledger_allocator::MiMalloc;

/// skinledger: practice management for chains of microneedling clinics.
#[derive(Debug, Parser)]
#[command(name = "skinledger", version, about)]
struct Cli {
    /// A TOML configuration file (settings also come from SKINLEDGER_* variables).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve REST and gRPC on one port (migrating the database first).
    Serve {
        /// Seed the demo organisation and print its logins.
        #[arg(long)]
        demo: bool,
        /// With --demo: register a webhook of the demo organisation to this URL (its address
        /// allowed although private) and print its secret.
        #[arg(long, value_name = "URL", requires = "demo")]
        demo_webhook: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Seed the demo organisation (running it twice changes nothing).
    Demo,
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk each organisation's audit chain and report the first broken link; exits non-zero
    /// when a chain does not verify.
    Verify {
        /// Only the organisation with this slug.
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation with its first org_admin.
    Create {
        /// Login handle, e.g. glow-clinics.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The first administrator's email.
        #[arg(long)]
        admin_email: String,
        /// The first administrator's password (at least 12 characters).
        #[arg(long)]
        admin_password: String,
    },
}

fn main() -> std::process::ExitCode {
    skinledger_allocator::give_back_freed_memory_at_once();
    let cli = Cli::parse();
    let outcome = Config::load(cli.config.as_deref()).and_then(|config| {
        let runtime = runtime(&config)?;
        runtime.block_on(run(cli.command, config))
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // One line, naming what and where; the causes joined, no backtrace.
            complain(&format!("skinledger: {err:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The runtime requests run on: `worker_threads` threads, one per core when it is 0.
fn runtime(config: &Config) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if config.worker_threads > 0 {
        builder.worker_threads(config.worker_threads);
    }
    builder
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the runtime: {e}"))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let telemetry = skinledger::telemetry::init(config.log_format);
    tracing::debug!(?config, "configuration");
    let result = execute(command, config).await;
    telemetry.shutdown();
    result
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, demo_webhook } => {
            let mut config = config;
            if let Some(url) = &demo_webhook {
                for address in demo::private_addresses_of(url).await? {
                    if !config.webhook_allowed_addresses.contains(&address) {
                        config.webhook_allowed_addresses.push(address);
                    }
                }
            }
            if demo {
                // On stderr: stdout carries the log, one JSON object per line when so
                // configured.
                complain(&seed_demo(&config, demo_webhook.as_deref()).await?);
            }
            let listener = tokio::net::TcpListener::bind(config.listen_addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen_addr))?;
            skinledger::launch(config, listener, skinledger::shutdown_signal()).await
        }
        Command::Migrate => {
            let db = skinledger::connect(&config).await?;
            skinledger::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Org {
            command:
                OrgCommand::Create {
                    slug,
                    name,
                    admin_email,
                    admin_password,
                },
        } => {
            let db = skinledger::connect(&config).await?;
            skinledger::migrate(&db).await?;
            let (app, audit) = skinledger::app(&config, db)?;
            let org = app
                .create_organization(NewOrganization {
                    slug,
                    name,
                    admin_email,
                    admin_password,
                })
                .await?;
            drop(app);
            audit.finish().await;
            say(&format!(
                "created organisation {} ({}) with its org_admin",
                org.slug, org.id
            ));
            Ok(())
        }
        Command::Demo => {
            say(&seed_demo(&config, None).await?);
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { org },
        } => verify_audit(&config, org.as_deref()).await,
    }
}

/// Verifies the audit chains and prints one line per organisation.
async fn verify_audit(config: &Config, slug: Option<&str>) -> anyhow::Result<()> {
    let db = skinledger::connect(config).await?;
    skinledger::migrate(&db).await?;
    let (app, audit) = skinledger::app(config, db.clone())?;
    let started = std::time::Instant::now();
    let verdicts = app.verify_audit_chains(slug).await;
    drop(app);
    audit.finish().await;
    db.close().await?;
    let verdicts = verdicts?;
    let mut broken = 0;
    for (slug, v) in &verdicts {
        match &v.broken {
            None => say(&format!(
                "{slug}: verified {} events; head {} {}",
                v.events_checked, v.head.seq, v.head.hash
            )),
            Some(b) => {
                broken += 1;
                say(&format!(
                    "{slug}: BROKEN at {}: {} (head recorded {} {})",
                    b.seq,
                    b.problem.as_str(),
                    v.head.seq,
                    v.head.hash
                ));
            }
        }
    }
    tracing::info!(
        organizations = verdicts.len(),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "audit chains walked"
    );
    if broken > 0 {
        anyhow::bail!("{broken} audit chain(s) do not verify");
    }
    Ok(())
}

/// Seeds the demo organisation, and registers its webhook to `webhook` when given; answers the
/// text naming its logins (and the webhook's secret).
async fn seed_demo(config: &Config, webhook: Option<&str>) -> anyhow::Result<String> {
    let db = skinledger::connect(config).await?;
    skinledger::migrate(&db).await?;
    let (app, audit) = skinledger::app(config, db.clone())?;
    let seeded = demo::seed(&app).await?;
    let hook = match webhook {
        Some(url) => Some(demo::register_webhook(&app, url).await?),
        None => None,
    };
    drop(app);
    audit.finish().await;
    db.close().await?;
    let mut lines = vec![match seeded {
        demo::Seeded::Created => format!(
            "Seeded the demo organisation `{}`. Logins (password `{}`):",
            demo::ORG,
            demo::PASSWORD
        ),
        demo::Seeded::AlreadyThere => format!(
            "The demo organisation `{}` is seeded. Logins (password `{}`):",
            demo::ORG,
            demo::PASSWORD
        ),
    }];
    for (email, _, role) in demo::LOGINS {
        lines.push(format!("  {email:<24} {role}"));
    }
    if let Some(hook) = hook {
        lines.push(format!(
            "Webhook {} sends every event of `{}` to {}, signed with the secret",
            hook.id,
            demo::ORG,
            hook.url
        ));
        lines.push(format!("  {}", hook.secret.unwrap_or_default()));
    }
    Ok(lines.join("\n"))
}

#[expect(clippy::print_stdout, reason = "the command line's own output")]
fn say(text: &str) {
    println!("{text}");
}

#[expect(
    clippy::print_stderr,
    reason = "the command line's own errors and notices"
)]
fn complain(text: &str) {
    eprintln!("{text}");
}
