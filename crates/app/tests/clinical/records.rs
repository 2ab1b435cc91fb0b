//! Treatment records: signed and then unchangeable, with addenda, aftercare and courses.

use chrono::Days;
use skinledger_app::courses::NewCourse;
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent, TreatmentChanges};
use skinledger_app::{Error, PageParams};
use skinledger_domain::clinical::{AdverseEventKind, Severity, TreatmentStatus};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::clinical;
use crate::clinical_support::{World, days_ago, failure, invalid_fields, today, treatment};

skinledger_store::on_both_backends!(
    a_signed_record_cannot_change_but_takes_addenda_and_adverse_events,
    aftercare_end_dates_count_from_the_treatment_day,
    a_course_counts_its_treatments_and_shows_the_next_window,
);

async fn a_signed_record_cannot_change_but_takes_addenda_and_adverse_events(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let colleague = w
        .staff(&w.org, "colleague", Role::Nurse, w.org.clinic)
        .await;
    let client = w.client(&nurse, "Sig", "Ned").await;
    w.screening(&nurse, client.id, days_ago(1), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, days_ago(1)))
        .await;
    assert_eq!(t.status, TreatmentStatus::Draft);
    assert_eq!(t.version(), Some(1));

    let notes = |text: &str| TreatmentChanges {
        notes: Some(text.into()),
        passes: Some(8),
        ..TreatmentChanges::default()
    };
    let e = failure(
        w.app
            .update_treatment(&colleague, t.id, notes("not mine"), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let edited = w
        .app
        .update_treatment(&nurse, t.id, notes("slight redness"), Some(1))
        .await
        .expect("draft edited");
    assert_eq!(edited.version(), Some(2));
    assert_eq!(clinical(&edited).notes.as_deref(), Some("slight redness"));
    assert_eq!(clinical(&edited).passes, 8);
    let e = failure(
        w.app
            .update_treatment(&nurse, t.id, notes("stale"), Some(1))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));

    let e = failure(w.app.sign_treatment(&colleague, t.id, None, None).await);
    assert_eq!(e.code(), "forbidden");
    let signed = w
        .app
        .sign_treatment(&nurse, t.id, Some(2), None)
        .await
        .expect("signed");
    assert_eq!(signed.status, TreatmentStatus::Signed);
    assert_eq!(clinical(&signed).signed_by, nurse.staff_id());
    assert!(clinical(&signed).signed_at.is_some());

    let e = failure(
        w.app
            .update_treatment(&nurse, t.id, notes("too late"), None)
            .await,
    );
    assert_eq!(e.code(), "record_signed");
    let e = failure(w.app.sign_treatment(&nurse, t.id, None, None).await);
    assert_eq!(e.code(), "record_signed");

    let addendum = w
        .app
        .add_treatment_addendum(
            &colleague,
            t.id,
            NewAddendum {
                text: "passes were 8 per direction, not in total".into(),
            },
            None,
        )
        .await
        .expect("addendum added");
    assert_eq!(Some(addendum.author_id), colleague.staff_id());
    let event = w
        .app
        .record_adverse_event(
            &nurse,
            t.id,
            NewAdverseEvent {
                kind: AdverseEventKind::Scabbing,
                severity: Severity::Mild,
                onset_on: today(),
                notes: Some("two small scabs on the left cheek".into()),
            },
            None,
        )
        .await
        .expect("adverse event recorded");
    let e = failure(
        w.app
            .record_adverse_event(
                &nurse,
                t.id,
                NewAdverseEvent {
                    kind: AdverseEventKind::Bruising,
                    severity: Severity::Moderate,
                    onset_on: days_ago(2),
                    notes: None,
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["onset_on"]);

    let read = w.app.get_treatment(&nurse, t.id).await.expect("read");
    assert_eq!(read.status, TreatmentStatus::Signed);
    assert_eq!(clinical(&read).notes.as_deref(), Some("slight redness"));
    assert_eq!(clinical(&read).addenda, vec![addendum]);
    assert_eq!(clinical(&read).adverse_events, vec![event]);
    assert_eq!(read.version(), Some(3));
}

async fn aftercare_end_dates_count_from_the_treatment_day(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "After", "Care").await;
    let day = days_ago(10);
    w.screening(&nurse, client.id, day, ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, day))
        .await;

    let care = w
        .app
        .get_treatment_aftercare(&nurse, t.id)
        .await
        .expect("aftercare");
    assert_eq!(care.performed_on, day);
    let ends: Vec<(&str, chrono::NaiveDate)> = care
        .aftercare
        .instructions
        .iter()
        .map(|i| (i.code.as_str(), i.until))
        .collect();
    let after = |n: u64| day + Days::new(n);
    assert_eq!(
        ends,
        vec![
            ("avoid_sun", after(14)),
            ("no_anti_inflammatories", after(7)),
            ("no_make_up", after(3)),
            ("avoid_heat", after(15)),
            ("no_exfoliation", after(14)),
            ("no_ice_arnica_bromelain", after(7)),
            ("avoid_smoking_alcohol_exercise", after(7)),
            ("moisturise", after(7)),
        ]
    );
    assert_eq!(care.aftercare.next_eligible_on, after(28));
    assert_eq!(care.aftercare.results_expected_from, after(42));
    assert_eq!(clinical(&t).aftercare, care.aftercare);

    // A later policy change does not rewrite the aftercare already given.
    let mut shorter = ClinicalPolicy::default();
    shorter.aftercare.truncate(1);
    w.app
        .put_policy(&w.org.admin, shorter, None)
        .await
        .expect("policy changed");
    let again = w
        .app
        .get_treatment_aftercare(&nurse, t.id)
        .await
        .expect("aftercare");
    assert_eq!(again.aftercare, care.aftercare);
    // Version 1 lets the test lay down history; the session kept the version it was under.
    assert_eq!(again.policy_version, 1);
    let json = serde_json::to_value(&again).expect("serialises");
    assert_eq!(json["instructions"][2]["until"], after(3).to_string());
}

