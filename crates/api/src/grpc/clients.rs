//! `skinledger.v1.ClientService`: clients, screenings, courses.

use skinledger_app::clients::{Client, ClientChanges, NewClient};
use skinledger_app::courses::{Course, NewCourse};
use skinledger_app::screenings::{Clearance, NewClearance, NewScreening, Screening};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use skinledger_domain::screening::{Reason, ScreeningAnswers};
use tonic::{Request, Response, Status};

use super::pb::client_service_server::ClientService;
use super::pb::*;
use super::{
    Write, caller, date, field_id, idempotency_key, page, parse_date, parse_time, pb, resource_id,
    status, time,
};

/// The client service.
#[derive(Debug, Clone)]
pub struct ClientGrpc(pub App);

fn client(c: Client) -> pb::Client {
    pb::Client {
        id: c.id.to_string(),
        first_name: c.first_name,
        last_name: c.last_name,
        date_of_birth: date(c.date_of_birth),
        phone: c.phone,
        email: c.email,
        fitzpatrick_type: c.fitzpatrick_type.map(|t| t.as_str().to_owned()),
        consent_version: c.consent_version,
        consent_signed_at: c.consent_signed_at.map(time),
        photo_consent: c.photo_consent,
        notes: c.notes,
        version: c.version,
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
    }
}

fn answers_out(a: ScreeningAnswers) -> pb::ScreeningAnswers {
    pb::ScreeningAnswers {
        pregnant: Some(a.pregnant),
        active_acne: Some(a.active_acne),
        inflamed_or_infected_skin: Some(a.inflamed_or_infected_skin),
        active_herpes: Some(a.active_herpes),
        herpes_history: Some(a.herpes_history),
        eczema_or_rosacea: Some(a.eczema_or_rosacea),
        anticoagulants: Some(a.anticoagulants),
        autoimmune_disease: Some(a.autoimmune_disease),
        frequent_alcohol_use: Some(a.frequent_alcohol_use),
        very_sensitive_skin: Some(a.very_sensitive_skin),
        last_waxing_or_resurfacing_on: a.last_waxing_or_resurfacing_on.map(date),
        last_anti_inflammatory_dose_on: a.last_anti_inflammatory_dose_on.map(date),
        medications: a.medications,
    }
}

/// The questionnaire as sent: every yes/no answer is required, as in REST.
fn answers_in(
    errors: &mut ValidationErrors,
    answers: Option<pb::ScreeningAnswers>,
) -> ScreeningAnswers {
    let Some(a) = answers else {
        errors.add("answers", "is required");
        return ScreeningAnswers::default();
    };
    let mut yes = |name: &str, value: Option<bool>| {
        value.unwrap_or_else(|| {
            errors.add(format!("answers.{name}"), "is required");
            false
        })
    };
    let mut out = ScreeningAnswers {
        pregnant: yes("pregnant", a.pregnant),
        active_acne: yes("active_acne", a.active_acne),
        inflamed_or_infected_skin: yes("inflamed_or_infected_skin", a.inflamed_or_infected_skin),
        active_herpes: yes("active_herpes", a.active_herpes),
        herpes_history: yes("herpes_history", a.herpes_history),
        eczema_or_rosacea: yes("eczema_or_rosacea", a.eczema_or_rosacea),
        anticoagulants: yes("anticoagulants", a.anticoagulants),
        autoimmune_disease: yes("autoimmune_disease", a.autoimmune_disease),
        frequent_alcohol_use: yes("frequent_alcohol_use", a.frequent_alcohol_use),
        very_sensitive_skin: yes("very_sensitive_skin", a.very_sensitive_skin),
        last_waxing_or_resurfacing_on: None,
        last_anti_inflammatory_dose_on: None,
        medications: a.medications,
    };
    out.last_waxing_or_resurfacing_on = a
        .last_waxing_or_resurfacing_on
        .and_then(|d| parse_date(errors, "answers.last_waxing_or_resurfacing_on", &d));
    out.last_anti_inflammatory_dose_on = a
        .last_anti_inflammatory_dose_on
        .and_then(|d| parse_date(errors, "answers.last_anti_inflammatory_dose_on", &d));
    out
}

