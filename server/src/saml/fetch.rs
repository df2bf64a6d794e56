//! Fetching an IdP's metadata from a `metadata_url`: the one outgoing request the server makes on an admin's
//! behalf, so it is fenced in. The document fetched then goes through the same strict parse as pasted metadata
//! ([`super::metadata::parse_idp_metadata`]).
//!
//! - `https` only, unless [`MetadataFetchConfig::allow_http`] (tests, local development).
//! - Only public addresses: every address a host name resolves to is classified ([`classify`]) inside the
//!   client's DNS resolver, so what is checked is exactly what is connected to (a second lookup, as in DNS
//!   rebinding, never happens); a host that resolves to any non-public address is refused as a whole. IP
//!   literals, which reqwest does not resolve, are checked before the request. No proxy is used, since a proxy
//!   would resolve names itself.
//! - Redirects: at most [`MetadataFetchConfig::max_redirects`], each target re-checked (scheme, and an IP literal
//!   here; a name in the resolver when it is connected to).
//! - One time limit for everything (resolution, connection, TLS, headers, body), and the body capped at
//!   [`MAX_METADATA_BYTES`] while it streams: a `Content-Length` over the cap is refused before reading, and the
//!   reading stops at the first chunk past it. The cap counts the bytes as read from the body, after any
//!   decoding, so a compressed bomb would stop there too (the workspace builds reqwest without decompression).
//!
//! [`MetadataFetchConfig::allow_private_addresses`] admits loopback, private, shared and unique-local addresses
//! (where a test server or a local IdP lives); link-local, unspecified, multicast, broadcast, documentation and
//! reserved addresses are never fetched from: none hosts an IdP, and link-local is where cloud metadata
//! services answer (169.254.169.254).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::metadata::MAX_METADATA_BYTES;

/// How IdP metadata is fetched from a URL (`ServerConfig::saml.metadata_fetch`).
#[derive(Debug, Clone)]
pub struct MetadataFetchConfig {
    /// Accept `http` URLs and redirects (tests, local development). Off by default.
    pub allow_http: bool,
    /// Accept loopback, private, shared and unique-local addresses (tests, a local IdP). Off by default.
    pub allow_private_addresses: bool,
    /// The time limit of a whole fetch, redirects and body included.
    pub timeout: Duration,
    /// The most redirects followed.
    pub max_redirects: usize,
}

impl Default for MetadataFetchConfig {
    fn default() -> Self {
        MetadataFetchConfig {
            allow_http: false,
            allow_private_addresses: false,
            timeout: Duration::from_secs(10),
            max_redirects: 3,
        }
    }
}

/// Why an address is not public, with the RFC that sets the range aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// 0.0.0.0/8 ("this network", RFC 6890 §2.2.2) and `::` (RFC 4291 §2.5.2); Linux connects to 0.0.0.0 as to
    /// the loopback.
    Unspecified,
    /// 127.0.0.0/8 (RFC 6890 §2.2.2) and `::1` (RFC 4291 §2.5.3).
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918 §3).
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// 169.254.0.0/16 (RFC 3927) and fe80::/10 (RFC 4291 §2.5.6).
    LinkLocal,
    /// fc00::/7 (RFC 4193).
    UniqueLocal,
    /// 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 §2.7).
    Multicast,
    /// 255.255.255.255 (RFC 919, RFC 6890 §2.2.2).
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737) and 2001:db8::/32 (RFC 3849).
    Documentation,
    /// Other special-purpose ranges of RFC 6890 that are not globally reachable: 192.0.0.0/24, benchmarking
    /// 198.18/15 (RFC 2544), 240/4 (RFC 1112 §4), IPv4-compatible `::/96` (deprecated, RFC 4291 §2.5.5.1),
    /// site-local fec0::/10 (RFC 3879), discard-only 100::/64 (RFC 6666).
    Reserved,
}

