//! Courses: put a client on a planned series of sessions, and see how far they are.
//!
//! Treatments count towards a course when they name it (`course_id`). Reading a course needs
//! only `client_read`, so that front desk can book the next session in its due window; putting
//! a client on one needs `course_manage`.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::course::{self, CoursePlan, CourseProgress};
use skinledger_domain::names::Name;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::course as course_row;
use skinledger_store::{clients, courses, treatments};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::policy;

/// A client's course as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Course {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The policy template it was made from, if any.
    pub template: Option<String>,
    /// Its name.
    pub name: String,
    /// Sessions planned.
    pub sessions: u32,
    /// Fewest days between two sessions.
    pub min_interval_days: u32,
    /// Most days between two sessions before the next is overdue.
    pub max_interval_days: u32,
    /// The day the course began.
    pub started_on: NaiveDate,
    /// Who put the client on it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Sessions done and remaining, and when the next one is due.
    pub progress: CourseProgress,
}

/// A course, as sent: either a policy `template` code, or a custom plan with `name`,
/// `sessions`, `min_interval_days` and `max_interval_days`. A template's name may be replaced.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    /// A course template code of the policy (`rejuvenation`, `acne_scarring`, `maintenance`).
    #[serde(default)]
    pub template: Option<String>,
    /// The course's name; required for a custom course.
    #[serde(default)]
    pub name: Option<String>,
    /// Sessions planned (custom course).
    #[serde(default)]
    pub sessions: Option<u32>,
    /// Fewest days between sessions (custom course).
    #[serde(default)]
    pub min_interval_days: Option<u32>,
    /// Most days between sessions (custom course).
    #[serde(default)]
    pub max_interval_days: Option<u32>,
    /// The day the course begins; today (UTC) when absent.
    #[serde(default)]
    pub started_on: Option<NaiveDate>,
}

fn to_u32(value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Internal(format!("stored count {value} is negative")))
}

fn to_i32(value: u32) -> i32 {
    // Plans are validated to at most 365 days and 24 sessions.
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The answers for `rows`, with progress from the treatments that count towards each.
async fn views(
    db: &impl ConnectionTrait,
    org: Uuid,
    rows: Vec<course_row::Model>,
) -> Result<Vec<Course>> {
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let sessions = treatments::course_sessions(db, org, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let plan = CoursePlan::new(
                to_u32(row.sessions)?,
                to_u32(row.min_interval_days)?,
                to_u32(row.max_interval_days)?,
            )
            .map_err(|e| Error::Internal(format!("stored course unreadable: {e}")))?;
            let dates: Vec<NaiveDate> = sessions
                .iter()
                .filter(|(course, _)| *course == row.id)
                .map(|(_, on)| *on)
                .collect();
            Ok(Course {
                id: row.id,
                client_id: row.client_id,
                template: row.template,
                name: row.name,
                sessions: plan.sessions(),
                min_interval_days: plan.min_interval_days(),
                max_interval_days: plan.max_interval_days(),
                started_on: row.started_on,
                created_by: row.created_by,
                created_at: row.created_at,
                progress: course::progress(&plan, row.started_on, &dates),
            })
        })
        .collect()
}

impl App {
    /// Puts a client on a course, from a policy template or a custom plan.
    pub async fn create_course(
        &self,
        actor: &Actor,
        client_id: Uuid,
        new: NewCourse,
        key: Option<&IdempotencyKey>,
    ) -> Result<Course> {
        let subject = Subject::new("course", None).client(client_id);
        self.audited(actor, "course.create", subject, async move {
            let db = self.db().read();
            clients::get(db, actor.org_id, client_id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            actor.require(Action::CourseManage, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let name = new
                .name
                .as_deref()
                .and_then(|n| errors.check("name", Name::parse(n)))
                .map(|n| n.to_string());
            let custom = new.sessions.is_some()
                || new.min_interval_days.is_some()
                || new.max_interval_days.is_some();
            let (_, policy) = policy::current(db, actor.org_id).await?;
            let plan = match (&new.template, custom) {
                (Some(_), true) => {
                    errors.add(
                        "template",
                        "give a template or a custom plan (sessions and intervals), not both",
                    );
                    None
                }
                (Some(code), false) => match policy.course_template(code) {
                    Some(template) => match template.plan() {
                        Ok(plan) => Some((plan, name.clone().unwrap_or(template.name.clone()))),
                        Err(e) => return Err(Error::Internal(format!("policy template: {e}"))),
                    },
                    None => {
                        errors.add("template", format!("`{code}` is not a course template"));
                        None
                    }
                },
                (None, _) => {
                    if new.name.is_none() {
                        errors.add("name", "is required for a custom course");
                    }
                    let mut missing = |field: &str, value: Option<u32>| {
                        if value.is_none() {
                            errors.add(field, "is required for a custom course");
                        }
                        value.unwrap_or(0)
                    };
                    let sessions = missing("sessions", new.sessions);
                    let min = missing("min_interval_days", new.min_interval_days);
                    let max = missing("max_interval_days", new.max_interval_days);
                    if new.sessions.is_some()
                        && new.min_interval_days.is_some()
                        && new.max_interval_days.is_some()
                    {
                        match CoursePlan::new(sessions, min, max) {
                            Ok(plan) => name.clone().map(|n| (plan, n)),
                            Err(plan_errors) => {
                                errors.0.extend(plan_errors.0);
                                None
                            }
                        }
                    } else {
                        None
                    }
                }
            };
            errors.into_result()?;
            let (plan, name) =
                plan.ok_or_else(|| Error::Internal("validated plan missing".into()))?;
            let started_on = new.started_on.unwrap_or_else(|| Utc::now().date_naive());
            let template = new.template.clone();
            let org = actor.org_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "course.create",
                &(client_id, &new),
                |txn| async move {
                    let row = courses::insert(
                        &txn,
                        course_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(org),
                            client_id: Set(client_id),
                            template: Set(template),
                            name: Set(name),
                            sessions: Set(to_i32(plan.sessions())),
                            min_interval_days: Set(to_i32(plan.min_interval_days())),
                            max_interval_days: Set(to_i32(plan.max_interval_days())),
                            started_on: Set(started_on),
                            created_by: Set(actor.principal.id()),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "course.create", "course", Some(row.id))
                            .client(client_id),
                    );
                    let answer = views(&txn, org, vec![row])
                        .await?
                        .pop()
                        .ok_or_else(|| Error::Internal("course view missing".into()))?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// One course with its progress (any role of the organisation).
    pub async fn get_course(&self, actor: &Actor, id: Uuid) -> Result<Course> {
        let db = self.db().read();
        let row = courses::get(db, actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("course"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        self.read_audit()
            .record(AuditEvent::by(actor, "course.read", "course", Some(id)).client(row.client_id))
            .await;
        views(db, actor.org_id, vec![row])
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("course view missing".into()))
    }

    /// A client's courses, oldest first, with their progress (any role of the organisation).
    pub async fn list_client_courses(
        &self,
        actor: &Actor,
        client_id: Uuid,
        page: &PageParams,
    ) -> Result<Page<Course>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let rows = courses::list_for_client(db, actor.org_id, client_id, page).await?;
        self.read_audit()
            .record(
                AuditEvent::by(actor, "course.list", "client", Some(client_id)).client(client_id),
            )
            .await;
        let next_after = rows.next_after;
        let items = views(db, actor.org_id, rows.items).await?;
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |c| c,
        ))
    }
}
