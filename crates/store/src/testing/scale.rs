//! An organisation at the size of a large chain, written directly in SQL on PostgreSQL (far
//! faster than through the use cases): clients, their signed treatments, each treatment's
//! consumption of one roller from one of a set of lots, its movement, and one audit event of a
//! read per client. The index test and the scale benchmark read it through the store.

use uuid::Uuid;

use crate::db::Db;

/// How large the seeded organisation is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Clients.
    pub clients: u32,
    /// Signed treatments of each client, spread over the last two years.
    pub treatments_per_client: u32,
    /// Lots of the one roller product the treatments consume from, in turn.
    pub lots: u32,
}

const FIRST_NAMES: &str = "'Anna','Ben','Clara','David','Emma','Felix','Greta','Hannes','Ida','Jonas',\
     'Karla','Leon','Mia','Noah','Olga','Paul','Rosa','Sami','Tilda','Umut'";

/// Seeds `scale` into the organisation `org` at `clinic`, every treatment by `practitioner`
/// (PostgreSQL only), and vacuums and analyses the tables. Client names are a first name of twenty and a
/// last name from a hash, emails `first.last@example.test`, phones `+49 151` and a number.
///
/// # Panics
/// When a statement fails.
pub async fn seed_large_organisation(
    db: &Db,
    org: Uuid,
    clinic: Uuid,
    practitioner: Uuid,
    scale: Scale,
) {
    use sea_orm::ConnectionTrait;

    let Scale {
        clients,
        treatments_per_client,
        lots,
    } = scale;
    let product = Uuid::now_v7();
    let statements = [
        format!(
            "INSERT INTO products (id, organization_id, kind, name, maker, gtin, \
             needle_length_hundredths, needle_count, max_depth_hundredths, single_use, \
             reorder_point, version, created_at, updated_at) \
             VALUES ('{product}', '{org}', 'roller', 'Roller 0.5 mm', 'Maker', NULL, 50, 192, \
             NULL, true, 0, 1, now(), now())"
        ),
        format!(
            "INSERT INTO lots (id, organization_id, product_id, lot_number, expiry, status, \
             created_at, serial_tracked) \
             SELECT gen_random_uuid(), '{org}', '{product}', 'LOT-' || lpad(g::text, 4, '0'), \
             current_date + 365, 'active', now(), false FROM generate_series(1, {lots}) g"
        ),
        format!(
            "INSERT INTO clients (id, organization_id, first_name, last_name, date_of_birth, \
             phone, email, fitzpatrick_type, consent_version, consent_signed_at, photo_consent, \
             notes, name_search, reverse_name_search, email_search, phone_search, version, \
             created_at, updated_at) \
             SELECT gen_random_uuid(), '{org}', f, l, date '1960-01-01' + g % 15000, \
             '+49 151 ' || lpad(g::text, 7, '0'), lower(f || '.' || l || '@example.test'), \
             NULL, NULL, NULL, false, NULL, lower(f || ' ' || l), lower(l || ' ' || f), \
             lower(f || '.' || l || '@example.test'), '49151' || lpad(g::text, 7, '0'), 1, \
             now(), now() \
             FROM (SELECT g, (ARRAY[{FIRST_NAMES}])[1 + g % 20] AS f, \
                          initcap(substr(md5(g::text), 1, 10)) AS l \
                   FROM generate_series(1, {clients}) g) s"
        ),
        format!(
            "INSERT INTO treatments (id, organization_id, clinic_id, client_id, practitioner_id, \
             performed_at, performed_on, status, indications, areas, device_kind, \
             needle_depth_hundredths, passes, anaesthetic_product, anaesthetic_minutes, \
             topicals, endpoint, duration_minutes, notes, interval_override_reason, \
             policy_version, course_id, version, signed_at, signed_by, created_at, updated_at) \
             SELECT gen_random_uuid(), '{org}', '{clinic}', id, '{practitioner}', t, t::date, \
             'signed', '[\"fine_lines_and_wrinkles\"]', '[\"full_face\"]', 'roller', 50, 8, \
             NULL, NULL, '[]', 'erythema', 30, NULL, NULL, 0, NULL, 1, t, '{practitioner}', t, t \
             FROM (SELECT id, now() - random() * interval '730 days' AS t FROM clients \
                   CROSS JOIN generate_series(1, {treatments_per_client}) \
                   WHERE organization_id = '{org}') c"
        ),
        format!(
            "INSERT INTO treatment_consumables (id, organization_id, treatment_id, clinic_id, \
             client_id, practitioner_id, performed_at, performed_on, product_id, lot_id, serial, \
             quantity, created_at) \
             SELECT gen_random_uuid(), t.organization_id, t.id, t.clinic_id, t.client_id, \
             t.practitioner_id, t.performed_at, t.performed_on, '{product}', l.id, NULL, 1, \
             t.created_at \
             FROM (SELECT *, row_number() OVER () % {lots} AS k FROM treatments \
                   WHERE organization_id = '{org}') t \
             JOIN (SELECT id, row_number() OVER (ORDER BY lot_number) - 1 AS k FROM lots \
                   WHERE organization_id = '{org}') l ON l.k = t.k"
        ),
        format!(
            "INSERT INTO movements (id, organization_id, clinic_id, lot_id, kind, quantity, \
             quarantined_delta, in_transit_delta, reason, note, actor_kind, actor_id, \
             treatment_id, transfer_id, reference, created_at) \
             SELECT gen_random_uuid(), organization_id, clinic_id, lot_id, 'consumption', \
             -quantity, 0, 0, NULL, NULL, 'staff', '{practitioner}', treatment_id, NULL, NULL, \
             created_at FROM treatment_consumables WHERE organization_id = '{org}'"
        ),
        format!(
            "INSERT INTO audit_events (id, organization_id, actor_kind, actor_id, action, \
             entity_kind, entity_id, client_id, outcome, detail, request_id, occurred_at, seq, \
             prev_hash, hash) \
             SELECT gen_random_uuid(), organization_id, 'staff', '{practitioner}', \
             'client.read', 'client', id, id, 'success', NULL, NULL, now(), \
             (SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE organization_id = '{org}') \
             + row_number() OVER (ORDER BY id), '', '' FROM clients \
             WHERE organization_id = '{org}'"
        ),
    ];
    // One transaction, free of the pool's statement timeout: a million rows take longer.
    let txn = db.begin().await.unwrap_or_else(|e| panic!("{e}"));
    txn.execute_unprepared("SET LOCAL statement_timeout = 0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for statement in statements {
        txn.execute_unprepared(&statement)
            .await
            .unwrap_or_else(|e| panic!("{e}: {statement}"));
    }
    txn.commit().await.unwrap_or_else(|e| panic!("{e}"));
    // As autovacuum would leave them: visibility known (index-only scans) and statistics read.
    for table in [
        "products",
        "lots",
        "clients",
        "treatments",
        "treatment_consumables",
        "movements",
        "audit_events",
    ] {
        db.write()
            .execute_unprepared(&format!("VACUUM ANALYZE {table}"))
            .await
            .unwrap_or_else(|e| panic!("{e}: VACUUM ANALYZE {table}"));
    }
}
