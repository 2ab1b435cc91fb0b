//! The accept loop: HTTP/1.1 and HTTP/2 (REST and gRPC on one port), optionally over TLS, with
//! the limits a public endpoint needs: a bound on open connections, a deadline for request
//! headers, an idle timeout, HTTP/2 stream and reset limits, and a graceful stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use skinledger_api::metrics::OPEN_CONNECTIONS;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The limits of the accept loop.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (and, on a new connection, to
    /// finish the TLS handshake and show which protocol it speaks).
    pub header_read_timeout: Duration,
    /// A connection with no request under way for this long is closed.
    pub idle_timeout: Duration,
    /// HTTP/2 streams open at once per connection.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2 streams a client may reset before it is answered with GOAWAY (the "rapid reset"
    /// attack).
    pub http2_max_pending_reset_streams: usize,
}

/// How long a connection told to stop may take to finish what it is doing before it is cut.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

/// What an HTTP/2 connection starts with (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Loads a certificate chain and private key (PEM) into a TLS acceptor offering HTTP/2 and
/// HTTP/1.1 by ALPN.
pub fn tls_acceptor(cert_file: &Path, key_file: &Path) -> anyhow::Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| anyhow::anyhow!("cannot read TLS certificate {}: {e}", cert_file.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "TLS certificate {} holds no certificate",
            cert_file.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| anyhow::anyhow!("cannot read TLS key {}: {e}", key_file.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| anyhow::anyhow!("TLS certificate and key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets every
/// connection finish the request under way, and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let builders = Arc::new(Builders::new(&limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // the listener is still good.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            builders: builders.clone(),
            limits: limits.clone(),
            peer,
            stopping: stopping.clone(),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            metrics::gauge!(OPEN_CONNECTIONS).increment(1);
            connection.run(stream, tls).await;
            metrics::gauge!(OPEN_CONNECTIONS).decrement(1);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    // Every connection holds a receiver; all are gone when the last connection closed.
    stop.closed().await;
    Ok(())
}

/// One builder per protocol, chosen once the client has shown which it speaks.
struct Builders {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: &Limits) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.http2_max_concurrent_streams)
            .max_pending_accept_reset_streams(limits.http2_max_pending_reset_streams)
            .max_local_error_reset_streams(1024);
        Self {
            http1: builder.clone().http1_only(),
            http2: builder.http2_only(),
        }
    }
}

struct Connection {
    router: Router,
    builders: Arc<Builders>,
    limits: Limits,
    peer: SocketAddr,
    stopping: watch::Receiver<bool>,
}

/// The protocol a connection speaks.
#[derive(Clone, Copy)]
enum Protocol {
    Http1,
    Http2,
}

