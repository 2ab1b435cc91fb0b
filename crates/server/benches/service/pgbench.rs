//! `pgbench`, for the floors of the read and of the treatment write: [`tps`] runs a script,
//! [`statement_script`] makes one of the read's `SELECT` as the driver sent it, and [`script`]
//! one of the statements one `create_treatment` sent, as the driver sent them, to replay it on
//! the same database.
//!
//! One write is recorded through [`skinledger_store::Db::observing`]. Each statement keeps its
//! text and its parameters (bound by pgbench, prepared, as the driver binds them), except what
//! is new in every write:
//! - an id the write made (a UUIDv7 from after the recording began) becomes
//!   `replay_uuid(:n, k)`, the `k`-th new id of the `n`-th replayed write;
//! - the client treated becomes the `n`-th of a set of clients screened for it;
//! - an instant from after the recording began becomes `now()`.
//!
//! Each replayed write then takes a roller from the same lot, under the same organisation's
//! journal row, as the server's writes do. Sequence numbers are replayed as recorded, so the
//! two sequence indexes lose their uniqueness in this database for the replay.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use skinledger_store::sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder, Value};
use skinledger_store::sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

/// One write's statements, made ready for pgbench: the script, and the constants it binds.
pub struct Script {
    /// pgbench's script: one transaction.
    pub text: String,
    /// `-D name=value` for every constant parameter.
    pub constants: Vec<(String, String)>,
    /// Statements in the transaction, `BEGIN` and `COMMIT` left out.
    pub statements: usize,
}

/// One statement as the driver sent it, made ready for pgbench: the statement alone (no
/// transaction), every parameter bound from a constant, as the driver binds it.
pub fn statement_script(recorded: &Statement) -> Script {
    let mut constants = Vec::new();
    let sql = replayed_sql(
        0,
        recorded,
        DateTime::<Utc>::MAX_UTC,
        Uuid::nil(),
        &mut Vec::new(),
        &mut constants,
    );
    Script {
        text: format!("{sql};\n"),
        constants,
        statements: 1,
    }
}

/// What a recorded value becomes in the script.
enum Replayed {
    /// A parameter bound from a constant.
    Constant(String),
    /// SQL in place of the parameter.
    Sql(String),
}

/// Turns the statements `recorded` by one write that began at `began`, treating `client`, into
/// a script where write `:n` treats the `n`-th client of `replay_clients`.
pub fn script(recorded: &[Statement], began: DateTime<Utc>, client: Uuid) -> Script {
    let mut new_ids: Vec<Uuid> = Vec::new();
    let mut text = String::from("\\set i :i + 1\n\\set n :client_id * 1000000 + :i\nBEGIN;\n");
    let mut constants = Vec::new();
    for (s, statement) in recorded.iter().enumerate() {
        let sql = replayed_sql(s, statement, began, client, &mut new_ids, &mut constants);
        let _ = writeln!(text, "{sql};");
    }
    text.push_str("COMMIT;\n");
    Script {
        text,
        constants,
        statements: recorded.len(),
    }
}

/// The `s`-th recorded statement's SQL with each parameter replaced: by SQL where the value is
/// new in every write (see [`replay_value`]), by a pgbench variable `:c{s}_{p}` bound from a
/// constant (added to `constants`) otherwise.
fn replayed_sql(
    s: usize,
    statement: &Statement,
    began: DateTime<Utc>,
    client: Uuid,
    new_ids: &mut Vec<Uuid>,
    constants: &mut Vec<(String, String)>,
) -> String {
    let values = statement
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let replayed: Vec<Replayed> = values
        .iter()
        .map(|value| replay_value(value, began, client, new_ids))
        .collect();
    substitute(&statement.sql, |p| match replayed.get(p - 1) {
        Some(Replayed::Sql(sql)) => sql.clone(),
        Some(Replayed::Constant(value)) => {
            let name = format!("c{s}_{p}");
            constants.push((name.clone(), value.clone()));
            format!(":{name}")
        }
        None => format!("${p}"),
    })
}

