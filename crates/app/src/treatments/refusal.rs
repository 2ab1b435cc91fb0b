//! Why a treatment is refused, in words a practitioner can act on, and with which code.

use skinledger_domain::clinical::TreatmentStatus;
use skinledger_domain::eligibility::{Blocker, Eligibility};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::treatment as treatment_row;

use crate::ErrorCode;
use crate::actor::Actor;
use crate::error::{Error, Result};

/// What a client may be told about one blocker.
fn describe(blocker: &Blocker) -> String {
    match blocker {
        Blocker::NoValidScreening => {
            "the client has no valid screening for that day; screen them first".into()
        }
        Blocker::Contraindicated { factor } => format!("`{factor}` is a contraindication"),
        Blocker::RequiresClearance { factor } => {
            format!("`{factor}` requires a physician's clearance")
        }
        Blocker::Deferred {
            factor,
            until: Some(until),
        } => format!("`{factor}` defers treatment until {until}"),
        Blocker::Deferred {
            factor,
            until: None,
        } => format!("`{factor}` defers treatment until the client is rescreened"),
        Blocker::TooSoon { next_eligible_on } => format!(
            "too soon after the client's last treatment; next eligible on {next_eligible_on}"
        ),
        Blocker::OutsideScopeOfPractice {
            endpoint: Some(endpoint),
            ..
        } => format!("your roles at this clinic do not take a session to `{endpoint}`"),
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(max),
            endpoint: None,
        } => format!("your roles at this clinic allow needles up to {max}"),
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: None,
            endpoint: None,
        } => "your roles at this clinic do not perform treatments".into(),
        Blocker::NotAssignedToClinic => "the practitioner holds no role at this clinic".into(),
    }
}

/// Turns blockers into the refusal: 403 `outside_scope_of_practice` whenever the session is
/// beyond the practitioner's scope, and 403 `not_assigned_to_clinic` when they hold no role at
/// the clinic (both are about who treats, not about the client); otherwise 409 with the first
/// blocker's code and every blocker in `extra`.
pub(super) fn refuse(result: &Eligibility) -> Result<()> {
    let who_treats = [
        |b: &Blocker| matches!(b, Blocker::OutsideScopeOfPractice { .. }),
        |b: &Blocker| matches!(b, Blocker::NotAssignedToClinic),
    ];
    if let Some(scope) = who_treats
        .iter()
        .find_map(|is| result.blockers.iter().find(|b| is(b)))
    {
        return Err(Error::Forbidden {
            code: scope.code(),
            detail: describe(scope),
        });
    }
    match result.blockers.first() {
        None => Ok(()),
        Some(first) => Err(Error::Conflict {
            code: first.code(),
            detail: describe(first),
            extra: Some(serde_json::json!({
                "blockers": result.blockers,
                "earliest_eligible_on": result.earliest_eligible_on,
            })),
        }),
    }
}

/// Only the treatment's practitioner, still recording at its clinic, edits or signs it.
pub(super) fn require_practitioner(actor: &Actor, row: &treatment_row::Model) -> Result<()> {
    if actor.staff_id() == Some(row.practitioner_id)
        && actor.may(Action::TreatmentRecord, Scope::Clinic(row.clinic_id))
    {
        Ok(())
    } else {
        Err(Error::Forbidden {
            code: ErrorCode::Forbidden,
            detail: "only the treatment's practitioner may change or sign it".into(),
        })
    }
}

/// A signed record is immutable: corrections are addenda.
pub(super) fn record_signed() -> Error {
    Error::conflict(
        ErrorCode::RecordSigned,
        "the treatment is signed; add an addendum instead",
    )
}

/// Only a draft is edited or signed: a signed record answers 409 `record_signed`.
pub(super) fn require_draft(status: TreatmentStatus) -> Result<()> {
    if status.is_editable() {
        Ok(())
    } else {
        Err(record_signed())
    }
}