fn reason(r: Reason) -> ScreeningReason {
    ScreeningReason {
        factor: r.factor.as_str().to_owned(),
        outcome: r.outcome.as_str().to_owned(),
        until: r.until.map(date),
    }
}

fn clearance(c: Clearance) -> pb::Clearance {
    pb::Clearance {
        factor: c.factor.as_str().to_owned(),
        reason: c.reason,
        cleared_by: c.cleared_by.to_string(),
        cleared_at: time(c.cleared_at),
    }
}

fn screening(s: Screening) -> pb::Screening {
    pb::Screening {
        id: s.id.to_string(),
        client_id: s.client_id.to_string(),
        clinic_id: s.clinic_id.map(|c| c.to_string()),
        screened_by: s.screened_by.to_string(),
        screened_on: date(s.screened_on),
        answers: Some(answers_out(s.answers)),
        outcome: s.outcome.as_str().to_owned(),
        outcome_at_screening: s.outcome_at_screening.as_str().to_owned(),
        reasons: s.reasons.into_iter().map(reason).collect(),
        clearances: s.clearances.into_iter().map(clearance).collect(),
        valid_until: date(s.valid_until),
        policy_version: s.policy_version,
        created_at: time(s.created_at),
    }
}

fn course(c: Course) -> pb::Course {
    let p = c.progress;
    pb::Course {
        id: c.id.to_string(),
        client_id: c.client_id.to_string(),
        template: c.template,
        name: c.name,
        sessions: c.sessions,
        min_interval_days: c.min_interval_days,
        max_interval_days: c.max_interval_days,
        started_on: date(c.started_on),
        created_by: c.created_by.to_string(),
        created_at: time(c.created_at),
        progress: Some(CourseProgress {
            sessions_done: p.sessions_done,
            sessions_remaining: p.sessions_remaining,
            next_due: p.next_due.map(|w| DueWindow {
                from: date(w.from),
                to: date(w.to),
            }),
            completed: p.completed,
        }),
    }
}

/// A validated-fields-missing guard: unreachable once `invalid` passed, but never a panic.
fn missing() -> Status {
    status(Error::Internal("validated request fields missing".into()))
}

#[tonic::async_trait]
impl ClientService for ClientGrpc {
    async fn create_client(
        &self,
        request: Request<CreateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let date_of_birth = parse_date(&mut errors, "date_of_birth", &r.date_of_birth);
        let fitzpatrick_type = r
            .fitzpatrick_type
            .and_then(|t| errors.check("fitzpatrick_type", t.parse()));
        let consent_signed_at = r
            .consent_signed_at
            .and_then(|t| parse_time(&mut errors, "consent_signed_at", &t));
        Write::new(&self.0, &actor, "ClientService/CreateClient").check(errors)?;
        let new = NewClient {
            first_name: r.first_name,
            last_name: r.last_name,
            date_of_birth: date_of_birth.ok_or_else(missing)?,
            phone: r.phone,
            email: r.email,
            fitzpatrick_type,
            consent_version: r.consent_version,
            consent_signed_at,
            photo_consent: r.photo_consent,
            notes: r.notes,
        };
        let created = self
            .0
            .create_client(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(client(created)))
    }

