//! Settings from the environment, and the latencies and rates of a measured run.

use std::time::{Duration, Instant};

use futures::StreamExt;

/// A setting from the environment, or its default.
pub(crate) fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn concurrency() -> usize {
    setting("BENCH_CONCURRENCY", 32)
}

pub(crate) struct Figures {
    pub(crate) label: String,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) wall: Duration,
}

impl Figures {
    pub(crate) fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    pub(crate) fn at(&mut self, quantile: f64) -> Duration {
        self.latencies.sort();
        let n = self.latencies.len().max(1);
        self.latencies[((n as f64 * quantile) as usize).min(n - 1)]
    }

    pub(crate) fn print(&mut self) {
        let (p50, p99) = (self.at(0.50), self.at(0.99));
        println!(
            "  {:<48} {:>6} requests  {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.label,
            self.latencies.len(),
            self.throughput(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
        );
    }

    /// Its throughput as a share of `base`'s.
    pub(crate) fn ratio(&self, base: &Figures) -> f64 {
        self.throughput() / base.throughput()
    }

    /// How `self` compares with `base`: its throughput as a share of `base`'s, its p99 as a
    /// multiple of `base`'s.
    pub(crate) fn print_against(&mut self, name: &str, base: &mut Figures) {
        println!(
            "  {name:<48} throughput {:>5.2} x   p99 {:>5.2} x",
            self.ratio(base),
            self.at(0.99).as_secs_f64() / base.at(0.99).as_secs_f64(),
        );
    }
}

/// Runs `total` calls of `call(i)`, keeping `in_flight` of them running, timing each.
pub(crate) async fn measure<F, Fut>(label: &str, total: usize, in_flight: usize, call: F) -> Figures
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    let latencies = futures::stream::iter(0..total)
        .map(|i| {
            let fut = call(i);
            async move {
                let t = Instant::now();
                fut.await;
                t.elapsed()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    Figures {
        label: label.into(),
        latencies,
        wall: started.elapsed(),
    }
}
