//! Courses of treatment.

use skinledger_app::Page;
use skinledger_app::courses::{Course, NewCourse};
use skinledger_domain::ValidationErrors;
use skinledger_domain::course::{CourseProgress, DueWindow};

use crate::grpc::{date, parse_date, pb, time};

impl From<Course> for pb::Course {
    fn from(c: Course) -> Self {
        let Course {
            id,
            client_id,
            template,
            name,
            sessions,
            min_interval_days,
            max_interval_days,
            started_on,
            created_by,
            created_at,
            progress,
        } = c;
        pb::Course {
            id: id.to_string(),
            client_id: client_id.to_string(),
            template,
            name,
            sessions,
            min_interval_days,
            max_interval_days,
            started_on: date(started_on),
            created_by: created_by.to_string(),
            created_at: time(created_at),
            progress: Some(progress.into()),
        }
    }
}

impl From<CourseProgress> for pb::CourseProgress {
    fn from(p: CourseProgress) -> Self {
        let CourseProgress {
            sessions_done,
            sessions_remaining,
            next_due,
            completed,
        } = p;
        pb::CourseProgress {
            sessions_done,
            sessions_remaining,
            next_due: next_due.map(Into::into),
            completed,
        }
    }
}

impl From<DueWindow> for pb::DueWindow {
    fn from(w: DueWindow) -> Self {
        let DueWindow { from, to } = w;
        pb::DueWindow {
            from: date(from),
            to: date(to),
        }
    }
}

impl From<Page<Course>> for pb::ListCoursesResponse {
    fn from(page: Page<Course>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListCoursesResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateCourseRequest> for NewCourse {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateCourseRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateCourseRequest {
            // The client put on the course: the handler reads it first.
            client_id: _,
            template,
            name,
            sessions,
            min_interval_days,
            max_interval_days,
            started_on,
        } = r;
        let mut errors = ValidationErrors::new();
        let started_on = started_on.and_then(|d| parse_date(&mut errors, "started_on", &d));
        errors.into_result()?;
        Ok(NewCourse {
            template,
            name,
            sessions,
            min_interval_days,
            max_interval_days,
            started_on,
        })
    }
}
