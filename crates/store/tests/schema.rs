//! The schema the migrations build and the entities the queries use are one: on a freshly
//! migrated database of each backend, every entity's table has exactly the entity's columns,
//! each with a matching type and nullability, and every table the migrations create has its
//! entity.

#![expect(clippy::expect_used, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::ColumnType;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Statement,
};
use skinledger_store::Db;
use skinledger_store::entities::*;

skinledger_store::on_both_backends!(every_table_and_column_matches_its_entity);

/// Columns by name: their type family and whether they take NULL.
type Columns = BTreeMap<String, (String, bool)>;

/// An entity's table and columns as it declares them.
fn declared<E: EntityTrait>() -> (String, Columns) {
    let table = E::default().table_name().to_owned();
    let columns = E::Column::iter()
        .map(|c| {
            let def = c.def();
            (
                c.as_str().to_owned(),
                (type_family(def.get_column_type()).to_owned(), def.is_null()),
            )
        })
        .collect();
    (table, columns)
}

/// The family of an entity's column type, comparable with both backends' names.
fn type_family(t: &ColumnType) -> &'static str {
    match t {
        ColumnType::Uuid => "uuid",
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => "text",
        ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => "integer",
        ColumnType::BigInteger => "bigint",
        ColumnType::Boolean => "boolean",
        ColumnType::Date => "date",
        ColumnType::TimestampWithTimeZone | ColumnType::DateTime | ColumnType::Timestamp => {
            "timestamp"
        }
        ColumnType::Json | ColumnType::JsonBinary => "json",
        ColumnType::Double | ColumnType::Float | ColumnType::Decimal(_) => "number",
        _ => "other",
    }
}

/// The family of a type as the database names it.
fn db_family(backend: DbBackend, raw: &str) -> &'static str {
    let raw = raw.to_ascii_lowercase();
    let raw = raw.as_str();
    if backend == DbBackend::Postgres {
        return match raw {
            "uuid" => "uuid",
            "text" | "character varying" | "character" => "text",
            "integer" | "smallint" => "integer",
            "bigint" => "bigint",
            "boolean" => "boolean",
            "date" => "date",
            "timestamp with time zone" | "timestamp without time zone" => "timestamp",
            "json" | "jsonb" => "json",
            "double precision" | "real" | "numeric" => "number",
            _ => "other",
        };
    }
    // SQLite keeps the type name the migration declared.
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| raw.starts_with(p));
    if starts(&["uuid"]) {
        "uuid"
    } else if starts(&["varchar", "text", "char", "string"]) {
        "text"
    } else if starts(&["bigint", "big_integer"]) {
        "bigint"
    } else if raw.contains("int") {
        "integer"
    } else if starts(&["bool"]) {
        "boolean"
    } else if starts(&["date_text"]) || raw == "date" {
        "date"
    } else if raw.contains("timestamp") || raw.contains("datetime") {
        "timestamp"
    } else if starts(&["json"]) {
        "json"
    } else if ["real", "double", "float", "decimal"]
        .iter()
        .any(|k| raw.contains(k))
    {
        "number"
    } else {
        "other"
    }
}

/// Every table the migrations made, with its columns, as the database describes them.
async fn actual(db: &Db) -> BTreeMap<String, Columns> {
    let conn = db.read();
    let backend = conn.get_database_backend();
    let query = |sql: String| conn.query_all_raw(Statement::from_string(backend, sql));
    let mut tables: BTreeMap<String, Columns> = BTreeMap::new();
    if backend == DbBackend::Postgres {
        let rows = query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type, is_nullable::text AS is_nullable \
             FROM information_schema.columns WHERE table_schema = current_schema()"
                .to_owned(),
        )
        .await
        .expect("the catalogue");
        for row in rows {
            let table: String = row.try_get("", "table_name").expect("table_name");
            let column: String = row.try_get("", "column_name").expect("column_name");
            let kind: String = row.try_get("", "data_type").expect("data_type");
            let nullable: String = row.try_get("", "is_nullable").expect("is_nullable");
            tables.entry(table).or_default().insert(
                column,
                (db_family(backend, &kind).to_owned(), nullable == "YES"),
            );
        }
    } else {
        let names = query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                .to_owned(),
        )
        .await
        .expect("the tables");
        for row in names {
            let table: String = row.try_get("", "name").expect("name");
            let columns = query(format!(
                "SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info('{table}')"
            ))
            .await
            .expect("the columns");
            let entry = tables.entry(table).or_default();
            for c in columns {
                let name: String = c.try_get("", "name").expect("name");
                let kind: String = c.try_get("", "type").expect("type");
                let not_null: i32 = c.try_get("", "not_null").expect("notnull");
                let pk: i32 = c.try_get("", "pk").expect("pk");
                entry.insert(
                    name,
                    (
                        db_family(backend, &kind).to_owned(),
                        not_null == 0 && pk == 0,
                    ),
                );
            }
        }
    }
    // The migrator's own bookkeeping has no entity.
    tables.remove("seaql_migrations");
    tables
}

