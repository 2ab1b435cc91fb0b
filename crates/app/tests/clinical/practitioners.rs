//! What each role may treat, override and clear: depth limits, intervals and factors.

use skinledger_app::Error;
use skinledger_app::screenings::NewClearance;
use skinledger_app::treatments::TreatmentChanges;
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::role::Role;
use skinledger_domain::screening::{Outcome, ScreeningAnswers};
use skinledger_store::Db;

use crate::clinical_support::{World, days_ago, failure, invalid_fields, mm, today, treatment};
use crate::{answers_with, clinical};

skinledger_store::on_both_backends!(
    an_esthetician_cannot_treat_deeper_than_half_a_millimetre_nor_a_nurse_than_one_and_a_half,
    a_physician_may_override_too_soon_and_the_reason_is_recorded,
    only_a_physician_clears_a_factor_and_a_contraindication_cannot_be_cleared,
);

async fn an_esthetician_cannot_treat_deeper_than_half_a_millimetre_nor_a_nurse_than_one_and_a_half(
    db: Db,
) {
    let w = World::new(db).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let front_desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut clients = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let c = w.client(&nurse, name, "Client").await;
        w.screening(&nurse, c.id, today(), ScreeningAnswers::default())
            .await;
        clients.push(c.id);
    }

    let e = failure(
        w.app
            .create_treatment(
                &esthetician,
                treatment(w.org.clinic, clients[0], 0.75, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    assert!(matches!(e, Error::Forbidden { .. }));
    w.treat(
        &esthetician,
        treatment(w.org.clinic, clients[0], 0.5, today()),
    )
    .await;

    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, clients[1], 1.75, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    let t = w
        .treat(&nurse, treatment(w.org.clinic, clients[1], 1.5, today()))
        .await;

    // A depth correction of a draft is held to the same limit.
    let e = failure(
        w.app
            .update_treatment(
                &nurse,
                t.id,
                TreatmentChanges {
                    needle_depth_mm: Some(mm(2.0)),
                    ..TreatmentChanges::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");

    // Front desk does not treat at all.
    let e = failure(
        w.app
            .create_treatment(
                &front_desk,
                treatment(w.org.clinic, clients[2], 0.25, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");
}

async fn a_physician_may_override_too_soon_and_the_reason_is_recorded(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Quick", "Return").await;
    w.screening(&nurse, client.id, days_ago(5), ScreeningAnswers::default())
        .await;
    w.treat(
        &physician,
        treatment(w.org.clinic, client.id, 0.5, days_ago(5)),
    )
    .await;

    let mut again = treatment(w.org.clinic, client.id, 0.5, today());
    let e = failure(
        w.app
            .create_treatment(&physician, again.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "too_soon");

    again.interval_override_reason = Some("touch-up of one scar, agreed with client".into());
    let e = failure(w.app.create_treatment(&nurse, again.clone(), None).await);
    assert_eq!(e.code(), "forbidden");

    let t = w.treat(&physician, again).await;
    assert_eq!(
        clinical(&t).interval_override_reason.as_deref(),
        Some("touch-up of one scar, agreed with client")
    );
    let read = w.app.get_treatment(&physician, t.id).await.expect("read");
    assert_eq!(
        clinical(&read).interval_override_reason,
        clinical(&t).interval_override_reason
    );

    // An override does not lift anything else.
    let pregnant = w.client(&nurse, "Not", "Now").await;
    w.screening(
        &nurse,
        pregnant.id,
        today(),
        answers_with(Contraindication::Pregnancy),
    )
    .await;
    let mut attempt = treatment(w.org.clinic, pregnant.id, 0.5, today());
    attempt.interval_override_reason = Some("urgent".into());
    let e = failure(w.app.create_treatment(&physician, attempt, None).await);
    assert_eq!(e.code(), "contraindicated");
}

async fn only_a_physician_clears_a_factor_and_a_contraindication_cannot_be_cleared(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Herpes", "History").await;
    let answers = ScreeningAnswers {
        herpes_history: true,
        very_sensitive_skin: true,
        ..ScreeningAnswers::default()
    };
    let s = w.screening(&nurse, client.id, today(), answers).await;
    assert_eq!(s.outcome, Outcome::RequiresClearance);
    let clearance = |factor| NewClearance {
        factor,
        reason: "antiviral prophylaxis prescribed".into(),
    };

    let e = failure(
        w.app
            .clear_screening_factor(
                &nurse,
                s.id,
                clearance(Contraindication::HerpesHistory),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::Pregnancy),
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["factor"]);

    let once = w
        .app
        .clear_screening_factor(
            &physician,
            s.id,
            clearance(Contraindication::HerpesHistory),
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(once.outcome, Outcome::RequiresClearance);
    assert_eq!(once.outcome_at_screening, Outcome::RequiresClearance);
    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::HerpesHistory),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "already_exists");
    let both = w
        .app
        .clear_screening_factor(
            &physician,
            s.id,
            clearance(Contraindication::VerySensitiveSkin),
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(both.outcome, Outcome::Eligible);
    assert_eq!(both.clearances.len(), 2);
    assert_eq!(
        both.clearances[0].cleared_by,
        physician.staff_id().expect("staff")
    );
    w.treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;

    let pregnant = w.client(&nurse, "Pre", "Gnant").await;
    let s = w
        .screening(
            &nurse,
            pregnant.id,
            today(),
            answers_with(Contraindication::Pregnancy),
        )
        .await;
    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::Pregnancy),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "contraindicated");
    assert!(matches!(e, Error::Conflict { .. }));
}
