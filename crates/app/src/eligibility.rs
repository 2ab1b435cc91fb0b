//! Eligibility: the dry run of a treatment, answering every blocker at once.
//!
//! The facts gathered here (policy, latest screening and clearances, last treatment, the
//! practitioner's roles at the clinic) are the same ones treatment creation gathers inside its
//! write transaction, so the dry run and the real write cannot disagree.

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use skinledger_domain::clinical::Endpoint;
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::eligibility::{self, Blocker, EligibilityInput, ScreeningState};
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_domain::role::Role;
use skinledger_store::{clients, clinics, screenings, staff, treatments};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::clinics::timezone_of;
use crate::error::{Error, Result};
use crate::policy;
use crate::screenings::StoredScreening;

/// A planned treatment to check, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRequest {
    /// The client.
    pub client_id: Uuid,
    /// The clinic where the treatment would take place.
    pub clinic_id: Uuid,
    /// The practitioner; the caller when absent.
    #[serde(default)]
    pub practitioner_id: Option<Uuid>,
    /// The planned needle depth.
    pub needle_depth_mm: NeedleDepth,
    /// The planned day; today on the clinic's calendar when absent.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Where the practitioner plans to stop; checked against the policy's endpoints by role.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
}

/// The answer of a dry run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct EligibilityAnswer {
    /// The client.
    pub client_id: Uuid,
    /// The clinic.
    pub clinic_id: Uuid,
    /// The practitioner checked.
    pub practitioner_id: Uuid,
    /// The planned needle depth.
    pub needle_depth_mm: NeedleDepth,
    /// The day checked.
    pub date: NaiveDate,
    /// Whether nothing blocks the treatment.
    pub eligible: bool,
    /// The earliest day the treatment could go ahead, or `null` when time alone cannot lift
    /// the blockers (a clearance, a rescreen or another practitioner is needed).
    pub earliest_eligible_on: Option<NaiveDate>,
    /// Every blocker, each with its `code`: screening first, then interval, then scope.
    /// Absent for callers who may not read clinical content (front desk): they book by
    /// `eligible` and `earliest_eligible_on` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blockers: Option<Vec<Blocker>>,
    /// The screening the check relied on; absent for callers who may not read clinical
    /// content, `null` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening_id: Option<Option<Uuid>>,
    /// The policy version applied; absent for callers who may not read clinical content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<i64>,
}

/// What eligibility is decided from, loaded through one connection or transaction.
pub(crate) struct Facts {
    /// The current policy's version.
    pub policy_version: i32,
    /// The current policy.
    pub policy: ClinicalPolicy,
    /// The client's latest screening on or before the day, with its clearances.
    pub screening: Option<StoredScreening>,
    /// The client's last treatment on or before the day: its day and depth.
    pub last_treatment: Option<(NaiveDate, NeedleDepth)>,
    /// The client's first treatment after the day: its day and depth.
    pub next_treatment: Option<(NaiveDate, NeedleDepth)>,
    /// The practitioner's roles at the clinic (none when inactive).
    pub roles: Vec<Role>,
}

