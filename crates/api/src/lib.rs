//! skinledger's transports: REST (axum) and gRPC (tonic) on one port, both thin adapters over
//! the use cases of `skinledger-app`.

pub mod common;
pub mod contract;
pub mod edge;
pub mod error;
pub mod fhir;
pub mod grpc;
pub mod metrics;
pub mod ops;
pub mod rest;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::get;
use skinledger_app::{App, Error};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::grpc::pb;

/// Transport settings.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The largest request body accepted, in bytes (REST bodies and gRPC messages).
    pub body_limit: usize,
    /// The longest a request body may pause between two chunks before the request is
    /// answered 408.
    pub body_read_timeout: std::time::Duration,
    /// Whether answers carry `Strict-Transport-Security` (clients reach the server over HTTPS).
    pub hsts: bool,
    /// Proxies in front of the server whose `X-Forwarded-For` entries are believed.
    pub trusted_proxy_hops: u8,
    /// Whether `/metrics` and gRPC reflection are served only on the operations router, not
    /// with the API.
    pub ops_apart: bool,
}

/// The body limit, visible to extractors so that a 413 can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The OpenAPI document of every REST route.
pub fn openapi() -> serde_json::Value {
    let generated = serde_json::to_value(rest::router().split_for_parts().1).unwrap_or_default();
    contract::complete(generated)
}

/// The served routers, and the task that keeps gRPC health in step with readiness (stopped
/// when this is dropped).
pub struct Service {
    /// REST, gRPC, health and documentation on one port; metrics and gRPC reflection too
    /// unless they are kept apart.
    pub router: Router,
    /// Health, metrics and gRPC reflection, for a separate operations address.
    pub ops: Router,
    health: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.health.abort();
    }
}

/// How often gRPC health is brought in step with readiness.
const HEALTH_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Builds the service: REST under `/v1`, gRPC services, health, metrics and documentation.
pub async fn service(
    app: App,
    settings: &ApiSettings,
) -> Result<Service, Box<dyn std::error::Error + Send + Sync>> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let (router, ops) = router(app.clone(), settings, health_service).await?;
    // `grpc.health.v1` says what `/readyz` says: NOT_SERVING while the database cannot be
    // reached or written, and while the server shuts down.
    let report = async move |health: &tonic_health::server::HealthReporter, ready: bool| {
        let status = if ready {
            tonic_health::ServingStatus::Serving
        } else {
            tonic_health::ServingStatus::NotServing
        };
        for name in grpc_services() {
            health.set_service_status(name, status).await;
        }
    };
    let check = async |app: &App| {
        tokio::time::timeout(HEALTH_EVERY, app.ready())
            .await
            .unwrap_or(false)
    };
    // Every service has a status before the first request can ask for it.
    let mut was = check(&app).await;
    report(&health_reporter, was).await;
    let health = tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEALTH_EVERY).await;
            let ready = check(&app).await;
            if was != ready {
                report(&health_reporter, ready).await;
                was = ready;
            }
        }
    });
    Ok(Service {
        router,
        ops,
        health,
    })
}

/// The names gRPC health answers for: the server as a whole (`""`) and each service.
fn grpc_services() -> [&'static str; 10] {
    use tonic::server::NamedService;
    [
        "",
        <pb::auth_service_server::AuthServiceServer<grpc::auth::AuthGrpc>>::NAME,
        <pb::organization_service_server::OrganizationServiceServer<
            grpc::organization::OrganizationGrpc,
        >>::NAME,
        <pb::audit_service_server::AuditServiceServer<grpc::audit::AuditGrpc>>::NAME,
        <pb::client_service_server::ClientServiceServer<grpc::clients::ClientGrpc>>::NAME,
        <pb::treatment_service_server::TreatmentServiceServer<grpc::treatments::TreatmentGrpc>>::NAME,
        <pb::inventory_service_server::InventoryServiceServer<grpc::inventory::InventoryGrpc>>::NAME,
        <pb::report_service_server::ReportServiceServer<grpc::reports::ReportGrpc>>::NAME,
        <pb::event_service_server::EventServiceServer<grpc::events::EventGrpc>>::NAME,
        <pb::webhook_service_server::WebhookServiceServer<grpc::webhooks::WebhookGrpc>>::NAME,
    ]
}

