//! Seeding the demo on a fresh database, twice.

use skinledger_app::PageParams;
use skinledger_app::auth::TokenGrant;
use skinledger_domain::clinical::TreatmentStatus;
use skinledger_domain::screening::Outcome;

use super::clinical::days_ago;
use super::*;
use crate::Config;

async fn demo_app(dir: &std::path::Path) -> anyhow::Result<App> {
    let config = Config {
        data_dir: dir.into(),
        database_url: format!("sqlite://{}/demo.db?mode=rwc", dir.display()),
        ..Config::default()
    };
    let db = crate::connect(&config).await?;
    crate::migrate(&db).await?;
    let (app, _audit) = crate::app(&config, db)?;
    Ok(app)
}

async fn login(app: &App, email: &str) -> anyhow::Result<Actor> {
    let grant = TokenGrant::Password {
        org: ORG.into(),
        email: email.into(),
        password: PASSWORD.into(),
    };
    let token = app.token(grant, None).await?;
    Ok(app.authenticate(&token.access_token, None).await?)
}

#[tokio::test]
async fn the_demo_shows_every_screening_outcome_treatment_state_and_a_course() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let app = demo_app(dir.path()).await?;
    assert_eq!(seed(&app).await?, Seeded::Created);
    assert_eq!(seed(&app).await?, Seeded::AlreadyThere);

    let physician = login(&app, "physician@demo.test").await?;
    let page = PageParams::default();
    let clients = app.list_clients(&physician, None, &page).await?.items;
    assert_eq!(clients.len(), 7);
    let mut outcomes = Vec::new();
    let mut states = Vec::new();
    let mut courses = Vec::new();
    for client in &clients {
        let screenings = app
            .list_client_screenings(&physician, client.id, &page)
            .await?;
        outcomes.extend(screenings.items.iter().map(|s| s.outcome));
        let treatments = app
            .list_client_treatments(&physician, client.id, &page)
            .await?;
        states.extend(treatments.items.into_iter().map(|t| {
            let amended = t
                .clinical
                .is_some_and(|c| !c.addenda.is_empty() && !c.adverse_events.is_empty());
            (t.status, amended)
        }));
        courses.extend(
            app.list_client_courses(&physician, client.id, &page)
                .await?
                .items,
        );
    }
    for outcome in Outcome::ALL {
        assert!(outcomes.contains(&outcome), "no demo client is {outcome}");
    }
    assert!(states.contains(&(TreatmentStatus::Signed, true)));
    assert!(states.contains(&(TreatmentStatus::Draft, false)));
    assert_eq!(courses.len(), 1);
    assert_eq!(courses[0].progress.sessions_done, 1);
    Ok(())
}

#[tokio::test]
async fn every_demo_login_works_with_the_one_password_hashed_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = demo_app(dir.path()).await?;
    seed(&app).await?;
    for (email, _, _) in LOGINS {
        login(&app, email).await?;
    }
    let org = skinledger_store::orgs::by_slug(app.db().read(), ORG)
        .await?
        .context("the demo organisation")?;
    let mut hashes = Vec::new();
    for (email, _, _) in LOGINS {
        let member = skinledger_store::staff::by_email(app.db().read(), org.id, email)
            .await?
            .context("a demo login")?;
        hashes.push(member.password_hash);
    }
    hashes.dedup();
    assert_eq!(hashes.len(), 1, "one hash for every demo login");
    Ok(())
}

#[tokio::test]
async fn the_demo_stocks_both_clinics_and_its_sessions_consumed_real_units() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = demo_app(dir.path()).await?;
    seed(&app).await?;
    let admin = login(&app, "admin@demo.test").await?;

    let expiring = app.expiring_report(&admin, Some(30)).await?;
    assert_eq!(expiring.len(), 1);
    assert_eq!(expiring[0].lot_number, "DR05-2407");
    assert_eq!(expiring[0].on_hand, 11, "one unit went to a session");
    let low = app.low_stock_report(&admin).await?;
    assert!(
        low.iter()
            .any(|l| l.clinic_name == "Demo Clinic Nord" && l.on_hand == 4)
    );
    let usage = app
        .usage_report(
            &admin,
            &skinledger_app::reports::ReportPeriod {
                from: days_ago(30),
                to: days_ago(0),
                clinic_id: None,
            },
        )
        .await?;
    assert_eq!(usage.iter().map(|l| l.units).sum::<i64>(), 3);
    let clinics = app.list_clinics(&admin, &PageParams::default()).await?;
    for clinic in clinics.items {
        let stock = app.get_clinic_stock(&admin, clinic.id).await?;
        assert!(stock.products.len() >= 2, "{} holds stock", clinic.name);
    }
    Ok(())
}
