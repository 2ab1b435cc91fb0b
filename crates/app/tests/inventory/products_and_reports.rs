//! Products are validated; reports show low stock, expiring lots and usage.

use std::collections::BTreeSet;

use chrono::Days;
use skinledger_app::Error;
use skinledger_app::products::{
    ClinicReorderPoint, ClinicReorderPointChange, NewProduct, ProductChanges,
};
use skinledger_app::reports::ReportPeriod;
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

use crate::clinical_support;
use crate::clinical_support::{World, days_ago, failure, invalid_fields, today};
use crate::inventory_support::{
    add_product, conflict_code, eligible_client, gtin, one_of, receive, roller, set_expiry,
    treatment_using,
};

skinledger_store::on_both_backends!(
    products_are_validated_and_reports_show_low_stock_expiring_lots_and_usage,
);

async fn products_are_validated_and_reports_show_low_stock_expiring_lots_and_usage(db: Db) {
    let w = World::new(db).await;
    let (app, admin) = (&w.app, &w.org.admin);
    let (a, b) = (w.org.clinic, w.org.other_clinic);
    let manager_a = w.staff(&w.org, "manager", Role::ClinicManager, a).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, a).await;

    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                needle_length_mm: None,
                single_use: Some(false),
                gtin: None,
                ..roller("Half a roller", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["needle_length_mm", "single_use"]);
    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                max_depth_mm: Some(clinical_support::mm(1.0)),
                ..roller("Overlabelled", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["max_depth_mm"]);
    let e = failure(
        app.create_product(&nurse, roller("Nurse's", 0.5), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    let e = failure(
        app.create_product(&manager_a, roller("Manager's", 0.5), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let low = add_product(
        app,
        admin,
        NewProduct {
            gtin: Some(gtin("4006381333931")),
            reorder_point: Some(10),
            ..roller("Low roller 0.5 mm", 0.5)
        },
    )
    .await;
    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                gtin: Some(gtin("04006381333931")),
                ..roller("Same GTIN", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "already_exists");
    // A manager sets their own clinic's reorder point, never another clinic's.
    let override_at = |clinic, point| ProductChanges {
        clinic_reorder_points: Some(vec![ClinicReorderPointChange {
            clinic_id: clinic,
            reorder_point: point,
        }]),
        ..ProductChanges::default()
    };
    let e = failure(
        app.update_product(&manager_a, low.id, override_at(b, Some(2)), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    // What is safe at every clinic is the organisation's to say: a manager changes neither the
    // labelled maximum depth nor anything else of the catalogue, even with their own point.
    for changes in [
        ProductChanges {
            max_depth_mm: Some(clinical_support::mm(0.25)),
            ..ProductChanges::default()
        },
        ProductChanges {
            needle_length_mm: Some(clinical_support::mm(2.0)),
            ..override_at(a, Some(4))
        },
        ProductChanges {
            reorder_point: Some(1),
            ..ProductChanges::default()
        },
    ] {
        let e = failure(app.update_product(&manager_a, low.id, changes, None).await);
        assert_eq!(e.code(), "forbidden");
    }
    let mine = app
        .update_product(&manager_a, low.id, override_at(a, Some(4)), None)
        .await
        .expect("a manager sets their own clinic's reorder point");
    assert_eq!(
        mine.clinic_reorder_points,
        vec![ClinicReorderPoint {
            clinic_id: a,
            reorder_point: 4
        }]
    );
    assert_eq!(mine.max_depth_mm, low.max_depth_mm);
    let low = app
        .update_product(admin, low.id, override_at(a, None), None)
        .await
        .expect("back to the organisation's point");
    let changed = app
        .update_product(admin, low.id, override_at(b, Some(2)), Some(low.version))
        .await
        .expect("changed");
    assert_eq!(changed.clinic_reorder_points.len(), 1);
    assert_eq!(changed.version, low.version + 1);
    let e = failure(
        app.update_product(admin, low.id, ProductChanges::default(), Some(low.version))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));
    let fine = add_product(
        app,
        admin,
        NewProduct {
            reorder_point: Some(3),
            ..roller("Fine roller 1.0 mm", 1.0)
        },
    )
    .await;

    receive(app, admin, a, low.id, "LOW-A", today() + Days::new(10), 5).await;
    receive(app, admin, b, low.id, "LOW-B", today() + Days::new(100), 5).await;
    receive(
        app,
        admin,
        a,
        fine.id,
        "FINE-A",
        today() + Days::new(200),
        20,
    )
    .await;
    let stale = receive(
        app,
        admin,
        a,
        fine.id,
        "FINE-OLD",
        today() + Days::new(5),
        2,
    )
    .await;
    set_expiry(app, stale.lot.id, days_ago(2)).await;

    let report = app.low_stock_report(admin).await.expect("report");
    let lines: BTreeSet<(Uuid, Uuid, i64, u32)> = report
        .iter()
        .filter(|l| l.product_id == low.id || l.product_id == fine.id)
        .map(|l| (l.clinic_id, l.product_id, l.on_hand, l.reorder_point))
        .collect();
    assert_eq!(
        lines,
        BTreeSet::from([(a, low.id, 5, 10), (b, fine.id, 0, 3)])
    );
    let theirs = app.low_stock_report(&manager_a).await.expect("report");
    assert!(theirs.iter().all(|l| l.clinic_id == a));
    let e = failure(app.low_stock_report(&nurse).await);
    assert_eq!(e.code(), "forbidden");

    let expiring = app.expiring_report(admin, Some(30)).await.expect("report");
    let soon: Vec<(String, i64)> = expiring
        .iter()
        .map(|l| (l.lot_number.clone(), l.days_left))
        .collect();
    assert_eq!(
        soon,
        vec![("FINE-OLD".to_owned(), -2), ("LOW-A".to_owned(), 10)]
    );
    let e = failure(app.expiring_report(admin, Some(100_000)).await);
    assert_eq!(invalid_fields(&e), vec!["within_days"]);

    for name in ["Una", "Duo"] {
        let client = eligible_client(&w, &nurse, name, "Usage").await;
        w.treat(&nurse, treatment_using(a, client, vec![one_of(low.id)]))
            .await;
    }
    let usage = app
        .usage_report(
            &manager_a,
            &ReportPeriod {
                from: today() - Days::new(7),
                to: today(),
                clinic_id: None,
            },
        )
        .await
        .expect("usage");
    let ours: Vec<(Uuid, Uuid, i64)> = usage
        .iter()
        .filter(|l| l.product_id == low.id)
        .map(|l| (l.clinic_id, l.product_id, l.units))
        .collect();
    assert_eq!(ours, vec![(a, low.id, 2)]);
    assert_eq!(usage[0].clinic_name, "Mitte");
    let yesterday = app
        .usage_report(
            admin,
            &ReportPeriod {
                from: days_ago(1),
                to: days_ago(1),
                clinic_id: Some(a),
            },
        )
        .await
        .expect("usage");
    assert!(yesterday.is_empty());
    let e = failure(
        app.usage_report(
            admin,
            &ReportPeriod {
                from: today(),
                to: days_ago(1),
                clinic_id: None,
            },
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["to"]);
    let e = failure(
        app.usage_report(
            &manager_a,
            &ReportPeriod {
                from: today(),
                to: today(),
                clinic_id: Some(b),
            },
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
}
