//! The FHIR routes: each authenticates, calls the app's use cases, maps the answer to FHIR
//! resources and answers them as `application/fhir+json`; refusals are `OperationOutcome`s.

use std::collections::HashMap;

use axum::extract::State;
use fhir_model::r4b::resources::{Bundle, CapabilityStatement, Device, Patient, Resource};
use skinledger_app::treatments::Treatment;
use skinledger_app::{Actor, App};

use super::adverse_event::adverse_events;
use super::capability::capability_statement;
use super::device::DeviceFacts;
use super::outcome::{FhirCaller, FhirId, FhirResult, SearchParams};
use super::patient::{consents, patient};
use super::procedure::{Lots, procedure};
use super::{FhirJson, searchset};

/// What the server serves: the `CapabilityStatement` (no token needed; it holds no data).
#[utoipa::path(get, path = "/fhir/R4/metadata", tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = super::FhirResourceDoc)))]
#[tracing::instrument(skip_all)]
pub async fn metadata() -> FhirResult<FhirJson<CapabilityStatement>> {
    Ok(FhirJson(capability_statement()?))
}

/// A client as a `Patient` (any role; audited as `client.read`).
#[utoipa::path(get, path = "/fhir/R4/Patient/{id}", tag = "fhir", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The Patient", content_type = "application/fhir+json", body = super::FhirResourceDoc)))]
#[tracing::instrument(skip_all)]
pub async fn read_patient(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    FhirId(id): FhirId,
) -> FhirResult<FhirJson<Patient>> {
    let client = app.get_client(&actor, id).await?;
    Ok(FhirJson(patient(&client)?))
}

/// Every lot (with its product) of the devices the full records among `treatments` consumed.
async fn lots_of(app: &App, actor: &Actor, treatments: &[Treatment]) -> FhirResult<Lots> {
    let mut lots = Lots::new();
    let mut products = HashMap::new();
    for unit in treatments
        .iter()
        .filter_map(|t| t.clinical.as_ref())
        .flat_map(|c| c.consumables.iter())
    {
        if lots.contains_key(&unit.lot_id) {
            continue;
        }
        let lot = app.get_lot(actor, unit.lot_id).await?;
        let product = match products.get(&unit.product_id) {
            Some(product) => Clone::clone(product),
            None => {
                let product = app.get_product(actor, unit.product_id).await?;
                products.insert(unit.product_id, product.clone());
                product
            }
        };
        lots.insert(unit.lot_id, (lot, product));
    }
    Ok(lots)
}

/// The lots of `lots` as `Device`s, in lot id order.
fn devices(lots: &Lots) -> FhirResult<Vec<Device>> {
    let mut ids: Vec<_> = lots.keys().copied().collect();
    ids.sort_unstable();
    ids.iter()
        .filter_map(|id| lots.get(id))
        .map(|(lot, product)| Ok(DeviceFacts { lot, product }.lot_device()?))
        .collect()
}

/// The client with everything the caller may see of their record, as a `searchset` `Bundle`:
/// the `Patient`, every treatment as a `Procedure` (in full for roles that read clinical
/// content at its clinic), the lot of every device those consumed as a `Device`, the adverse
/// events after them, and the `Consent`s. Audited as `client.read` and `treatment.list`.
#[utoipa::path(get, path = "/fhir/R4/Patient/{id}/$everything", tag = "fhir", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = super::FhirResourceDoc)))]
#[tracing::instrument(skip_all)]
pub async fn patient_everything(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    FhirId(id): FhirId,
) -> FhirResult<FhirJson<Bundle>> {
    let client = app.get_client(&actor, id).await?;
    let treatments = app.all_client_treatments(&actor, id).await?;
    let lots = lots_of(&app, &actor, &treatments).await?;
    let mut resources = vec![Resource::Patient(patient(&client)?)];
    for treatment in &treatments {
        resources.push(Resource::Procedure(procedure(treatment, &lots)?));
    }
    resources.extend(devices(&lots)?.into_iter().map(Resource::Device));
    resources.extend(
        adverse_events(&treatments)?
            .into_iter()
            .map(Resource::AdverseEvent),
    );
    resources.extend(consents(&client)?.into_iter().map(Resource::Consent));
    Ok(FhirJson(searchset(resources)?))
}

