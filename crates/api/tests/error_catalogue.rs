//! The error catalogue of `docs/errors.md` and the codes of the product are one list: every
//! code a client can receive has its row, with the HTTP status and gRPC code it really gets,
//! and the catalogue names no code the product does not have.

#![expect(clippy::expect_used, reason = "tests")]

use std::collections::BTreeMap;
use std::path::Path;

use skinledger_api::error::{grpc_code, grpc_code_name, http_status};
use skinledger_app::ErrorCode;

/// The rows of the catalogue table: code → (HTTP status, gRPC code).
fn catalogue() -> BTreeMap<String, (u16, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let text = std::fs::read_to_string(&path).expect("docs/errors.md");
    let table = text
        .split("## Catalogue")
        .nth(1)
        .expect("a Catalogue section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let mut rows = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let code = cells[1].trim_matches('`').to_owned();
        let http: u16 = cells[2].parse().expect("an HTTP status");
        let grpc = cells[3].trim_matches('`').to_owned();
        assert!(
            rows.insert(code.clone(), (http, grpc)).is_none(),
            "`{code}` is listed twice"
        );
        assert!(
            cells[4].len() > 10,
            "`{code}` needs its meaning in the catalogue"
        );
    }
    rows
}

#[test]
fn the_catalogue_lists_every_code_with_its_http_status_and_grpc_code() {
    let documented = catalogue();
    let mut actual = BTreeMap::new();
    for code in ErrorCode::ALL {
        actual.insert(
            code.as_str().to_owned(),
            (
                http_status(code).as_u16(),
                grpc_code_name(grpc_code(code)).to_owned(),
            ),
        );
    }
    let missing: Vec<_> = actual
        .keys()
        .filter(|c| !documented.contains_key(*c))
        .collect();
    let unknown: Vec<_> = documented
        .keys()
        .filter(|c| !actual.contains_key(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from docs/errors.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/errors.md lists codes the product does not have: {unknown:?}"
    );
    for (code, answer) in &actual {
        assert_eq!(
            &documented[code], answer,
            "docs/errors.md gives `{code}` another HTTP status or gRPC code than the product"
        );
    }
}
