//! Faults an operator meets, injected from outside: the SQLite disk fills up and frees again,
//! the file system turns read-only, and the server drains on shutdown while requests keep
//! arriving on new connections.
//!
//! The full disk is a small tmpfs the test mounts (the machine's tests run as root), so that
//! `COMMIT` itself meets `ENOSPC`, as on a real disk.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a step that cannot complete fails the test"
)]

mod flow_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use flow_support::{Rest, new_client};
use serde_json::json;
use skinledger_e2e::{Backend, PASSWORD, TestServer};
use uuid::Uuid;

/// A tmpfs of a few MiB, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).expect("the mount point");
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .status()
            .expect("mount runs");
        assert!(
            mounted.success(),
            "cannot mount a tmpfs at {}: these fault tests need root",
            path.display()
        );
        Self { path, _dir: dir }
    }

    /// Fills every free byte with a file; answers its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("the filler file");
        let chunk = vec![0u8; 16 * 1024];
        while file.write_all(&chunk).is_ok() {}
        for _ in 0..64 {
            let _ = file.write_all(&chunk[..512]);
        }
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// The SQLite URL of a database file on `disk`.
fn sqlite_on(disk: &Path) -> String {
    format!("sqlite://{}/skinledger.db?mode=rwc", disk.display())
}

