//! The commands: help for each, the demo seeded twice, an organisation created twice.

use crate::{run, text};

#[test]
fn every_command_explains_itself_with_help() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["org", "create", "--help"],
        &["demo", "--help"],
    ] {
        let output = run(dir.path(), args);
        assert!(
            output.status.success(),
            "skinledger {args:?} failed: {}",
            text(&output.stderr)
        );
        let help = text(&output.stdout);
        assert!(help.contains("Usage"), "skinledger {args:?}:\n{help}");
    }
    let serve = text(&run(dir.path(), &["serve", "--help"]).stdout);
    assert!(
        serve.contains("--demo") && serve.contains("--config"),
        "{serve}"
    );
    let create = text(&run(dir.path(), &["org", "create", "--help"]).stdout);
    for flag in ["--slug", "--name", "--admin-email", "--admin-password"] {
        assert!(create.contains(flag), "{flag} missing from:\n{create}");
    }
    // Nothing was written by asking for help.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn seeding_the_demo_twice_succeeds_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let first = run(dir.path(), &["demo"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let printed = text(&first.stdout);
    assert!(printed.contains("nurse@demo.test"), "{printed}");
    assert!(printed.contains("demo-password"), "{printed}");
    assert!(dir.path().join("data").is_dir(), "no ./data folder");

    let second = run(dir.path(), &["demo"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("nurse@demo.test"));

    let migrate = run(dir.path(), &["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
}

#[test]
fn creating_an_organisation_twice_with_one_slug_fails_clearly() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let args = [
        "org",
        "create",
        "--slug",
        "glow",
        "--name",
        "Glow Clinics",
        "--admin-email",
        "owner@glow.test",
        "--admin-password",
        "a-long-enough-password",
    ];
    let first = run(dir.path(), &args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("glow"),
        "{}",
        text(&first.stdout)
    );

    let second = run(dir.path(), &args);
    assert!(!second.status.success(), "a duplicate slug was accepted");
    let complaint = text(&second.stderr).to_lowercase();
    assert!(
        complaint.contains("slug") && complaint.contains("exists"),
        "the refusal does not say why:\n{complaint}"
    );

    let weak = run(
        dir.path(),
        &[
            "org",
            "create",
            "--slug",
            "Bad Slug",
            "--name",
            "x",
            "--admin-email",
            "nope",
            "--admin-password",
            "short",
        ],
    );
    assert!(!weak.status.success());
    let complaint = text(&weak.stderr);
    for field in ["slug", "admin_email", "admin_password"] {
        assert!(
            complaint.contains(field),
            "{field} not named in:\n{complaint}"
        );
    }
}