impl AddressClass {
    /// The class as an error message names it, with its RFC.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Unspecified => "an unspecified address (RFC 6890, RFC 4291 §2.5.2)",
            AddressClass::Loopback => "a loopback address (RFC 6890, RFC 4291 §2.5.3)",
            AddressClass::Private => "a private address (RFC 1918)",
            AddressClass::SharedAddressSpace => "a shared (carrier-grade NAT) address (RFC 6598)",
            AddressClass::LinkLocal => "a link-local address (RFC 3927, RFC 4291 §2.5.6)",
            AddressClass::UniqueLocal => "a unique-local address (RFC 4193)",
            AddressClass::Multicast => "a multicast address (RFC 5771, RFC 4291 §2.7)",
            AddressClass::Broadcast => "the broadcast address (RFC 6890)",
            AddressClass::Documentation => "a documentation address (RFC 5737, RFC 3849)",
            AddressClass::Reserved => "a reserved special-purpose address (RFC 6890)",
        }
    }

    /// Whether [`MetadataFetchConfig::allow_private_addresses`] admits the class.
    pub fn allowed_by_switch(self) -> bool {
        matches!(
            self,
            AddressClass::Loopback
                | AddressClass::Private
                | AddressClass::SharedAddressSpace
                | AddressClass::UniqueLocal
        )
    }
}

/// The class of a non-public address; `None` for a public one.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    use AddressClass::*;
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => Some(Unspecified),
        (127, _, _) => Some(Loopback),
        (10, _, _) | (192, 168, _) => Some(Private),
        (172, 16..=31, _) => Some(Private),
        (100, 64..=127, _) => Some(SharedAddressSpace),
        (169, 254, _) => Some(LinkLocal),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some(Documentation),
        (192, 0, 0) | (198, 18..=19, _) => Some(Reserved),
        (224..=239, _, _) => Some(Multicast),
        _ if ip == Ipv4Addr::BROADCAST => Some(Broadcast),
        (240..=255, _, _) => Some(Reserved),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    use AddressClass::*;
    // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 address a.b.c.d; it is judged as one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => Some(Unspecified),
        [0, 0, 0, 0, 0, 0, 0, 1] => Some(Loopback),
        // RFC 4291 §2.5.5.1: IPv4-compatible addresses are deprecated; nothing public uses them.
        [0, 0, 0, 0, 0, 0, _, _] => Some(Reserved),
        // RFC 6052 §2.1: a NAT64 gateway connects to the IPv4 address in the last 32 bits of 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => classify_v4(embedded(hi, lo)),
        // RFC 3056 §2: a 6to4 relay delivers 2002:V4ADDR::/48 to the IPv4 address in bits 16 to 48.
        [0x2002, hi, lo, ..] => classify_v4(embedded(hi, lo)),
        [0x0100, 0, 0, 0, ..] => Some(Reserved),
        [0x2001, 0x0db8, ..] => Some(Documentation),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some(UniqueLocal),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some(LinkLocal),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some(Reserved),
        [first, ..] if first & 0xff00 == 0xff00 => Some(Multicast),
        _ => None,
    }
}

/// Why a metadata URL was not fetched. Each variant's doc starts with its `code` in the 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// `metadata_url_scheme`: not `https` (the URL or a redirect), and `http` is not allowed.
    #[error("{url:?} is not an https URL; IdP metadata is fetched over https only")]
    Scheme {
        /// The refused URL.
        url: String,
    },
    /// `metadata_url_address`: the host is, or resolves to, an address that is not public.
    #[error("{}; IdP metadata is fetched from public addresses only", address_refusal(host, *ip, *class))]
    Address {
        /// The host as the URL names it.
        host: String,
        /// The refused address.
        ip: IpAddr,
        /// Its class.
        class: AddressClass,
    },
    /// `metadata_url_redirects`: more redirects than allowed.
    #[error("more than {max} redirects")]
    Redirects {
        /// The most redirects followed.
        max: usize,
    },
    /// `metadata_too_large`: the body is larger than the cap.
    #[error("the metadata document is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// `metadata_url_timeout`: the whole fetch took longer than the time limit.
    #[error("the metadata was not fetched within {} ms", limit.as_millis())]
    Timeout {
        /// The time limit.
        limit: Duration,
    },
    /// `metadata_url_status`: the server answered with a status other than 2xx.
    #[error("the metadata URL answered with HTTP status {0}")]
    Status(u16),
    /// `metadata_url_unreachable`: the host does not resolve, or the connection or TLS failed.
    #[error("the metadata URL cannot be fetched: {0}")]
    Unreachable(String),
}