/// Creates the organisation `glow` over the server's database, as the CLI does; answers the
/// admin's access token.
async fn organisation(server: &TestServer) -> String {
    let db = skinledger::connect(&server.config)
        .await
        .expect("the server's database");
    let (app, audit) = skinledger::app(&server.config, db.clone()).expect("the app");
    app.create_organization(skinledger_app::orgs::NewOrganization {
        slug: "glow".into(),
        name: "Glow clinics".into(),
        admin_email: "admin@glow.test".into(),
        admin_password: PASSWORD.into(),
    })
    .await
    .expect("the organisation");
    drop(app);
    audit.finish().await;
    db.close().await.expect("closed");
    Rest::of(server).login("glow", "admin@glow.test").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_loses_none_acknowledged_and_recovers_without_a_restart() {
    let disk = SmallDisk::mount(6);
    let url = sqlite_on(&disk.path);
    let server = TestServer::start_with(Backend::Sqlite, |c| c.database_url = url.clone()).await;
    let token = organisation(&server).await;
    let api = Rest::of(&server);

    let mut acknowledged: Vec<Uuid> = Vec::new();
    let mut create = async |n: usize, answers: &mut Vec<u16>| {
        let answer = api
            .post(
                "/v1/clients",
                &token,
                &new_client("Disk", &format!("Full{n}")),
            )
            .await;
        let status = answer.status.as_u16();
        if status == 201 {
            acknowledged.push(answer.id());
        } else {
            assert!(
                [503, 507].contains(&status),
                "a write on a full disk answered {status}: {}",
                answer.text()
            );
            assert!(
                ["insufficient_storage", "unavailable"]
                    .contains(&answer.code().as_deref().unwrap_or("")),
                "{}",
                answer.text()
            );
        }
        answers.push(status);
    };
    let mut before = Vec::new();
    for n in 0..5 {
        create(n, &mut before).await;
    }
    assert_eq!(before, vec![201; 5]);

    // The disk fills up: writes are refused, never acknowledged and then lost.
    let filler = disk.fill();
    let mut full = Vec::new();
    for n in 5..40 {
        create(n, &mut full).await;
    }
    assert!(full.contains(&507), "no write met the full disk: {full:?}");

    // Space comes back: writes work again on the same server.
    std::fs::remove_file(&filler).expect("space freed");
    let mut after = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 40;
    while after.iter().filter(|s| **s == 201).count() < 5 {
        assert!(
            Instant::now() < deadline,
            "writes did not recover once space was freed: {after:?}"
        );
        create(n, &mut after).await;
        n += 1;
    }
    server.stop().await;

    // Every write that was acknowledged is there after a restart.
    let server = TestServer::start_with(Backend::Sqlite, |c| c.database_url = url.clone()).await;
    let api = Rest::of(&server);
    let token = api.login("glow", "admin@glow.test").await;
    for id in &acknowledged {
        api.get(&format!("/v1/clients/{id}"), &token)
            .await
            .expect_status(200);
    }
    let listed = api
        .get("/v1/clients?limit=200", &token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(acknowledged.len()),
        "acknowledged {} writes; answers before {before:?}, full {full:?}, after {after:?}",
        acknowledged.len()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_disk_is_not_ready_and_writes_answer_unavailable() {
    let disk = SmallDisk::mount(8);
    let url = sqlite_on(&disk.path);
    let server = TestServer::start_with(Backend::Sqlite, |c| c.database_url = url.clone()).await;
    let token = organisation(&server).await;
    server.stop().await;

    // The file system turns read-only (as ext4 does on errors): the server does not start.
    let remount = |mode: &str| {
        let done = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&disk.path)
            .status()
            .expect("mount runs");
        assert!(done.success(), "cannot remount {mode}");
    };
    remount("ro");
    let config = skinledger::Config {
        database_url: url.clone(),
        ..skinledger::Config::default()
    };
    let refused = skinledger::connect(&config)
        .await
        .expect_err("a read-only database is refused at start");
    assert!(
        refused.to_string().contains("cannot be written"),
        "{refused}"
    );
    remount("rw");
    let server = TestServer::start_with(Backend::Sqlite, |c| c.database_url = url.clone()).await;
    let api = Rest::of(&server);
    api.post("/v1/clients", &token, &new_client("Writable", "Again"))
        .await
        .expect_status(201);
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status.as_u16(), 200, "{}", ready.text());
    assert_eq!(ready.json(), json!({ "status": "ready" }));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_drains_without_dropping_a_request() {
    let mut server = TestServer::start_with(Backend::Sqlite, |c| c.shutdown_grace_secs = 2).await;
    let org = server.create_org("glow").await;
    // Every request on a connection of its own, as from many clients.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let (url, token) = (server.url("/v1/me"), org.admin_token.clone());
    let load = tokio::spawn({
        let fresh = fresh.clone();
        async move {
            let mut answers = Vec::new();
            let until = Instant::now() + Duration::from_millis(1_700);
            while Instant::now() < until {
                let answer = fresh.get(&url).bearer_auth(&token).send().await;
                answers.push(
                    answer
                        .map(|a| a.status().as_u16())
                        .map_err(|e| e.to_string()),
                );
            }
            answers
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Draining: not ready, so a load balancer moves away, but still answering.
    let ready = fresh
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("the server answers while draining");
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["reason"], "shutting down");
    let answers = load.await.expect("the load ran");
    let failed: Vec<_> = answers.iter().filter(|a| !matches!(a, Ok(200))).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed during the drain: {failed:?}",
        failed.len(),
        answers.len()
    );
    assert!(answers.len() > 10, "{answers:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_migrating_one_empty_postgres_at_once_both_start() {
    if !skinledger_e2e::postgres_or_skip(
        "two_servers_migrating_one_empty_postgres_at_once_both_start",
    ) {
        return;
    }
    for _ in 0..3 {
        let empty = skinledger_store::testing::TestDb::postgres_empty()
            .await
            .expect("SKINLEDGER_TEST_POSTGRES_URL is set");
        let url = empty.url.clone();
        let (a, b) = tokio::join!(
            TestServer::start_with(Backend::Postgres, |c| c.database_url = url.clone()),
            TestServer::start_with(Backend::Postgres, |c| c.database_url = url.clone()),
        );
        for server in [&a, &b] {
            server.get("/readyz", None).await.expect_status(200);
        }
        a.stop().await;
        b.stop().await;
    }
}
