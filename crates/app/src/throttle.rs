//! How credential guessing is slowed down, decided from the attempts on record.
//!
//! Every login or client-credentials attempt is recorded before its secret is checked (as
//! *pending*) and stays, as a failure, only when the check fails. Three scopes count them over a
//! [`WINDOW`]:
//!
//! | scope | free failures | then |
//! | --- | --- | --- |
//! | one account from one address | [`PER_ACCOUNT_AND_SOURCE`] | progressive delay |
//! | one address, any account (password spraying) | `login_failures_per_source` (20) | progressive delay |
//! | one account, any address (a botnet on one account) | [`PER_ACCOUNT`] | progressive delay |
//!
//! Past its free failures a scope admits one attempt at a time, each [`FIRST_DELAY`] doubled
//! per further failure after the last one (15 s, 30 s, 1 min, ... at most the window). So an
//! attacker guessing a physician's password from one address is slowed to a crawl while the
//! physician, from the clinic's address, still logs in: no hard lock of a named account.
//! Attempts under way count as well, in the order they began, so parallel guesses cannot pass
//! together what one at a time could not.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// How long failures count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures of one account from one address before attempts are slowed.
pub const PER_ACCOUNT_AND_SOURCE: u64 = 5;
/// Failures of one account from every address together before attempts are slowed.
pub const PER_ACCOUNT: u64 = 50;
/// The wait after the first failure over a scope's limit; it doubles with each further one.
pub const FIRST_DELAY: Duration = Duration::seconds(15);

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Its id: attempts under way are ordered by it (time-ordered UUIDv7).
    pub id: Uuid,
    /// The digest of the account tried (organisation and email, or API client id).
    pub account: String,
    /// The digest of the address it came from; empty when unknown.
    pub source: String,
    /// When it began.
    pub at: DateTime<Utc>,
    /// Still being checked (not a failure yet).
    pub pending: bool,
}

/// What an attempt may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Check the credentials.
    Go,
    /// Attempts begun earlier are being checked; their outcome decides. Look again shortly.
    Wait,
    /// Refused: try again in this many seconds.
    Throttled {
        /// Seconds until an attempt may be checked again (at least 1).
        retry_after_secs: u64,
    },
}

/// The wait after `over` failures beyond a scope's limit: [`FIRST_DELAY`] doubled per further
/// failure, at most [`WINDOW`].
pub fn delay(over: u64) -> Duration {
    let doublings = u32::try_from(over).unwrap_or(u32::MAX).min(16);
    let delay = FIRST_DELAY * 2_i32.pow(doublings);
    delay.min(WINDOW)
}

/// Decides the attempt `mine` (which is among `attempts`, every attempt of its account or its
/// address since the window began) at `now`.
pub fn decide(
    attempts: &[Attempt],
    mine: &Attempt,
    per_source: u64,
    now: DateTime<Utc>,
) -> Decision {
    let mut scopes = vec![
        (Scope::AccountAndSource, PER_ACCOUNT_AND_SOURCE),
        (Scope::Account, PER_ACCOUNT),
    ];
    if !mine.source.is_empty() {
        scopes.push((Scope::Source, per_source));
    }
    let mut decision = Decision::Go;
    for (scope, limit) in scopes {
        let counted = attempts.iter().filter(|a| scope.holds(a, mine));
        match in_scope(counted, mine, limit, now) {
            Decision::Go => {}
            Decision::Wait => {
                if decision == Decision::Go {
                    decision = Decision::Wait;
                }
            }
            Decision::Throttled { retry_after_secs } => {
                let longest = match decision {
                    Decision::Throttled {
                        retry_after_secs: other,
                    } => other.max(retry_after_secs),
                    _ => retry_after_secs,
                };
                decision = Decision::Throttled {
                    retry_after_secs: longest,
                };
            }
        }
    }
    decision
}

/// What attempts are counted together.
#[derive(Debug, Clone, Copy)]
enum Scope {
    AccountAndSource,
    Account,
    Source,
}

impl Scope {
    fn holds(self, attempt: &Attempt, mine: &Attempt) -> bool {
        match self {
            Scope::AccountAndSource => {
                attempt.account == mine.account && attempt.source == mine.source
            }
            Scope::Account => attempt.account == mine.account,
            Scope::Source => attempt.source == mine.source,
        }
    }
}