async fn router(
    app: App,
    settings: &ApiSettings,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> Result<(Router, Router), Box<dyn std::error::Error + Send + Sync>> {
    let rest = rest::router().split_for_parts().0;
    let openapi_json = serde_json::to_string(&openapi())?;

    let probes = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    // What tells an outsider about the server's insides: kept to the operations address when
    // one is configured.
    let metrics =
        |app: App| Router::new().route("/metrics", get(move || metrics::render(app.clone())));
    let documents = Router::new().route(
        "/openapi.json",
        get(move || async move { ([("content-type", "application/json")], openapi_json) }),
    );

    let grpc = grpc_router(app.clone(), settings, health_service, !settings.ops_apart)?;
    let mut router = rest
        .merge(probes.clone())
        .merge(documents)
        .with_state(app.clone())
        .merge(docs())
        .merge(grpc);
    if !settings.ops_apart {
        router = router.merge(metrics(app.clone()));
    }
    let headers = edge::HeaderSettings {
        hsts: settings.hsts,
    };
    let router = router
        .method_not_allowed_fallback(|uri: http::Uri| async move {
            refusal(&uri, Error::MethodNotAllowed)
        })
        .route_layer(axum::middleware::from_fn(rest::etag::not_modified))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(|method: http::Method, uri: http::Uri| async move {
            metrics::unmatched(&method);
            refusal(&uri, Error::NotFound("route"))
        })
        .layer(
            ServiceBuilder::new()
                // gzip or brotli when Accept-Encoding asks; never gRPC (it compresses its own
                // messages), nor tiny answers.
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn_with_state(
                    headers,
                    edge::security_headers,
                ))
                .layer(axum::middleware::from_fn(edge::request_ids))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .headers()
                            .get(common::REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        let span = tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %request_id,
                            trace_id = tracing::field::Empty,
                            org = tracing::field::Empty,
                            principal = tracing::field::Empty,
                        );
                        edge::join_trace(&span, request.headers());
                        span
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn_with_state(
                    settings.trusted_proxy_hops,
                    edge::caller_address,
                ))
                .layer(axum::Extension(BodyLimit(settings.body_limit)))
                .layer(DefaultBodyLimit::max(settings.body_limit))
                .layer(RequestBodyTimeoutLayer::new(settings.body_read_timeout)),
        );
    let ops = probes
        .with_state(app.clone())
        .merge(metrics(app))
        .merge(with_reflection(tonic::service::Routes::default())?.into_axum_router())
        .fallback(|| async { ApiError(Error::NotFound("route")) })
        .layer(axum::middleware::from_fn_with_state(
            headers,
            edge::security_headers,
        ));
    let _ = metrics::handle();
    Ok((router, ops))
}

/// A refusal of the router itself (no such path, or not this method): an `OperationOutcome`
/// under `/fhir/`, a problem document everywhere else.
fn refusal(uri: &http::Uri, error: Error) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/fhir/") {
        fhir::outcome::FhirError(error).into_response()
    } else {
        ApiError(error).into_response()
    }
}

/// The API reference at `/docs`: Swagger UI, served from the server itself (its files are
/// built into the binary), reading `/openapi.json`; it asks no other host for anything.
fn docs() -> Router {
    let config = utoipa_swagger_ui::Config::from("/openapi.json")
        .validator_url("none")
        .try_it_out_enabled(true)
        .persist_authorization(false);
    SwaggerUi::new("/docs").config(config).into()
}

/// Adds gRPC server reflection (v1 and v1alpha), for tools such as grpcurl.
fn with_reflection(
    routes: tonic::service::Routes,
) -> Result<tonic::service::Routes, Box<dyn std::error::Error + Send + Sync>> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    Ok(routes.add_service(reflection).add_service(reflection_alpha))
}

fn grpc_router(
    app: App,
    settings: &ApiSettings,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    reflection: bool,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    use pb::audit_service_server::AuditServiceServer;
    use pb::auth_service_server::AuthServiceServer;
    use pb::client_service_server::ClientServiceServer;
    use pb::event_service_server::EventServiceServer;
    use pb::inventory_service_server::InventoryServiceServer;
    use pb::organization_service_server::OrganizationServiceServer;
    use pb::report_service_server::ReportServiceServer;
    use pb::treatment_service_server::TreatmentServiceServer;
    use pb::webhook_service_server::WebhookServiceServer;

    let limit = settings.body_limit;
    let mut routes = tonic::service::Routes::new(health_service);
    if reflection {
        routes = with_reflection(routes)?;
    }
    let routes = routes
        .add_service(
            AuthServiceServer::new(grpc::auth::AuthGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            OrganizationServiceServer::new(grpc::organization::OrganizationGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            ClientServiceServer::new(grpc::clients::ClientGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            TreatmentServiceServer::new(grpc::treatments::TreatmentGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            InventoryServiceServer::new(grpc::inventory::InventoryGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            ReportServiceServer::new(grpc::reports::ReportGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            EventServiceServer::new(grpc::events::EventGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            WebhookServiceServer::new(grpc::webhooks::WebhookGrpc(app.clone()))
                .max_decoding_message_size(limit),
        )
        .add_service(
            AuditServiceServer::new(grpc::audit::AuditGrpc(app)).max_decoding_message_size(limit),
        );
    Ok(routes
        .into_axum_router()
        .layer(axum::middleware::from_fn(grpc::limits::payload_too_large)))
}