async fn a_course_counts_its_treatments_and_shows_the_next_window(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let client = w.client(&nurse, "Course", "Taker").await;
    let start = days_ago(50);
    let course = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                template: Some("rejuvenation".into()),
                started_on: Some(start),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("course created");
    assert_eq!(
        (
            course.sessions,
            course.min_interval_days,
            course.max_interval_days
        ),
        (3, 42, 56)
    );
    assert_eq!(course.name, "Rejuvenation");
    assert_eq!(course.progress.sessions_done, 0);

    w.screening(&nurse, client.id, start, ScreeningAnswers::default())
        .await;
    let mut first = treatment(w.org.clinic, client.id, 1.0, start);
    first.course_id = Some(course.id);
    w.treat(&nurse, first).await;

    let read = w.app.get_course(&desk, course.id).await.expect("readable");
    assert_eq!(read.progress.sessions_done, 1);
    assert_eq!(read.progress.sessions_remaining, 2);
    let window = read.progress.next_due.expect("a next window");
    assert_eq!(window.from, start + Days::new(42));
    assert_eq!(window.to, start + Days::new(56));
    assert!(!read.progress.completed);

    let custom = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                name: Some("Stretch marks, abdomen".into()),
                sessions: Some(4),
                min_interval_days: Some(30),
                max_interval_days: Some(45),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("custom course created");
    assert_eq!(custom.template, None);
    assert_eq!(custom.progress.next_due.map(|d| d.from), Some(today()));
    let listed = w
        .app
        .list_client_courses(&desk, client.id, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 2);

    let e = failure(
        w.app
            .create_course(
                &nurse,
                client.id,
                NewCourse {
                    name: Some("Bad".into()),
                    sessions: Some(3),
                    min_interval_days: Some(60),
                    max_interval_days: Some(30),
                    ..NewCourse::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["max_interval_days"]);
    let e = failure(
        w.app
            .create_course(
                &nurse,
                client.id,
                NewCourse {
                    template: Some("miracle".into()),
                    ..NewCourse::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["template"]);
    let e = failure(
        w.app
            .create_course(&desk, client.id, NewCourse::default(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    // A course of another client does not count a treatment.
    let someone = w.client(&nurse, "Some", "One").await;
    w.screening(&nurse, someone.id, today(), ScreeningAnswers::default())
        .await;
    let mut wrong = treatment(w.org.clinic, someone.id, 1.0, today());
    wrong.course_id = Some(course.id);
    let e = failure(w.app.create_treatment(&nurse, wrong, None).await);
    assert_eq!(invalid_fields(&e), vec!["course_id"]);
}
