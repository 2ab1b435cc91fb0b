//! The requests of webhook deliveries: to public addresses only (unless the configuration
//! allows private ones), to the very address that was checked, with a timeout, never following
//! a redirect.
//!
//! The host is resolved here, every address is checked, and the connection is made to a checked
//! address with the URL's host in `Host` (and in TLS's server name): a name that resolves to
//! something else between the check and the connection (DNS rebinding) cannot redirect the
//! request. A redirect is an answer like any other that is not 2xx: a failure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
pub use skinledger_domain::webhook::AttemptOutcome;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::{Host, Url};

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// How long resolving a host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest error text kept with an attempt.
const MAX_ERROR_LEN: usize = 300;

/// Where deliveries may go.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Whether private, loopback, link-local and other non-public addresses may be reached.
    pub allow_private: bool,
    /// Addresses that may be reached although they are not public.
    pub allowed: Vec<IpAddr>,
}

impl AddressPolicy {
    /// Whether a delivery may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allowed.contains(&canonical(ip))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether an address is on the public internet: not private, loopback, link-local,
/// unspecified, multicast, broadcast, shared (carrier-grade NAT), reserved, documentation, or
/// an IPv6 unique local address; IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4) are
/// judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let octets = ip.octets();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if segments[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || segments[..6] == [0, 0, 0, 0, 0, 0])
}

/// Why a URL is not a webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not an absolute http or https URL with a host, or with credentials in it.
    Malformed(&'static str),
    /// The host does not resolve.
    Unresolvable(String),
    /// The host is, or resolves to, an address deliveries may not reach.
    Private(IpAddr),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(why) => f.write_str(why),
            Refusal::Unresolvable(why) => write!(f, "the host cannot be resolved: {why}"),
            Refusal::Private(ip) => write!(
                f,
                "the host is or resolves to {ip}, a private, loopback, link-local or otherwise \
                 non-public address, which webhooks may not reach"
            ),
        }
    }
}

/// A webhook URL, as endpoints must give it.
pub fn parse_url(raw: &str) -> Result<Url, Refusal> {
    if raw.len() > MAX_URL_LEN {
        return Err(Refusal::Malformed("must be at most 2048 characters"));
    }
    let url = Url::parse(raw.trim())
        .map_err(|_| Refusal::Malformed("must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Malformed("must be an http or https URL"));
    }
    if url.host().is_none() {
        return Err(Refusal::Malformed("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Malformed(
            "must not carry credentials; the signature authenticates deliveries",
        ));
    }
    if url.fragment().is_some() {
        return Err(Refusal::Malformed("must not have a fragment"));
    }
    Ok(url)
}

/// What one request gave.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) outcome: AttemptOutcome,
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
    pub(crate) latency: Duration,
}

impl Sent {
    pub(crate) fn failed(outcome: AttemptOutcome, error: impl std::fmt::Display) -> Self {
        let mut error = error.to_string();
        if error.len() > MAX_ERROR_LEN {
            let mut cut = MAX_ERROR_LEN;
            while !error.is_char_boundary(cut) {
                cut -= 1;
            }
            error.truncate(cut);
        }
        Self {
            outcome,
            status: None,
            error: Some(error),
            latency: Duration::ZERO,
        }
    }
}

/// Sends deliveries.
pub(crate) struct Outbound {
    policy: AddressPolicy,
    timeout: Duration,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// TLS with the Mozilla root certificates, HTTP/1.1.
fn tls_connector() -> Option<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tracing::error!(error = %e, "webhooks cannot use TLS"))
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

impl Outbound {
    pub(crate) fn new(policy: AddressPolicy, timeout: Duration) -> Self {
        Self {
            policy,
            timeout,
            tls: tls_connector(),
        }
    }

    /// Every address of the URL's host, each checked: refused when any may not be reached.
    pub(crate) async fn check(&self, url: &Url) -> Result<(), Refusal> {
        let addresses = resolve(url).await?;
        match addresses.iter().find(|a| !self.policy.permits(a.ip())) {
            Some(refused) => Err(Refusal::Private(refused.ip())),
            None => Ok(()),
        }
    }

