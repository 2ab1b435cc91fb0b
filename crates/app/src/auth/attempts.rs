//! Login and client-credential attempts: recorded before the secret is checked, keyed by
//! digests of the account and the address, and decided by the throttle.

use std::net::IpAddr;

use chrono::Utc;
use skinledger_store::tokens;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::throttle::{self, Decision};
use crate::txn::Txn;
use crate::{App, secrets};

/// How long a login waits for attempts begun before it to settle before it answers 503.
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How often it looks.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

pub(super) fn account_key(org: &str, email: &str) -> String {
    secrets::digest(&format!(
        "{}\n{}",
        org.trim().to_lowercase(),
        email.trim().to_lowercase()
    ))
}

/// The throttling key of an API client's id (apart from every staff account's).
pub(super) fn api_client_key(client_id: &str) -> String {
    secrets::digest(&format!("api client\n{}", client_id.trim()))
}

/// The throttling key of a client address: a digest, so that the table of attempts holds no
/// address; empty when the address is not known.
pub(super) fn source_key(source: Option<IpAddr>) -> String {
    source.map_or_else(String::new, |addr| {
        secrets::digest(&format!("source\n{}", canonical(addr)))
    })
}

/// An IPv4 address as itself even when it arrived as IPv4-mapped IPv6.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The outcome of claiming an attempt.
pub(super) enum Claim {
    /// The attempt is recorded; check the credentials.
    Granted(Uuid),
    /// Refused; try again in this many seconds.
    Throttled(u64),
}

/// A recorded attempt as the throttle sees it.
fn attempt_of(row: skinledger_store::entities::login_failure::Model) -> throttle::Attempt {
    throttle::Attempt {
        id: row.id,
        account: row.account_key,
        source: row.source_key,
        at: row.failed_at,
        pending: row.pending,
    }
}

impl App {
    /// Records an attempt on `account` from `source` and decides it ([`throttle::decide`]):
    /// granted, or throttled (its record removed: a refused attempt is not a failure). An
    /// attempt that must wait for attempts begun before it looks again until they settle; still
    /// waiting after [`SETTLE_WAIT`], it answers 503: busy, not throttled.
    pub(super) async fn claim_attempt(
        &self,
        account: &str,
        source: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Claim> {
        let db = self.db();
        let since = now - throttle::WINDOW;
        let settle_by = tokio::time::Instant::now() + SETTLE_WAIT;
        let txn = Txn::begin(db).await?;
        let (mine, before) =
            tokens::record_login_attempt(&txn, account, source, now, since).await?;
        txn.commit().await?;
        let mine = attempt_of(mine);
        let mut recorded: Vec<throttle::Attempt> = before.into_iter().map(attempt_of).collect();
        recorded.push(mine.clone());
        let per_source = self.settings().login_failures_per_source;
        let refused = loop {
            match throttle::decide(&recorded, &mine, per_source, Utc::now()) {
                Decision::Go => return Ok(Claim::Granted(mine.id)),
                Decision::Throttled { retry_after_secs } => {
                    break Ok(Claim::Throttled(retry_after_secs));
                }
                Decision::Wait if tokio::time::Instant::now() >= settle_by => {
                    break Err(Error::Unavailable(
                        "other logins to this account are being checked; retry shortly".into(),
                    ));
                }
                Decision::Wait => {
                    tokio::time::sleep(SETTLE_POLL).await;
                    recorded = tokens::login_attempts(db.write(), account, source, since)
                        .await?
                        .into_iter()
                        .map(attempt_of)
                        .collect();
                }
            }
        };
        let txn = Txn::begin(db).await?;
        tokens::forget_login_attempt(&txn, mine.id).await?;
        txn.commit().await?;
        refused
    }
}
