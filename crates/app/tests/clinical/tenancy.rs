//! Another organisation's clients, screenings and treatments are not found.

use skinledger_app::clients::ClientChanges;
use skinledger_app::courses::NewCourse;
use skinledger_app::eligibility::EligibilityRequest;
use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_app::treatments::{NewAddendum, TreatmentChanges};
use skinledger_app::{Error, PageParams};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::role::Role;
use skinledger_domain::screening::{Outcome, ScreeningAnswers};
use skinledger_store::Db;

use crate::answers_with;
use crate::clinical_support::{World, failure, mm, today, treatment};

skinledger_store::on_both_backends!(
    another_organisations_clients_screenings_and_treatments_are_not_found,
);

async fn another_organisations_clients_screenings_and_treatments_are_not_found(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Home", "Org").await;
    let s = w
        .screening(
            &nurse,
            client.id,
            today(),
            answers_with(Contraindication::HerpesHistory),
        )
        .await;
    // Denying the factor minutes later needs a physician's confirmation.
    let denied = w
        .screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    assert_eq!(denied.outcome, Outcome::RequiresClearance);
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let cleared = w
        .app
        .clear_screening_factor(
            &physician,
            denied.id,
            NewClearance {
                factor: Contraindication::HerpesHistory,
                reason: "confirmed with the client".into(),
            },
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(cleared.outcome, Outcome::Eligible);
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    let course = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                template: Some("rejuvenation".into()),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("course");

    let other = w.other_org("elsewhere").await;
    let physician = w
        .staff(&other, "physician", Role::Physician, other.clinic)
        .await;
    let page = PageParams::default();
    for actor in [&other.admin, &physician] {
        let errors = vec![
            failure(w.app.get_client(actor, client.id).await),
            failure(
                w.app
                    .update_client(actor, client.id, ClientChanges::default(), None)
                    .await,
            ),
            failure(w.app.list_client_screenings(actor, client.id, &page).await),
            failure(w.app.get_screening(actor, s.id).await),
            failure(
                w.app
                    .clear_screening_factor(
                        actor,
                        s.id,
                        NewClearance {
                            factor: Contraindication::HerpesHistory,
                            reason: "mine".into(),
                        },
                        None,
                    )
                    .await,
            ),
            failure(w.app.get_treatment(actor, t.id).await),
            failure(w.app.list_client_treatments(actor, client.id, &page).await),
            failure(w.app.get_treatment_aftercare(actor, t.id).await),
            failure(w.app.sign_treatment(actor, t.id, None, None).await),
            failure(
                w.app
                    .add_treatment_addendum(actor, t.id, NewAddendum { text: "x".into() }, None)
                    .await,
            ),
            failure(
                w.app
                    .update_treatment(actor, t.id, TreatmentChanges::default(), None)
                    .await,
            ),
            failure(w.app.get_course(actor, course.id).await),
            failure(
                w.app
                    .record_screening(
                        actor,
                        client.id,
                        NewScreening {
                            clinic_id: None,
                            screened_on: None,
                            answers: ScreeningAnswers::default(),
                        },
                        None,
                    )
                    .await,
            ),
            failure(
                w.app
                    .check_eligibility(
                        actor,
                        EligibilityRequest {
                            client_id: client.id,
                            clinic_id: other.clinic,
                            practitioner_id: physician.staff_id(),
                            needle_depth_mm: mm(0.5),
                            date: None,
                            endpoint: None,
                        },
                    )
                    .await,
            ),
            failure(
                w.app
                    .create_treatment(
                        actor,
                        treatment(other.clinic, client.id, 0.5, today()),
                        None,
                    )
                    .await,
            ),
        ];
        for (i, e) in errors.into_iter().enumerate() {
            assert!(matches!(e, Error::NotFound(_)), "call {i}: {e:?}");
        }
    }
    let theirs = w
        .app
        .list_clients(&other.admin, None, &page)
        .await
        .expect("listed");
    assert!(theirs.items.is_empty());
}