impl FetchError {
    /// The stable code of the 400 body.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Scheme { .. } => "metadata_url_scheme",
            FetchError::Address { .. } => "metadata_url_address",
            FetchError::Redirects { .. } => "metadata_url_redirects",
            FetchError::TooLarge { .. } => "metadata_too_large",
            FetchError::Timeout { .. } => "metadata_url_timeout",
            FetchError::Status(_) => "metadata_url_status",
            FetchError::Unreachable(_) => "metadata_url_unreachable",
        }
    }
}

/// "10.0.0.1 is a private address (RFC 1918)", or, for a name, "idp.example resolves to 10.0.0.1, a private …".
fn address_refusal(host: &str, ip: IpAddr, class: AddressClass) -> String {
    if host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() {
        format!("{ip} is {}", class.describe())
    } else {
        format!("{host} resolves to {ip}, {}", class.describe())
    }
}

/// Where a refusal of the resolver or the redirect policy is left for [`fetch_metadata`] to report: reqwest wraps
/// their errors in its own.
type Refusal = Arc<Mutex<Option<FetchError>>>;

/// Checks a URL before it is requested: its scheme and, for an IP literal (which no resolver sees), its address.
pub fn check_target(url: &Url, config: &MetadataFetchConfig) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => {}
        "http" if config.allow_http => {}
        _ => return Err(FetchError::Scheme { url: url.as_str().to_owned() }),
    }
    let host = url.host_str().unwrap_or_default();
    // The URL parser has already normalised every IPv4 spelling (`0x7f.1`, `2130706433`) to dotted decimal.
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        check_address(host, ip, config.allow_private_addresses)?;
    }
    Ok(())
}

fn check_address(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), FetchError> {
    match classify(ip) {
        Some(class) if !(allow_private && class.allowed_by_switch()) => {
            Err(FetchError::Address { host: host.to_owned(), ip, class })
        }
        _ => Ok(()),
    }
}