/// A client's treatments as `Procedure`s, oldest first, in one `searchset` `Bundle`: in full
/// for roles that read clinical content at the treatment's clinic, otherwise who, where, when
/// and status only (labelled `REDACTED`). Audited as `treatment.list`.
#[utoipa::path(get, path = "/fhir/R4/Procedure", tag = "fhir", security(("bearer" = [])),
    params(("patient" = String, Query, description = "The client: `{id}` or `Patient/{id}`")),
    responses((status = 200, description = "A searchset Bundle of Procedures", content_type = "application/fhir+json", body = super::FhirResourceDoc),
        (status = 400, description = "No `patient`, or a search parameter the server does not support", content_type = "application/fhir+json", body = super::OperationOutcomeDoc),
        (status = 404, description = "No such client in the caller's organisation", content_type = "application/fhir+json", body = super::OperationOutcomeDoc)))]
#[tracing::instrument(skip_all)]
pub async fn search_procedures(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    params: SearchParams,
) -> FhirResult<FhirJson<Bundle>> {
    let client = params.patient("patient")?;
    let treatments = app.all_client_treatments(&actor, client).await?;
    let lots = lots_of(&app, &actor, &treatments).await?;
    let resources = treatments
        .iter()
        .map(|t| Ok(Resource::Procedure(procedure(t, &lots)?)))
        .collect::<FhirResult<Vec<_>>>()?;
    Ok(FhirJson(searchset(resources)?))
}

/// A lot of single-use devices as a `Device`: the id is the lot's (any role, as the lot is).
#[utoipa::path(get, path = "/fhir/R4/Device/{id}", tag = "fhir", params(("id" = uuid::Uuid, Path, description = "The lot's id")), security(("bearer" = [])),
    responses((status = 200, description = "The Device", content_type = "application/fhir+json", body = super::FhirResourceDoc)))]
#[tracing::instrument(skip_all)]
pub async fn read_device(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    FhirId(id): FhirId,
) -> FhirResult<FhirJson<Device>> {
    let lot = app.get_lot(&actor, id).await?;
    let product = app.get_product(&actor, lot.lot.product_id).await?;
    Ok(FhirJson(
        DeviceFacts {
            lot: &lot,
            product: &product,
        }
        .lot_device()?,
    ))
}

/// The adverse events after a client's treatments, in one `searchset` `Bundle` (roles that
/// read clinical content; those of treatments at clinics where the caller does not are left
/// out). Audited as `adverse_event.list`.
#[utoipa::path(get, path = "/fhir/R4/AdverseEvent", tag = "fhir", security(("bearer" = [])),
    params(("subject" = String, Query, description = "The client: `{id}` or `Patient/{id}`")),
    responses((status = 200, description = "A searchset Bundle of AdverseEvents", content_type = "application/fhir+json", body = super::FhirResourceDoc),
        (status = 400, description = "No `subject`, or a search parameter the server does not support", content_type = "application/fhir+json", body = super::OperationOutcomeDoc),
        (status = 404, description = "No such client in the caller's organisation", content_type = "application/fhir+json", body = super::OperationOutcomeDoc)))]
#[tracing::instrument(skip_all)]
pub async fn search_adverse_events(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    params: SearchParams,
) -> FhirResult<FhirJson<Bundle>> {
    let client = params.patient("subject")?;
    let treatments = app.client_adverse_events(&actor, client).await?;
    let resources = adverse_events(&treatments)?
        .into_iter()
        .map(Resource::AdverseEvent)
        .collect();
    Ok(FhirJson(searchset(resources)?))
}

/// A client's consents, in one `searchset` `Bundle` (any role, as the client record is;
/// audited as `client.read`).
#[utoipa::path(get, path = "/fhir/R4/Consent", tag = "fhir", security(("bearer" = [])),
    params(("patient" = String, Query, description = "The client: `{id}` or `Patient/{id}`")),
    responses((status = 200, description = "A searchset Bundle of Consents", content_type = "application/fhir+json", body = super::FhirResourceDoc),
        (status = 400, description = "No `patient`, or a search parameter the server does not support", content_type = "application/fhir+json", body = super::OperationOutcomeDoc),
        (status = 404, description = "No such client in the caller's organisation", content_type = "application/fhir+json", body = super::OperationOutcomeDoc)))]
#[tracing::instrument(skip_all)]
pub async fn search_consents(
    State(app): State<App>,
    FhirCaller(actor): FhirCaller,
    params: SearchParams,
) -> FhirResult<FhirJson<Bundle>> {
    let id = params.patient("patient")?;
    let client = app.get_client(&actor, id).await?;
    let resources = consents(&client)?
        .into_iter()
        .map(Resource::Consent)
        .collect();
    Ok(FhirJson(searchset(resources)?))
}
