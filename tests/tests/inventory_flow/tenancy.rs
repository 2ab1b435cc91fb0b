//! Another organisation's products, lots, stock and transfers answer not found.

use serde_json::{Value, json};
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;
use uuid::Uuid;

use crate::counts;
use crate::flow_support::{
    Chain, Rest, assert_grpc_refused, assert_refused, create_roller, gtin, id_of,
    inventory_service, items, movements, next_year, receive, stock_of, sums_by_lot, uuid_at,
    yymmdd,
};

e2e_on_both_backends!(another_organisation_s_products_lots_stock_and_transfers_answer_not_found);

async fn another_organisation_s_products_lots_stock_and_transfers_answer_not_found(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b) = (chain.clinic_a, chain.clinic_b);
    let code = gtin(909);
    let product = create_roller(&api, &chain.admin, &code).await;
    let lot = uuid_at(
        &receive(&api, &chain.manager_a.token, a, product, "ISO-7", 6).await["lot"],
        "id",
    );
    let transfer = api
        .post(
            "/v1/transfers",
            &chain.manager_a.token,
            &json!({ "from_clinic_id": a, "to_clinic_id": b,
                     "lines": [{ "lot_id": lot, "quantity": 2 }] }),
        )
        .await
        .expect_status(201)
        .id();

    // Another organisation's admin, who may do everything with stock at home.
    let other = server.create_org("lumen").await;
    let token = other.admin_token.as_str();
    let home = api
        .post("/v1/clinics", token, &json!({ "name": "Lumen Ost" }))
        .await
        .expect_status(201)
        .id();
    let home_product = create_roller(&api, token, &gtin(910)).await;
    let home_lot = uuid_at(
        &receive(&api, token, home, home_product, "HOME-1", 2).await["lot"],
        "id",
    );

    for path in [
        format!("/v1/products/{product}"),
        format!("/v1/lots/{lot}"),
        format!("/v1/lots/{lot}/trace"),
        format!("/v1/clinics/{a}/stock"),
        format!("/v1/clinics/{a}/movements"),
        format!("/v1/transfers/{transfer}"),
    ] {
        assert_refused(&api.get(&path, token).await, 404, "not_found");
    }
    let csv = api
        .send(
            api.request(
                reqwest::Method::GET,
                &format!("/v1/lots/{lot}/trace"),
                token,
            )
            .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status.as_u16(), 404, "{}", csv.text());
    let writes: Vec<(reqwest::Method, String, Value)> = vec![
        (
            reqwest::Method::PATCH,
            format!("/v1/products/{product}"),
            json!({ "name": "mine now" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/lots/{lot}/recall"),
            json!({ "reason": "mine now" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/receipts"),
            json!({ "product_id": home_product, "lot_number": "X", "expiry": next_year(), "quantity": 1 }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{home}/receipts"),
            json!({ "product_id": product, "lot_number": "X", "expiry": next_year(), "quantity": 1 }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/adjustments"),
            json!({ "lot_id": lot, "quantity": -1, "reason": "lost" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{home}/adjustments"),
            json!({ "lot_id": lot, "quantity": -1, "reason": "lost" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/stocktakes"),
            json!({ "counts": [{ "lot_id": lot, "counted": 0 }] }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/transfers/{transfer}/receive"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/transfers/{transfer}/cancel"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            "/v1/transfers".to_owned(),
            json!({ "from_clinic_id": a, "to_clinic_id": home,
                    "lines": [{ "lot_id": lot, "quantity": 1 }] }),
        ),
        (
            reqwest::Method::POST,
            "/v1/transfers".to_owned(),
            json!({ "from_clinic_id": home, "to_clinic_id": b,
                    "lines": [{ "lot_id": home_lot, "quantity": 1 }] }),
        ),
    ];
    for (method, path, body) in writes {
        let answer = api
            .send(api.request(method.clone(), &path, token).json(&body))
            .await;
        assert_refused(&answer, 404, "not_found");
    }
    // Their GTIN is not in this catalogue, which says no more than that.
    let scanned = api
        .post(
            &format!("/v1/clinics/{home}/receipts"),
            token,
            &json!({ "gs1": format!("(01){code}(17){}(10)ISO-7", yymmdd(next_year())) }),
        )
        .await;
    assert_refused(&scanned, 422, "validation_failed");
    // Their products and transfers are not in this organisation's lists.
    let products = api.get("/v1/products", token).await.expect_status(200);
    let listed: Vec<Uuid> = items(&products).iter().map(id_of).collect();
    assert_eq!(listed, vec![home_product]);
    let transfers = api.get("/v1/transfers", token).await.expect_status(200);
    assert!(items(&transfers).is_empty(), "{}", transfers.text());

    let mut inventory = inventory_service(&server.channel);
    assert_grpc_refused(
        inventory
            .get_product(authorized(
                pb::GetProductRequest {
                    id: product.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_lot(authorized(
                pb::GetLotRequest {
                    id: lot.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_clinic_stock(authorized(
                pb::GetClinicStockRequest {
                    clinic_id: a.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_transfer(authorized(
                pb::GetTransferRequest {
                    id: transfer.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );

    // At home nothing moved.
    assert_eq!(
        stock_of(&api, &chain.admin, a, lot).await.0,
        counts(4, 0, 2)
    );
    let ledger = sums_by_lot(&movements(&api, &chain.admin, a, 50).await);
    assert_eq!(ledger.get(&lot).copied(), Some(counts(4, 0, 2)));
}
