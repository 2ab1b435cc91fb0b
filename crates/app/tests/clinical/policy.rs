//! The clinical policy: each factor's default outcome, and who may change it and how.

use skinledger_app::{Error, PageParams};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::policy::{ClinicalPolicy, FactorOutcome, default_rule};
use skinledger_domain::role::Role;
use skinledger_domain::screening::Outcome;
use skinledger_store::Db;

use crate::answers_with;
use crate::clinical_support::{World, failure, invalid_fields, today};

skinledger_store::on_both_backends!(
    every_factor_has_its_default_outcome_and_a_policy_change_alters_it,
    only_an_org_admin_changes_the_policy_and_a_bad_one_is_refused_field_by_field,
);

fn expected_outcome(rule: FactorOutcome) -> Outcome {
    match rule {
        FactorOutcome::Contraindicated => Outcome::Contraindicated,
        FactorOutcome::RequiresClearance => Outcome::RequiresClearance,
        FactorOutcome::Deferred => Outcome::Deferred,
        FactorOutcome::Allowed => Outcome::Eligible,
    }
}

fn policy_with(factor: Contraindication, outcome: FactorOutcome) -> ClinicalPolicy {
    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.contraindications {
        if rule.factor == factor {
            rule.outcome = outcome;
        }
    }
    policy
}

async fn every_factor_has_its_default_outcome_and_a_policy_change_alters_it(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    for factor in Contraindication::ALL {
        // A client of their own per factor: a later screening of the same client denying the
        // factor would need a physician's confirmation.
        let client = w.client(&nurse, "Anna", factor.as_str()).await;
        let s = w
            .screening(&nurse, client.id, today(), answers_with(factor))
            .await;
        let expected = expected_outcome(default_rule(factor));
        assert_eq!(s.outcome_at_screening, expected, "{factor}");
        assert_eq!(s.reasons.len(), 1, "{factor}");
        assert_eq!(s.reasons[0].factor, factor);
        assert_eq!(s.reasons[0].outcome, expected, "{factor}");
        assert_eq!(s.policy_version, 0);
    }

    let client = w.client(&nurse, "Anna", "Berg").await;
    let alcohol = answers_with(Contraindication::FrequentAlcoholUse);
    let before = w
        .screening(&nurse, client.id, today(), alcohol.clone())
        .await;
    assert_eq!(before.outcome, Outcome::Contraindicated);

    let changed = w
        .app
        .put_policy(
            &w.org.admin,
            policy_with(
                Contraindication::FrequentAlcoholUse,
                FactorOutcome::RequiresClearance,
            ),
            Some(0),
        )
        .await
        .expect("policy changed");
    assert_eq!(changed.version, 1);

    let after = w.screening(&nurse, client.id, today(), alcohol).await;
    assert_eq!(after.outcome, Outcome::RequiresClearance);
    assert_eq!(after.policy_version, 1);
    // The earlier screening keeps what it was judged under.
    let listed = w
        .app
        .list_client_screenings(&nurse, client.id, &PageParams::default())
        .await
        .expect("screenings");
    let earlier = listed
        .items
        .iter()
        .find(|s| s.id == before.id)
        .expect("earlier screening listed");
    assert_eq!(earlier.outcome, Outcome::Contraindicated);
    assert_eq!(earlier.policy_version, 0);
}

async fn only_an_org_admin_changes_the_policy_and_a_bad_one_is_refused_field_by_field(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;

    let current = w.app.get_policy(&physician).await.expect("policy readable");
    assert_eq!(current.version, 0);
    assert_eq!(current.document, ClinicalPolicy::default());

    let refused = failure(
        w.app
            .put_policy(&physician, ClinicalPolicy::default(), None)
            .await,
    );
    assert_eq!(refused.code(), "forbidden");

    let bad = ClinicalPolicy {
        screening_validity_days: 0,
        ..ClinicalPolicy::default()
    };
    let invalid = failure(w.app.put_policy(&w.org.admin, bad, None).await);
    assert_eq!(invalid_fields(&invalid), vec!["screening_validity_days"]);

    // The unchanged policy makes no new version.
    let same = w
        .app
        .put_policy(&w.org.admin, ClinicalPolicy::default(), None)
        .await
        .expect("unchanged policy accepted");
    assert_eq!(same.version, 0);

    let longer = ClinicalPolicy {
        screening_validity_days: 60,
        ..ClinicalPolicy::default()
    };
    let v1 = w
        .app
        .put_policy(&w.org.admin, longer.clone(), None)
        .await
        .expect("policy changed");
    assert_eq!(v1.version, 1);
    let stale = failure(
        w.app
            .put_policy(&w.org.admin, ClinicalPolicy::default(), Some(0))
            .await,
    );
    assert!(matches!(stale, Error::PreconditionFailed));
    let read = w.app.get_policy(&physician).await.expect("policy readable");
    assert_eq!(read.version, 1);
    assert_eq!(read.document, longer);
}
