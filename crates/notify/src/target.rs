//! Where a notification may be sent. A channel's URL or SMTP host is typed in by a user —
//! possibly a customer's user — so by default it may not reach the service's own network:
//! loopback, private (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254),
//! carrier-grade NAT, multicast and unspecified addresses are refused, both for addresses in
//! the URL and for what a host name resolves to at delivery (so a name that resolves to an
//! internal address later is refused then too). Operators with an internal relay allow
//! private targets explicitly ([`crate::Notifier::allow_private_targets`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Whether `ip` is on the public internet (not an address of the local host or network).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = [s[6].to_be_bytes(), s[7].to_be_bytes()];
                return is_public_v4(Ipv4Addr::new(a[0], a[1], b[0], b[1]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0) // site-local (deprecated) fec0::/10
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64/10
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || a >= 240) // reserved
}

/// Why `host` (a URL's host or an SMTP server name) is refused before any lookup: an address
/// literal that is not public, or a name of the local host. `None` when it may be tried.
pub fn refused_host(host: &str) -> Option<String> {
    let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return (!is_public(ip)).then(|| format!("{ip} is not a public address"));
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    (name == "localhost" || name.ends_with(".localhost"))
        .then(|| format!("{name} is the local host"))
}

/// The public addresses among `addrs`, or an error naming the first refused one when there are
/// none.
pub fn public_only(
    host: &str,
    addrs: impl Iterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, String> {
    let mut refused = None;
    let public: Vec<SocketAddr> = addrs
        .filter(|a| {
            let ok = is_public(a.ip());
            if !ok && refused.is_none() {
                refused = Some(a.ip());
            }
            ok
        })
        .collect();
    match (public.is_empty(), refused) {
        (false, _) => Ok(public),
        (true, Some(ip)) => Err(format!(
            "{host} resolves to {ip}, which is not a public address"
        )),
        (true, None) => Err(format!("{host} did not resolve to any address")),
    }
}

/// A resolver for the HTTP client that hands out public addresses only.
#[derive(Debug)]
pub(crate) struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public = public_only(&host, addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
            assert!(refused_host(ip).is_some(), "{ip}");
        }
        assert!(refused_host("[::1]").is_some());
        assert!(refused_host("localhost").is_some());
        assert!(refused_host("api.localhost.").is_some());
    }

    #[test]
    fn public_addresses_and_names_pass() {
        for ip in [
            "8.8.8.8",
            "52.96.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.4.4",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
            assert_eq!(refused_host(ip), None, "{ip}");
        }
        assert_eq!(refused_host("hooks.slack.com"), None);
        assert_eq!(refused_host("localhost.example.com"), None);
    }

    #[test]
    fn resolution_keeps_public_addresses_only() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            public_only("x", [a("10.0.0.1:0"), a("8.8.8.8:0")].into_iter()).unwrap(),
            [a("8.8.8.8:0")]
        );
        let err = public_only("internal.example", [a("10.0.0.1:0")].into_iter()).unwrap_err();
        assert!(
            err.contains("internal.example resolves to 10.0.0.1"),
            "{err}"
        );
        assert!(public_only("x", std::iter::empty()).is_err());
    }
}
