//! Organisations, clinics, staff, roles and API clients over REST and gRPC: what each role may
//! do (read from the matrix in `skinledger-domain`), tenant isolation, paging and the audit log.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod audit_log;
mod management;
mod paging;
mod permissions;
mod retries;
mod tenancy;

use std::collections::BTreeSet;

use skinledger_e2e::Answer;

fn ids(answer: &Answer) -> BTreeSet<String> {
    answer.json()["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", answer.text()))
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}