    /// POSTs `body` with `headers` to `url`, at an address the policy permits.
    pub(crate) async fn post(
        &self,
        url: &Url,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Sent {
        let started = Instant::now();
        let mut sent = match resolve(url).await {
            Err(refusal) => Sent::failed(AttemptOutcome::ConnectionError, refusal),
            Ok(addresses) => {
                let permitted: Vec<SocketAddr> = addresses
                    .iter()
                    .copied()
                    .filter(|a| self.policy.permits(a.ip()))
                    .collect();
                match addresses.first() {
                    Some(first) if permitted.is_empty() => {
                        Sent::failed(AttemptOutcome::AddressRefused, Refusal::Private(first.ip()))
                    }
                    _ => {
                        let exchange = self.exchange(url, &permitted, headers, body);
                        match tokio::time::timeout(self.timeout, exchange).await {
                            Err(_) => Sent::failed(
                                AttemptOutcome::Timeout,
                                format!("no answer within {} s", self.timeout.as_secs_f64()),
                            ),
                            Ok(Err(error)) => Sent::failed(AttemptOutcome::ConnectionError, error),
                            Ok(Ok(status)) => Sent {
                                outcome: if (200..300).contains(&status) {
                                    AttemptOutcome::Success
                                } else {
                                    AttemptOutcome::HttpError
                                },
                                status: Some(status),
                                error: None,
                                latency: Duration::ZERO,
                            },
                        }
                    }
                }
            }
        };
        sent.latency = started.elapsed();
        sent
    }

    /// Connects to the first address that answers and makes the request; answers the status.
    async fn exchange(
        &self,
        url: &Url,
        addresses: &[SocketAddr],
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Result<u16, String> {
        let mut last_error = String::from("no address to connect to");
        let mut stream = None;
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = format!("cannot connect to {address}: {e}"),
            }
        }
        let stream = stream.ok_or(last_error)?;
        let _ = stream.set_nodelay(true);
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", bracketed(url)),
            None => bracketed(url),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = http::Request::post(target)
            .header(http::header::HOST, authority)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("skinledger-webhooks/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        if url.scheme() == "https" {
            let tls = self
                .tls
                .as_ref()
                .ok_or_else(|| "TLS is not available".to_owned())?;
            let name = match url.host() {
                Some(Host::Ipv4(ip)) => {
                    rustls::pki_types::ServerName::IpAddress(IpAddr::V4(ip).into())
                }
                Some(Host::Ipv6(ip)) => {
                    rustls::pki_types::ServerName::IpAddress(IpAddr::V6(ip).into())
                }
                _ => rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| format!("not a TLS server name: {e}"))?,
            };
            let stream = tls
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            send(stream, request).await
        } else {
            send(stream, request).await
        }
    }
}

/// The URL's host as it goes in `Host`: IPv6 addresses in brackets.
fn bracketed(url: &Url) -> String {
    match url.host() {
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        _ => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// The addresses of the URL's host, with the URL's port.
async fn resolve(url: &Url) -> Result<Vec<SocketAddr>, Refusal> {
    let port = url
        .port_or_known_default()
        .ok_or(Refusal::Malformed("must be an http or https URL"))?;
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Some(Host::Domain(name)) => {
            let found =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
                    .await
                    .map_err(|_| Refusal::Unresolvable("no answer in time".into()))?
                    .map_err(|e| Refusal::Unresolvable(e.to_string()))?;
            let found: Vec<SocketAddr> = found.collect();
            if found.is_empty() {
                return Err(Refusal::Unresolvable("no address".into()));
            }
            Ok(found)
        }
        None => Err(Refusal::Malformed("must name a host")),
    }
}

/// One HTTP/1.1 exchange over `io`; answers the status (the body is not read).
async fn send<IO>(io: IO, request: http::Request<Full<Bytes>>) -> Result<u16, String>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let connection = tokio::spawn(connection);
    let answer = sender
        .send_request(request)
        .await
        .map(|response| response.status().as_u16())
        .map_err(|e| match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        });
    connection.abort();
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
        ] {
            let ip: IpAddr = private.parse().expect("an address");
            assert!(!is_public(ip), "{private} is not public");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().expect("an address");
            assert!(is_public(ip), "{public} is public");
        }
    }

    #[test]
    fn a_private_address_is_permitted_only_when_allowed() {
        let loopback: IpAddr = "127.0.0.1".parse().expect("an address");
        assert!(!AddressPolicy::default().permits(loopback));
        assert!(
            AddressPolicy {
                allow_private: true,
                allowed: vec![]
            }
            .permits(loopback)
        );
        let one = AddressPolicy {
            allow_private: false,
            allowed: vec![loopback],
        };
        assert!(one.permits(loopback));
        assert!(one.permits("::ffff:127.0.0.1".parse().expect("an address")));
        assert!(!one.permits("127.0.0.2".parse().expect("an address")));
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host_and_no_credentials() {
        assert!(parse_url("https://hooks.example.com/skinledger?x=1").is_ok());
        assert!(parse_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "ftp://example.com/",
            "/relative",
            "https://user:pw@example.com/",
            "https://example.com/#top",
            "not a url",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
