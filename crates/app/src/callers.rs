//! Callers resolved recently: the roles of a staff member or API client, kept for a short while
//! so that most requests learn who is calling without asking the database.
//!
//! An entry is kept for the configured bound (`caller_cache`, 1 s by default) from the moment
//! its statement was sent, so a deactivation, a change of roles, a new password or a revoked
//! API client is honoured by every replica within that bound. The process that makes such a
//! change forgets the caller at once, after its transaction commits. A resolution that was under
//! way while a caller was forgotten is not kept, since it may have read the state from before.
//! The cache holds at most [`CAPACITY`] callers.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use skinledger_domain::role::Grant;
use uuid::Uuid;

use crate::actor::Principal;

/// The most callers kept at once (a few hundred bytes each).
pub(crate) const CAPACITY: usize = 10_000;

/// Callers resolved recently, by organisation and principal.
#[derive(Debug)]
pub(crate) struct Callers {
    bound: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Raised each time a caller is forgotten.
    generation: u64,
    entries: HashMap<(Uuid, Principal), Entry>,
}

#[derive(Debug)]
struct Entry {
    /// The session version the caller was resolved at (0 for API clients).
    session: i32,
    grants: Vec<Grant>,
    /// When the statement that resolved it was sent.
    resolved: Instant,
}

/// Taken before a caller is resolved from the database, and handed back with the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    generation: u64,
    at: Instant,
}

impl Callers {
    /// Keeps callers for `bound`; a zero bound keeps none.
    pub(crate) fn new(bound: Duration) -> Self {
        Self {
            bound,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The grants of a caller resolved less than the bound ago at this session version.
    pub(crate) fn get(&self, org: Uuid, principal: Principal, session: i32) -> Option<Vec<Grant>> {
        if self.bound.is_zero() {
            return None;
        }
        let state = self.state();
        let entry = state.entries.get(&(org, principal))?;
        (entry.session == session && entry.resolved.elapsed() < self.bound)
            .then(|| entry.grants.clone())
    }

    /// Taken before resolving a caller from the database.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket {
            generation: self.state().generation,
            at: Instant::now(),
        }
    }

    /// Keeps what was resolved under `ticket`, unless a caller was forgotten meanwhile.
    pub(crate) fn put(
        &self,
        ticket: Ticket,
        org: Uuid,
        principal: Principal,
        session: i32,
        grants: Vec<Grant>,
    ) {
        if self.bound.is_zero() {
            return;
        }
        let mut state = self.state();
        if state.generation != ticket.generation {
            return;
        }
        let bound = self.bound;
        crate::bounded::make_room(&mut state.entries, CAPACITY, &(org, principal), |e| {
            e.resolved.elapsed() < bound
        });
        state.entries.insert(
            (org, principal),
            Entry {
                session,
                grants,
                resolved: ticket.at,
            },
        );
    }

    /// Forgets a caller whose status, roles or password changed in this process.
    pub(crate) fn forget(&self, org: Uuid, principal: Principal) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.remove(&(org, principal));
    }

    /// How many callers are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skinledger_domain::role::Role;

    fn nurse() -> Vec<Grant> {
        vec![Grant {
            role: Role::Nurse,
            clinic_id: Some(Uuid::now_v7()),
        }]
    }

    #[test]
    fn a_caller_is_kept_at_its_session_version_until_forgotten() {
        let callers = Callers::new(Duration::from_secs(60));
        let (org, who) = (Uuid::now_v7(), Principal::Staff(Uuid::now_v7()));
        assert_eq!(callers.get(org, who, 0), None);
        callers.put(callers.ticket(), org, who, 0, nurse());
        assert!(callers.get(org, who, 0).is_some());
        // A token of another session is resolved again.
        assert_eq!(callers.get(org, who, 1), None);
        assert_eq!(callers.get(Uuid::now_v7(), who, 0), None);
        callers.forget(org, who);
        assert_eq!(callers.get(org, who, 0), None);
    }

    #[test]
    fn a_resolution_under_way_while_a_caller_is_forgotten_is_not_kept() {
        let callers = Callers::new(Duration::from_secs(60));
        let (org, who) = (Uuid::now_v7(), Principal::Staff(Uuid::now_v7()));
        let ticket = callers.ticket();
        callers.forget(org, who);
        callers.put(ticket, org, who, 0, nurse());
        assert_eq!(callers.get(org, who, 0), None);
    }

    #[test]
    fn an_entry_older_than_the_bound_is_not_used() {
        let callers = Callers::new(Duration::from_secs(60));
        let (org, who) = (Uuid::now_v7(), Principal::ApiClient(Uuid::now_v7()));
        let Some(long_ago) = Instant::now().checked_sub(Duration::from_secs(61)) else {
            return;
        };
        let ticket = Ticket {
            at: long_ago,
            ..callers.ticket()
        };
        callers.put(ticket, org, who, 0, nurse());
        assert_eq!(callers.get(org, who, 0), None);
    }

    #[test]
    fn a_zero_bound_keeps_nothing() {
        let callers = Callers::new(Duration::ZERO);
        let (org, who) = (Uuid::now_v7(), Principal::Staff(Uuid::now_v7()));
        callers.put(callers.ticket(), org, who, 0, nurse());
        assert_eq!(callers.get(org, who, 0), None);
        assert_eq!(callers.len(), 0);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let callers = Callers::new(Duration::from_secs(60));
        let org = Uuid::now_v7();
        for _ in 0..(2 * CAPACITY + 7) {
            callers.put(
                callers.ticket(),
                org,
                Principal::Staff(Uuid::now_v7()),
                0,
                nurse(),
            );
            assert!(callers.len() <= CAPACITY);
        }
    }
}
