//! A clinic manager sets their own reorder point, never the one for every clinic.

use skinledger_app::products::{ClinicReorderPointChange, ProductChanges};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, mm};
use crate::inventory_support;
use crate::inventory_support::roller;

skinledger_store::on_both_backends!(
    a_manager_sets_their_reorder_point_but_never_what_is_safe_at_every_clinic,
);

async fn a_manager_sets_their_reorder_point_but_never_what_is_safe_at_every_clinic(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let p = inventory_support::add_product(app, admin, roller("Labelled roller 1.0 mm", 1.0)).await;
    let deeper = ProductChanges {
        max_depth_mm: Some(mm(0.5)),
        ..ProductChanges::default()
    };
    let e = failure(
        app.update_product(&manager, p.id, deeper.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let unchanged = app.get_product(admin, p.id).await.expect("product");
    assert_eq!(
        (unchanged.max_depth_mm, unchanged.version),
        (p.max_depth_mm, p.version)
    );
    app.update_product(
        &manager,
        p.id,
        ProductChanges {
            clinic_reorder_points: Some(vec![ClinicReorderPointChange {
                clinic_id: clinic,
                reorder_point: Some(5),
            }]),
            ..ProductChanges::default()
        },
        None,
    )
    .await
    .expect("own reorder point");
    let changed = app
        .update_product(admin, p.id, deeper, None)
        .await
        .expect("the organisation changes the label");
    assert_eq!(changed.max_depth_mm, Some(mm(0.5)));
}