impl Connection {
    /// Runs `step` of a connection's start (TLS handshake, protocol sniffing) until the header
    /// deadline; `None` when the deadline passes or the server stops first: a connection that
    /// has not begun a request is simply dropped then.
    async fn before_first_request<F: Future>(
        &self,
        deadline: Instant,
        step: F,
    ) -> Option<F::Output> {
        let mut stopping = self.stopping.clone();
        if *stopping.borrow_and_update() {
            return None;
        }
        tokio::select! {
            done = tokio::time::timeout_at(deadline, step) => done.ok(),
            _ = stopping.changed() => None,
        }
    }

    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        // The TLS handshake and the first bytes, within the header deadline.
        let deadline = Instant::now() + self.limits.header_read_timeout;
        match tls {
            Some(acceptor) => {
                let Ok(Ok(stream)) =
                    tokio::time::timeout_at(deadline, acceptor.accept(stream)).await
                else {
                    return;
                };
                let protocol = match stream.get_ref().1.alpn_protocol() {
                    Some(b"h2") => Protocol::Http2,
                    Some(_) => Protocol::Http1,
                    None => {
                        // No ALPN: the client may still speak HTTP/2 with prior knowledge.
                        return self.sniff_and_serve(stream, deadline).await;
                    }
                };
                self.serve(stream, protocol).await;
            }
            None => self.sniff_and_serve(stream, deadline).await,
        }
    }

    /// Reads just enough to tell HTTP/2's preface from an HTTP/1 request line, and serves.
    async fn sniff_and_serve<S>(self, mut stream: S, deadline: Instant)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // Whatever arrives is read (and replayed), so a client sending its preface or request
        // line at once is sniffed in one read.
        let mut seen = Vec::with_capacity(H2_PREFACE.len());
        let mut chunk = [0u8; H2_PREFACE.len()];
        // Never more than the preface: what is left of it is all that is asked for.
        let protocol = loop {
            let want = H2_PREFACE.len() - seen.len();
            match self
                .before_first_request(deadline, stream.read(&mut chunk[..want]))
                .await
            {
                Some(Ok(n)) if n > 0 => seen.extend_from_slice(&chunk[..n]),
                _ => return,
            }
            if !H2_PREFACE.starts_with(&seen) {
                break Protocol::Http1;
            }
            if seen.len() == H2_PREFACE.len() {
                break Protocol::Http2;
            }
        };
        self.serve(Prefixed::new(seen, stream), protocol).await;
    }

    async fn serve<S>(self, stream: S, protocol: Protocol)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        let service = {
            let activity = activity.clone();
            let router = self.router.clone();
            let peer = self.peer;
            hyper::service::service_fn(move |mut request: Request<Incoming>| {
                let busy = activity.begin();
                request.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let response = match router.oneshot(request.map(Body::new)).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    Ok::<_, Infallible>(
                        response.map(|body| Body::new(Tracked { body, _busy: busy })),
                    )
                }
            })
        };
        let builder = match protocol {
            Protocol::Http1 => &self.builders.http1,
            Protocol::Http2 => &self.builders.http2,
        };
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let mut stopping = self.stopping;
        let mut check = tokio::time::interval(Duration::from_millis(500));
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing_by: Option<Instant> = None;
        loop {
            tokio::select! {
                done = conn.as_mut() => {
                    if let Err(e) = done {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended");
                    }
                    return;
                }
                _ = stopping.changed(), if closing_by.is_none() => {
                    conn.as_mut().graceful_shutdown();
                    closing_by = Some(Instant::now() + CLOSE_WITHIN);
                }
                _ = check.tick() => match closing_by {
                    Some(by) if Instant::now() >= by => return,
                    Some(_) => {}
                    None => {
                        if activity.idle_for() >= self.limits.idle_timeout {
                            conn.as_mut().graceful_shutdown();
                            closing_by = Some(Instant::now() + CLOSE_WITHIN);
                        }
                    }
                },
            }
        }
    }
}

/// Requests under way on one connection, and when the last one ended.
struct Activity {
    started: Instant,
    under_way: AtomicUsize,
    quiet_since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            under_way: AtomicUsize::new(0),
            quiet_since_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A request began; it ends when the returned guard (held by its answer's body) drops.
    fn begin(self: &Arc<Self>) -> Busy {
        self.under_way.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// How long nothing has been under way (zero while something is).
    fn idle_for(&self) -> Duration {
        if self.under_way.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let since = self.quiet_since_ms.load(Ordering::Acquire);
        Duration::from_millis(self.now_ms().saturating_sub(since))
    }
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0
            .quiet_since_ms
            .store(self.0.now_ms(), Ordering::Release);
        self.0.under_way.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body, holding its request's place among those under way until it is sent (or
/// dropped).
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A stream whose first bytes were already read: they are read again first.
struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.at < self.prefix.len() {
            let rest = &self.prefix[self.at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bytes_read_to_tell_the_protocol_are_read_again() {
        let (mut client, server) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut client, b" world")
            .await
            .expect("written");
        drop(client);
        let mut stream = Prefixed::new(b"hello".to_vec(), server);
        let mut all = String::new();
        stream.read_to_string(&mut all).await.expect("read");
        assert_eq!(all, "hello world");
    }

    #[test]
    fn a_request_keeps_the_connection_busy_until_its_answer_is_dropped() {
        let activity = Arc::new(Activity::new());
        let busy = activity.begin();
        assert_eq!(activity.idle_for(), Duration::ZERO);
        drop(busy);
        assert_eq!(activity.under_way.load(Ordering::Acquire), 0);
    }
}