/// The system resolver, keeping an answer only if every address in it may be connected to.
struct PublicOnly {
    allow_private: bool,
    refusal: Refusal,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let refusal = self.refusal.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let refuse = |e: FetchError| {
                *refusal.lock() = Some(e.clone());
                Box::new(e) as Box<dyn std::error::Error + Send + Sync>
            };
            let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(a) => a.collect(),
                Err(_) => return Err(refuse(FetchError::Unreachable(format!("{host} does not resolve")))),
            };
            if addrs.is_empty() {
                return Err(refuse(FetchError::Unreachable(format!("{host} does not resolve"))));
            }
            // One non-public address refuses the host: a name with mixed answers is how rebinding gets in.
            for a in &addrs {
                check_address(&host, a.ip(), allow_private).map_err(&refuse)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Fetches `url` within the limits of `config` and returns the body (at most [`MAX_METADATA_BYTES`]).
pub async fn fetch_metadata(url: &str, config: &MetadataFetchConfig) -> Result<Vec<u8>, FetchError> {
    let parsed = Url::parse(url).map_err(|_| FetchError::Unreachable("not a URL".into()))?;
    check_target(&parsed, config)?;
    let refusal: Refusal = Arc::new(Mutex::new(None));
    let policy = {
        let config = config.clone();
        let refusal = refusal.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            // `previous` holds every URL requested so far, the first included.
            let checked = if attempt.previous().len() > config.max_redirects {
                Err(FetchError::Redirects { max: config.max_redirects })
            } else {
                check_target(attempt.url(), &config)
            };
            match checked {
                Ok(()) => attempt.follow(),
                Err(e) => {
                    *refusal.lock() = Some(e.clone());
                    attempt.error(e)
                }
            }
        })
    };
    // One client per fetch: no connection is shared with another fetch, and the resolver reports to this one.
    let client = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly { allow_private: config.allow_private_addresses, refusal: refusal.clone() }))
        .redirect(policy)
        .https_only(!config.allow_http)
        .referer(false)
        .timeout(config.timeout)
        .user_agent(concat!("idconform-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FetchError::Unreachable(format!("cannot build the HTTP client: {e}")))?;
    let limit = config.timeout;
    let fetch = async {
        let mut response = client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/samlmetadata+xml, application/xml, text/xml")
            .send()
            .await
            .map_err(|e| transport_error(&e, &refusal, limit))?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let too_large = FetchError::TooLarge { limit: MAX_METADATA_BYTES };
        if response.content_length().is_some_and(|n| n > MAX_METADATA_BYTES as u64) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e, &refusal, limit))? {
            if body.len() + chunk.len() > MAX_METADATA_BYTES {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    // reqwest's own timeout covers the body too; this one bounds the whole future whatever reqwest does.
    tokio::time::timeout(limit, fetch).await.map_err(|_| FetchError::Timeout { limit })?
}

fn transport_error(e: &reqwest::Error, refusal: &Refusal, limit: Duration) -> FetchError {
    if let Some(refused) = refusal.lock().take() {
        return refused;
    }
    if e.is_timeout() {
        return FetchError::Timeout { limit };
    }
    // The innermost cause says what failed (refused connection, TLS certificate), without the URL.
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let reason: String = cause.to_string().chars().take(200).collect();
    FetchError::Unreachable(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressClass::*;

    fn class(ip: &str) -> Option<AddressClass> {
        classify(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")))
    }

    #[test]
    fn every_non_public_range_is_classified() {
        for (ip, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("::1", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd00:ec2::254", UniqueLocal),
            ("fdff:ffff::1", UniqueLocal),
            ("224.0.0.1", Multicast),
            ("239.255.255.255", Multicast),
            ("ff02::1", Multicast),
            ("255.255.255.255", Broadcast),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("192.0.0.8", Reserved),
            ("198.18.0.1", Reserved),
            ("240.0.0.1", Reserved),
            ("::7f00:1", Reserved),
            ("fec0::1", Reserved),
            ("100::1", Reserved),
            // IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4 address inside.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:100.64.0.1", SharedAddressSpace),
            ("::ffff:0.0.0.0", Unspecified),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b::7f00:1", Loopback),
            ("2002:c0a8:101::1", Private),
        ] {
            assert_eq!(class(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_not_classified() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.167.1.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "fbff::1",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn the_switch_admits_only_where_a_local_idp_lives() {
        for c in [Loopback, Private, SharedAddressSpace, UniqueLocal] {
            assert!(c.allowed_by_switch(), "{c:?}");
        }
        for c in [Unspecified, LinkLocal, Multicast, Broadcast, Documentation, Reserved] {
            assert!(!c.allowed_by_switch(), "{c:?}");
        }
    }

    #[test]
    fn targets_are_checked_by_scheme_and_literal_address() {
        let strict = MetadataFetchConfig::default();
        let open = MetadataFetchConfig { allow_http: true, allow_private_addresses: true, ..Default::default() };
        let url = |u: &str| Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(check_target(&url("https://idp.example.com/md"), &strict), Ok(()));
        assert!(matches!(check_target(&url("http://idp.example.com/md"), &strict), Err(FetchError::Scheme { .. })));
        assert!(matches!(check_target(&url("ftp://idp.example.com/md"), &open), Err(FetchError::Scheme { .. })));
        for (u, expected) in [
            ("https://127.0.0.1/md", Loopback),
            ("https://2130706433/md", Loopback),
            ("https://0x7f.1/md", Loopback),
            ("https://[::1]/md", Loopback),
            ("https://[::ffff:192.168.0.1]/md", Private),
            ("https://169.254.169.254/latest/meta-data", LinkLocal),
            ("https://0.0.0.0/md", Unspecified),
        ] {
            match check_target(&url(u), &strict) {
                Err(FetchError::Address { class, .. }) => assert_eq!(class, expected, "{u}"),
                other => panic!("{u}: {other:?}"),
            }
        }
        assert_eq!(check_target(&url("http://127.0.0.1:8080/md"), &open), Ok(()));
        assert!(matches!(
            check_target(&url("http://169.254.169.254/"), &open),
            Err(FetchError::Address { class: LinkLocal, .. })
        ));
    }
}