/// The decision of one scope.
fn in_scope<'a>(
    attempts: impl Iterator<Item = &'a Attempt>,
    mine: &Attempt,
    limit: u64,
    now: DateTime<Utc>,
) -> Decision {
    let (mut failures, mut ahead_under_way) = (0u64, 0u64);
    let mut last_failure: Option<DateTime<Utc>> = None;
    for attempt in attempts {
        if !attempt.pending {
            failures += 1;
            last_failure = last_failure.max(Some(attempt.at));
        } else if attempt.id < mine.id {
            ahead_under_way += 1;
        }
    }
    if failures + ahead_under_way < limit {
        return Decision::Go;
    }
    let (true, Some(last)) = (failures >= limit, last_failure) else {
        // Over the limit only with attempts under way: one of them may succeed and clear the
        // failures.
        return Decision::Wait;
    };
    let until = last + delay(failures - limit);
    if now < until {
        let left = (until - now).num_milliseconds();
        let secs = u64::try_from((left + 999) / 1000).unwrap_or(1).max(1);
        return Decision::Throttled {
            retry_after_secs: secs,
        };
    }
    if ahead_under_way == 0 {
        Decision::Go
    } else {
        Decision::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(account: &str, source: &str, secs_ago: i64, pending: bool) -> Attempt {
        Attempt {
            id: Uuid::now_v7(),
            account: account.into(),
            source: source.into(),
            at: Utc::now() - Duration::seconds(secs_ago),
            pending,
        }
    }

    fn failures(n: u64, account: &str, source: &str, secs_ago: i64) -> Vec<Attempt> {
        (0..n)
            .map(|_| attempt(account, source, secs_ago, false))
            .collect()
    }

    fn decide_new(mut rows: Vec<Attempt>, account: &str, source: &str) -> Decision {
        let mine = attempt(account, source, 0, true);
        rows.push(mine.clone());
        decide(&rows, &mine, 20, Utc::now())
    }

    #[test]
    fn the_delay_doubles_from_fifteen_seconds_up_to_the_window() {
        assert_eq!(delay(0), Duration::seconds(15));
        assert_eq!(delay(1), Duration::seconds(30));
        assert_eq!(delay(3), Duration::minutes(2));
        assert_eq!(delay(6), WINDOW);
        assert_eq!(delay(u64::MAX), WINDOW);
    }

    #[test]
    fn five_failures_from_one_address_slow_that_address_only() {
        let rows = failures(5, "physician", "attacker", 1);
        assert!(matches!(
            decide_new(rows.clone(), "physician", "attacker"),
            Decision::Throttled {
                retry_after_secs: 14 | 15
            }
        ));
        assert_eq!(decide_new(rows, "physician", "clinic"), Decision::Go);
        assert_eq!(
            decide_new(
                failures(4, "physician", "attacker", 1),
                "physician",
                "attacker"
            ),
            Decision::Go
        );
    }

    #[test]
    fn after_the_delay_one_more_attempt_is_checked() {
        let rows = failures(5, "physician", "attacker", 16);
        assert_eq!(
            decide_new(rows.clone(), "physician", "attacker"),
            Decision::Go
        );
        // A sixth failure doubles the wait.
        let mut more = rows;
        more.push(attempt("physician", "attacker", 16, false));
        assert!(matches!(
            decide_new(more, "physician", "attacker"),
            Decision::Throttled {
                retry_after_secs: 14 | 15
            }
        ));
    }

    #[test]
    fn spraying_many_accounts_from_one_address_is_slowed_after_its_limit() {
        let rows: Vec<Attempt> = (0..20)
            .map(|i| attempt(&format!("account {i}"), "sprayer", 1, false))
            .collect();
        assert!(matches!(
            decide_new(rows.clone(), "account 21", "sprayer"),
            Decision::Throttled { .. }
        ));
        assert_eq!(decide_new(rows, "account 21", "owner"), Decision::Go);
    }

    #[test]
    fn an_address_that_is_unknown_counts_per_account_only() {
        let rows: Vec<Attempt> = (0..30)
            .map(|i| attempt(&format!("account {i}"), "", 1, false))
            .collect();
        assert_eq!(decide_new(rows, "account 31", ""), Decision::Go);
    }

    #[test]
    fn many_addresses_on_one_account_are_slowed_together_after_fifty() {
        let rows: Vec<Attempt> = (0..50)
            .map(|i| attempt("physician", &format!("bot {i}"), 1, false))
            .collect();
        assert!(matches!(
            decide_new(rows, "physician", "bot 51"),
            Decision::Throttled { .. }
        ));
    }

    #[test]
    fn attempts_under_way_count_in_the_order_they_began() {
        let mut rows = failures(3, "physician", "a", 1);
        let first = attempt("physician", "a", 0, true);
        let second = attempt("physician", "a", 0, true);
        let third = attempt("physician", "a", 0, true);
        rows.extend([first.clone(), second.clone(), third.clone()]);
        let now = Utc::now();
        assert_eq!(decide(&rows, &first, 20, now), Decision::Go);
        assert_eq!(decide(&rows, &second, 20, now), Decision::Go);
        assert_eq!(
            decide(&rows, &third, 20, now),
            Decision::Wait,
            "the fifth and sixth may be the owner's right password"
        );
    }

    #[test]
    fn old_failures_past_the_delay_let_the_first_waiting_attempt_through() {
        let mut rows = failures(5, "physician", "a", 60);
        let first = attempt("physician", "a", 0, true);
        let second = attempt("physician", "a", 0, true);
        rows.extend([first.clone(), second.clone()]);
        let now = Utc::now();
        assert_eq!(decide(&rows, &first, 20, now), Decision::Go);
        assert_eq!(decide(&rows, &second, 20, now), Decision::Wait);
    }
}