async fn every_table_and_column_matches_its_entity(db: Db) {
    let entities = [
        declared::<adverse_event::Entity>(),
        declared::<api_client::Entity>(),
        declared::<audit_event::Entity>(),
        declared::<client::Entity>(),
        declared::<clinic::Entity>(),
        declared::<clinic_reorder_point::Entity>(),
        declared::<course::Entity>(),
        declared::<event::Entity>(),
        declared::<event_sequence::Entity>(),
        declared::<idempotency_key::Entity>(),
        declared::<login_failure::Entity>(),
        declared::<lot::Entity>(),
        declared::<movement::Entity>(),
        declared::<organization::Entity>(),
        declared::<policy::Entity>(),
        declared::<product::Entity>(),
        declared::<refresh_token::Entity>(),
        declared::<screening::Entity>(),
        declared::<screening_clearance::Entity>(),
        declared::<staff::Entity>(),
        declared::<staff_role::Entity>(),
        declared::<stock::Entity>(),
        declared::<transfer::Entity>(),
        declared::<transfer_line::Entity>(),
        declared::<treatment::Entity>(),
        declared::<treatment_addendum::Entity>(),
        declared::<treatment_consumable::Entity>(),
        declared::<unit::Entity>(),
        declared::<webhook::Entity>(),
        declared::<webhook_attempt::Entity>(),
        declared::<webhook_delivery::Entity>(),
    ];
    let actual = actual(&db).await;
    // SQLite's INTEGER holds 64 bits: it has one integer type where PostgreSQL has two.
    let sqlite = db.backend() == DbBackend::Sqlite;
    let fold = |kind: &str| -> String {
        if sqlite && kind == "bigint" {
            "integer".to_owned()
        } else {
            kind.to_owned()
        }
    };
    let mut problems = Vec::new();
    let declared_tables: BTreeSet<&str> = entities.iter().map(|(t, _)| t.as_str()).collect();
    for table in actual.keys() {
        if !declared_tables.contains(table.as_str()) {
            problems.push(format!("table {table} has no entity"));
        }
    }
    for (table, columns) in &entities {
        let Some(found) = actual.get(table) else {
            problems.push(format!("entity {table} has no table"));
            continue;
        };
        for (name, (kind, nullable)) in columns {
            match found.get(name) {
                None => problems.push(format!("{table}.{name}: declared, not in the table")),
                Some((db_kind, db_nullable)) => {
                    if fold(db_kind) != fold(kind) {
                        problems.push(format!(
                            "{table}.{name}: entity type {kind}, database type {db_kind}"
                        ));
                    }
                    if db_nullable != nullable {
                        problems.push(format!(
                            "{table}.{name}: the entity {} NULL, the table {}",
                            if *nullable { "takes" } else { "refuses" },
                            if *db_nullable {
                                "takes it"
                            } else {
                                "refuses it"
                            }
                        ));
                    }
                }
            }
        }
        for name in found.keys() {
            if !columns.contains_key(name) {
                problems.push(format!("{table}.{name}: in the table, not in the entity"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the schema and the entities differ:\n{}",
        problems.join("\n")
    );
}