impl Facts {
    /// Loads the facts for a treatment of `client` at `clinic` by `practitioner` on `on`,
    /// leaving treatment `except` out of the interval (when re-checking that treatment itself).
    /// The screening relied on is the latest taken on or before the day: a session dated
    /// before the client's first screening has none.
    pub(crate) async fn gather(
        db: &impl ConnectionTrait,
        org: Uuid,
        client: Uuid,
        clinic: Uuid,
        practitioner: Uuid,
        on: NaiveDate,
        except: Option<Uuid>,
    ) -> Result<Self> {
        let (policy_version, policy) = policy::current(db, org).await?;
        let screening = match screenings::latest_on_or_before(db, org, client, on).await? {
            Some(row) => {
                let clearances = screenings::clearances_of(db, org, &[row.id]).await?;
                Some(StoredScreening::new(row, clearances))
            }
            None => None,
        };
        let last_treatment =
            match treatments::last_on_or_before(db, org, client, on, except).await? {
                Some(row) => Some((row.performed_on, depth_of(row.needle_depth_hundredths)?)),
                None => None,
            };
        let next_treatment = match treatments::first_after(db, org, client, on, except).await? {
            Some(row) => Some((row.performed_on, depth_of(row.needle_depth_hundredths)?)),
            None => None,
        };
        // Read in this transaction, not taken from the caller's cached roles: a role removed
        // a moment ago no longer counts.
        let roles = staff::active_roles(db, org, practitioner)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|(at, _)| *at == Some(clinic))
            .map(|(_, role)| role)
            .collect();
        Ok(Self {
            policy_version,
            policy,
            screening,
            last_treatment,
            next_treatment,
            roles,
        })
    }

    /// Every blocker of a treatment at `depth` on `on`, taken to `endpoint` when known.
    pub(crate) fn check(
        &self,
        on: NaiveDate,
        depth: NeedleDepth,
        endpoint: Option<Endpoint>,
    ) -> eligibility::Eligibility {
        let cleared: Vec<Contraindication> = self
            .screening
            .as_ref()
            .map(StoredScreening::cleared)
            .unwrap_or_default();
        let input = EligibilityInput {
            policy: &self.policy,
            on,
            needle_depth: depth,
            practitioner_roles_at_clinic: &self.roles,
            screening: self.screening.as_ref().map(|s| ScreeningState {
                reasons: s.reasons(),
                cleared: &cleared,
                valid_until: s.row.valid_until,
            }),
            last_treatment: self.last_treatment,
            next_treatment: self.next_treatment,
            endpoint,
        };
        eligibility::check(&input)
    }
}

/// A stored depth in hundredths as a needle depth.
pub(crate) fn depth_of(hundredths: i32) -> Result<NeedleDepth> {
    u16::try_from(hundredths)
        .ok()
        .and_then(|h| NeedleDepth::from_hundredths(h).ok())
        .ok_or_else(|| Error::Internal(format!("stored needle depth {hundredths} unreadable")))
}

impl App {
    /// Checks a planned treatment without recording anything (roles that read clinical
    /// content, at any clinic, so that `not_assigned_to_clinic` can be answered too).
    pub async fn check_eligibility(
        &self,
        actor: &Actor,
        request: EligibilityRequest,
    ) -> Result<EligibilityAnswer> {
        let db = self.db().read();
        let org = actor.org_id;
        clients::get(db, org, request.client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        let clinic = clinics::get(db, org, request.clinic_id)
            .await?
            .ok_or(Error::NotFound("clinic"))?;
        let practitioner = match request.practitioner_id.or(actor.staff_id()) {
            Some(id) => id,
            None => {
                return Err(Error::invalid(
                    "practitioner_id",
                    "is required when the caller is not a staff member",
                ));
            }
        };
        staff::get(db, org, practitioner)
            .await?
            .ok_or(Error::NotFound("staff"))?;
        // Front desk books sessions: it learns whether and from when, never why.
        let clinical = actor.may(Action::ClinicalRead, Scope::Anywhere);
        if !clinical {
            actor.require(Action::ClientRead, Scope::Anywhere)?;
        }
        let on = request.date.unwrap_or_else(|| timezone_of(&clinic).today());
        let facts = Facts::gather(
            db,
            org,
            request.client_id,
            request.clinic_id,
            practitioner,
            on,
            None,
        )
        .await?;
        let result = facts.check(on, request.needle_depth_mm, request.endpoint);
        self.read_audit()
            .record(
                AuditEvent::by(
                    actor,
                    "eligibility.check",
                    "client",
                    Some(request.client_id),
                )
                .client(request.client_id),
            )
            .await;
        Ok(EligibilityAnswer {
            client_id: request.client_id,
            clinic_id: request.clinic_id,
            practitioner_id: practitioner,
            needle_depth_mm: request.needle_depth_mm,
            date: on,
            eligible: result.is_eligible(),
            earliest_eligible_on: result.earliest_eligible_on,
            blockers: clinical.then_some(result.blockers),
            screening_id: clinical.then(|| facts.screening.as_ref().map(|s| s.row.id)),
            policy_version: clinical.then_some(i64::from(facts.policy_version)),
        })
    }
}