    async fn get_client(
        &self,
        request: Request<GetClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(client(
            self.0.get_client(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_clients(
        &self,
        request: Request<ListClientsRequest>,
    ) -> Result<Response<ListClientsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let answer = self
            .0
            .list_clients(&actor, r.q.as_deref(), &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListClientsResponse {
            items: answer.items.into_iter().map(client).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn update_client(
        &self,
        request: Request<UpdateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let mut errors = ValidationErrors::new();
        let date_of_birth = r
            .date_of_birth
            .and_then(|d| parse_date(&mut errors, "date_of_birth", &d));
        let fitzpatrick_type = r
            .fitzpatrick_type
            .and_then(|t| errors.check("fitzpatrick_type", t.parse()));
        let consent_signed_at = r
            .consent_signed_at
            .and_then(|t| parse_time(&mut errors, "consent_signed_at", &t));
        Write::new(&self.0, &actor, "ClientService/UpdateClient").check(errors)?;
        let changes = ClientChanges {
            first_name: r.first_name,
            last_name: r.last_name,
            date_of_birth,
            phone: r.phone,
            email: r.email,
            fitzpatrick_type,
            consent_version: r.consent_version,
            consent_signed_at,
            photo_consent: r.photo_consent,
            notes: r.notes,
        };
        Ok(Response::new(client(
            self.0
                .update_client(&actor, id, changes, r.if_match)
                .await
                .map_err(status)?,
        )))
    }

    async fn record_screening(
        &self,
        request: Request<RecordScreeningRequest>,
    ) -> Result<Response<pb::Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let mut errors = ValidationErrors::new();
        let clinic_id = r
            .clinic_id
            .and_then(|c| field_id(&mut errors, "clinic_id", &c));
        let screened_on = r
            .screened_on
            .and_then(|d| parse_date(&mut errors, "screened_on", &d));
        let answers = answers_in(&mut errors, r.answers);
        Write::new(&self.0, &actor, "ClientService/RecordScreening").check(errors)?;
        let new = NewScreening {
            clinic_id,
            screened_on,
            answers,
        };
        let recorded = self
            .0
            .record_screening(&actor, client_id, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(screening(recorded)))
    }

    async fn list_screenings(
        &self,
        request: Request<ListScreeningsRequest>,
    ) -> Result<Response<ListScreeningsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let answer = self
            .0
            .list_client_screenings(&actor, client_id, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListScreeningsResponse {
            items: answer.items.into_iter().map(screening).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn get_screening(
        &self,
        request: Request<GetScreeningRequest>,
    ) -> Result<Response<pb::Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(screening(
            self.0.get_screening(&actor, id).await.map_err(status)?,
        )))
    }

    async fn clear_screening_factor(
        &self,
        request: Request<ClearScreeningFactorRequest>,
    ) -> Result<Response<pb::Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let mut errors = ValidationErrors::new();
        let factor = errors.check("factor", r.factor.parse());
        Write::new(&self.0, &actor, "ClientService/ClearScreeningFactor").check(errors)?;
        let clearance = NewClearance {
            factor: factor.ok_or_else(missing)?,
            reason: r.reason,
        };
        Ok(Response::new(screening(
            self.0
                .clear_screening_factor(&actor, id, clearance, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn create_course(
        &self,
        request: Request<CreateCourseRequest>,
    ) -> Result<Response<pb::Course>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let mut errors = ValidationErrors::new();
        let started_on = r
            .started_on
            .and_then(|d| parse_date(&mut errors, "started_on", &d));
        Write::new(&self.0, &actor, "ClientService/CreateCourse").check(errors)?;
        let new = NewCourse {
            template: r.template,
            name: r.name,
            sessions: r.sessions,
            min_interval_days: r.min_interval_days,
            max_interval_days: r.max_interval_days,
            started_on,
        };
        Ok(Response::new(course(
            self.0
                .create_course(&actor, client_id, new, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn list_courses(
        &self,
        request: Request<ListCoursesRequest>,
    ) -> Result<Response<ListCoursesResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let answer = self
            .0
            .list_client_courses(&actor, client_id, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListCoursesResponse {
            items: answer.items.into_iter().map(course).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn get_course(
        &self,
        request: Request<GetCourseRequest>,
    ) -> Result<Response<pb::Course>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(course(
            self.0.get_course(&actor, id).await.map_err(status)?,
        )))
    }
}