fn replay_value(
    value: &Value,
    began: DateTime<Utc>,
    client: Uuid,
    new_ids: &mut Vec<Uuid>,
) -> Replayed {
    match value {
        Value::Uuid(Some(id)) if *id == client => {
            Replayed::Sql("(SELECT id FROM replay_clients WHERE n = :n)".into())
        }
        Value::Uuid(Some(id)) if made_after(id, began) => {
            let k = new_ids
                .iter()
                .position(|known| known == id)
                .unwrap_or_else(|| {
                    new_ids.push(*id);
                    new_ids.len() - 1
                });
            Replayed::Sql(format!("replay_uuid(:n, {k})"))
        }
        Value::ChronoDateTimeUtc(Some(at)) if *at >= began => Replayed::Sql("now()".into()),
        _ => {
            let literal = PostgresQueryBuilder.value_to_string(value);
            match literal.as_str() {
                "NULL" => Replayed::Sql("NULL".into()),
                "TRUE" => Replayed::Constant("true".into()),
                "FALSE" => Replayed::Constant("false".into()),
                quoted
                    if quoted.starts_with('\'') && quoted.ends_with('\'') && quoted.len() >= 2 =>
                {
                    Replayed::Constant(quoted[1..quoted.len() - 1].replace("''", "'"))
                }
                // E'...' strings (with backslashes) and the like stay literal SQL.
                other if other.contains('\'') => Replayed::Sql(other.to_owned()),
                number => Replayed::Constant(number.to_owned()),
            }
        }
    }
}

/// Whether `id` is a UUIDv7 made at or after `began`.
fn made_after(id: &Uuid, began: DateTime<Utc>) -> bool {
    id.get_version_num() == 7
        && id.get_timestamp().is_some_and(|t| {
            let (secs, nanos) = t.to_unix();
            let millis = secs.saturating_mul(1000) + u64::from(nanos / 1_000_000);
            i64::try_from(millis).is_ok_and(|m| m >= began.timestamp_millis())
        })
}

/// `sql` with every `$n` placeholder replaced by `with(n)`.
fn substitute(sql: &str, mut with: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(p) => out.push_str(&with(p)),
            Err(_) => out.push('$'),
        }
    }
    out
}

/// Prepares the database for the replay: the clients each replayed write treats, a function for
/// the ids a write makes, and the sequence indexes without their uniqueness.
pub async fn prepare(db: &impl ConnectionTrait, clients: &[(i64, Uuid)]) {
    let backend = db.get_database_backend();
    let mut statements = vec![
        "CREATE TABLE replay_clients (n bigint PRIMARY KEY, id uuid NOT NULL)".to_owned(),
        "CREATE FUNCTION replay_uuid(n bigint, k int) RETURNS uuid LANGUAGE sql IMMUTABLE AS \
         $$ SELECT (lpad(to_hex(n), 16, '0') || lpad(to_hex(k), 16, '0'))::uuid $$"
            .to_owned(),
        "DROP INDEX ux_audit_events_org_seq".to_owned(),
        "CREATE INDEX ux_audit_events_org_seq ON audit_events (organization_id, seq)".to_owned(),
        "DROP INDEX ux_events_org_seq".to_owned(),
        "CREATE INDEX ux_events_org_seq ON events (organization_id, seq)".to_owned(),
    ];
    for chunk in clients.chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(n, id)| format!("({n}, '{id}')"))
            .collect();
        statements.push(format!(
            "INSERT INTO replay_clients (n, id) VALUES {}",
            rows.join(", ")
        ));
    }
    statements.push("ANALYZE replay_clients".to_owned());
    for sql in statements {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .expect("the replay's preparation");
    }
}

/// Transactions per second of `script` run by `pgbench` on `url` (prepared statements, two
/// threads) with `arguments` added (clients, length, variables), or why there is none.
pub async fn tps(url: &str, script: &str, arguments: &[String]) -> Result<f64, String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), script).map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(arguments)
        .arg("-f")
        .arg(file.path())
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("pgbench: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let failed = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || failed.contains("error") {
        return Err(format!("pgbench failed: {failed}"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| format!("no tps in {text}"))
}

/// `script` run by `in_flight` clients for `seconds`, its constants bound: transactions per
/// second.
pub async fn run_for(
    url: &str,
    script: &Script,
    in_flight: usize,
    seconds: u32,
) -> Result<f64, String> {
    let arguments = vec![
        "-c".to_owned(),
        in_flight.to_string(),
        "-T".to_owned(),
        seconds.to_string(),
    ];
    run_with_constants(url, script, arguments).await
}

/// `script` run with `arguments` and its constants bound (`-D`): transactions per second.
async fn run_with_constants(
    url: &str,
    script: &Script,
    mut arguments: Vec<String>,
) -> Result<f64, String> {
    for (name, value) in &script.constants {
        arguments.push("-D".to_owned());
        arguments.push(format!("{name}={value}"));
    }
    tps(url, &script.text, &arguments).await
}

/// The replayed writes' transactions per second: `per_client` writes on each of `in_flight`
/// connections.
pub async fn replay(
    url: &str,
    script: &Script,
    in_flight: usize,
    per_client: usize,
) -> Result<f64, String> {
    let arguments = vec![
        "-c".to_owned(),
        in_flight.to_string(),
        "-t".to_owned(),
        per_client.to_string(),
        "-D".to_owned(),
        "i=0".to_owned(),
    ];
    run_with_constants(url, script, arguments).await
}
