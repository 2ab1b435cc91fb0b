//! Logging, pretty for a terminal or JSON lines, filtered by `RUST_LOG`; and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, every span
//! exported over OTLP (HTTP/protobuf, the OpenTelemetry default) to that collector.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::LogFormat;

/// What logging and tracing hold until the process ends.
#[derive(Debug, Default)]
#[must_use = "shut it down before the process ends, or the last spans are not exported"]
pub struct Telemetry {
    exporter: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still waiting, then stops exporting.
    pub fn shutdown(self) {
        if let Some(provider) = self.exporter
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "the last spans could not be exported");
        }
    }
}

/// Whether the environment asks for spans to be exported over OTLP.
fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
}

/// The span exporter the standard `OTEL_*` variables describe: endpoint, headers, timeout;
/// batches are sent every `OTEL_BSP_SCHEDULE_DELAY` ms (5 s by default). The service is named
/// `skinledger` unless `OTEL_SERVICE_NAME` says otherwise.
fn otlp_provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "skinledger".to_owned());
    Ok(SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(name).build())
        .with_batch_exporter(exporter)
        .build())
}

/// Colours only for a person at a terminal: a file, a pipe or a log collector gets plain
/// text, and `NO_COLOR` (no-color.org) turns them off everywhere.
fn colours() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. Every line inside a request carries its span, and so its
/// request id and trace id.
pub fn init(format: LogFormat) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    let lines = match format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(colours())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let (exporter, failure) = if otlp_configured() {
        match otlp_provider() {
            Ok(provider) => (Some(provider), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    let spans = exporter
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("skinledger")));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(spans)
        .try_init();
    if let Some(e) = failure {
        tracing::warn!(error = %e, "spans are not exported: the OTLP exporter could not start");
    }
    Telemetry { exporter }
}
