//! Where the SDK may send requests it did not choose itself: URLs taken from server metadata
//! and redirects it follows.
//!
//! A server's metadata (protected-resource `authorization_servers`, authorization server
//! endpoints, a `WWW-Authenticate` `resource_metadata` URL) and an authorization endpoint's
//! redirects are foreign input. If the SDK fetched whatever they name, any public server could
//! make it reach the user's own network (cloud metadata at `169.254.169.254`, a router on
//! `192.168.1.1`, a service on `localhost`). So a URL from such input is refused when its host
//! is an *internal* address (loopback, private or link-local) unless the server the user named is on the same
//! kind of address (a simulator on 127.0.0.1 may point at 127.0.0.1; a deployment on
//! `10.0.0.5` may point at `10.0.0.7`).
//!
//! Only literal IP hosts and `localhost` / `*.localhost` are classified: the core does no DNS
//! (a hostname counts as public). The `url` crate normalizes numeric forms first
//! (`http://2130706433/`, `0x7f.1`, `[::ffff:7f00:1]` are all seen as loopback here).
//!
//! [`RedirectFollower`] is the sans-IO decision for following an authorization endpoint's
//! redirects without a browser (headless sign-in): every hop is checked the same way before
//! any request is sent to it, and the number of hops is bounded.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::error::Error;
use crate::oauth::metadata::{check_endpoint, short};

/// What kind of address a URL's host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum HostClass {
    /// A hostname (not resolved) or a globally routable address.
    Public,
    /// `localhost`, `*.localhost`, `127.0.0.0/8`, `0.0.0.0/8`, `::1`, `::`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `100.64.0.0/10` (shared address
    /// space), `fc00::/7` (unique local), `fec0::/10` (old site-local).
    Private,
    /// `169.254.0.0/16` (cloud metadata services live here), `fe80::/10`.
    LinkLocal,
}

impl HostClass {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            HostClass::Public => "public",
            HostClass::Loopback => "loopback",
            HostClass::Private => "private",
            HostClass::LinkLocal => "link-local",
        }
    }
}

/// The class of `url`'s host (see [`HostClass`]); a URL without a host is `Public` (it fails
/// the URL checks elsewhere).
pub(crate) fn host_class(url: &Url) -> HostClass {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                HostClass::Loopback
            } else {
                HostClass::Public
            }
        }
        Some(Host::Ipv4(ip)) => ipv4_class(ip),
        Some(Host::Ipv6(ip)) => ipv6_class(ip),
        None => HostClass::Public,
    }
}

fn ipv4_class(ip: Ipv4Addr) -> HostClass {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (127, _) | (0, _) => HostClass::Loopback,
        (10, _) | (192, 168) => HostClass::Private,
        (172, 16..=31) | (100, 64..=127) => HostClass::Private,
        (169, 254) => HostClass::LinkLocal,
        _ => HostClass::Public,
    }
}

fn ipv6_class(ip: Ipv6Addr) -> HostClass {
    if ip.is_loopback() || ip.is_unspecified() {
        return HostClass::Loopback;
    }
    let seg = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
    // addresses reach the embedded IPv4 address.
    let embedded = match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _]
        | [0, 0, 0, 0, 0, 0, _, _]
        | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        )),
        _ => None,
    };
    if let Some(v4) = embedded {
        return ipv4_class(v4);
    }
    match seg[0] {
        s if s & 0xfe00 == 0xfc00 => HostClass::Private,
        s if s & 0xffc0 == 0xfec0 => HostClass::Private,
        s if s & 0xffc0 == 0xfe80 => HostClass::LinkLocal,
        _ => HostClass::Public,
    }
}

/// Refuses `target` (a URL taken from foreign input, named `what` in the error) when its host
/// is internal and `origin` (the server the user named) is not on the same kind of address.
/// Fails with [`Error::PrivateAddress`].
pub(crate) fn check_reachable_from(target: &Url, origin: &Url, what: &str) -> Result<(), Error> {
    let class = host_class(target);
    if class == HostClass::Public || class == host_class(origin) {
        return Ok(());
    }
    Err(Error::PrivateAddress {
        what: what.into(),
        host: short(target.host_str().unwrap_or_default()),
        class: class.name().into(),
    })
}

/// Most redirects [`RedirectFollower`] follows before giving up.
pub const MAX_REDIRECT_HOPS: usize = 5;

/// What to do after a response of the authorization endpoint (see [`RedirectFollower`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hop {
    /// Send a GET to this URL next (it passed every check).
    Follow(Url),
    /// The server redirected to the redirect URI: this is the authorization response (hand it
    /// to the flow's `handle_redirect`; nothing is sent to it).
    Arrived(String),
}

/// Follows an authorization URL's redirects without a browser, deciding each hop before any
/// request goes to it: `https` (or `http` on loopback), no user information, not an internal
/// address unless the authorization URL itself is on the same kind of address
/// (the rule of this module), at most [`MAX_REDIRECT_HOPS`] hops.
///
/// ```text
/// let mut f = RedirectFollower::new(authorize_url, redirect_uri)?;
/// let mut url = f.start().clone();
/// loop {
///     let resp = GET url;
///     match f.handle_response(resp.status, resp.header("location"))? {
///         Hop::Follow(next) => url = next,
///         Hop::Arrived(redirect) => break redirect,
///     }
/// }
/// ```
#[derive(Clone, Debug)]
pub struct RedirectFollower {
    start: Url,
    current: Url,
    redirect_uri: Url,
    hops: usize,
}

impl RedirectFollower {
    /// Starts at `authorization_url` (checked like an endpoint) and stops at a redirect to
    /// `redirect_uri` (same scheme, host, port and path).
    pub fn new(authorization_url: &str, redirect_uri: &str) -> Result<RedirectFollower, Error> {
        let start = Url::parse(authorization_url).map_err(|e| Error::InvalidUrl {
            what: "authorization URL".into(),
            reason: e.to_string(),
        })?;
        check_endpoint(&start, "authorization URL")?;
        let redirect_uri = Url::parse(redirect_uri).map_err(|e| Error::InvalidUrl {
            what: "redirect URI".into(),
            reason: e.to_string(),
        })?;
        Ok(RedirectFollower {
            current: start.clone(),
            start,
            redirect_uri,
            hops: 0,
        })
    }

    /// The first URL to request.
    pub fn start(&self) -> &Url {
        &self.start
    }

    /// Decides what follows a response with `status` and `location` header to the last URL
    /// requested. A non-redirect is [`Error::AuthorizationDenied`] (`interaction_required`: a
    /// consent page); a hop that fails a check is [`Error::InsecureUrl`],
    /// [`Error::InvalidUrl`] or [`Error::PrivateAddress`]; too many hops is
    /// [`Error::TooManyRedirects`].
    pub fn handle_response(&mut self, status: u16, location: Option<&str>) -> Result<Hop, Error> {
        let location = match (status, location) {
            (300..=399, Some(l)) => l,
            _ => {
                return Err(Error::AuthorizationDenied {
                    error: "interaction_required".into(),
                    description: Some(
                        "the server showed a page instead of redirecting; --headless works only with an auto-approving server (sign in with a browser instead)".into(),
                    ),
                })
            }
        };
        let next = self
            .current
            .join(location.trim())
            .map_err(|e| Error::InvalidUrl {
                what: "redirect Location".into(),
                reason: e.to_string(),
            })?;
        if self.is_redirect_uri(&next) {
            return Ok(Hop::Arrived(next.to_string()));
        }
        self.hops += 1;
        if self.hops > MAX_REDIRECT_HOPS {
            return Err(Error::TooManyRedirects {
                limit: MAX_REDIRECT_HOPS,
            });
        }
        check_endpoint(&next, "redirect Location")?;
        check_reachable_from(&next, &self.start, "redirect Location")?;
        self.current = next.clone();
        Ok(Hop::Follow(next))
    }

    fn is_redirect_uri(&self, u: &Url) -> bool {
        let r = &self.redirect_uri;
        u.scheme() == r.scheme()
            && u.host() == r.host()
            && u.port_or_known_default() == r.port_or_known_default()
            && u.path() == r.path()
            && u.username().is_empty()
            && u.password().is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn classes_of_literal_hosts() {
        for (s, c) in [
            ("https://example.com/", HostClass::Public),
            ("https://8.8.8.8/", HostClass::Public),
            ("https://172.32.0.1/", HostClass::Public),
            ("https://[2001:db8::1]/", HostClass::Public),
            ("https://localhost/", HostClass::Loopback),
            ("https://LOCALHOST./", HostClass::Loopback),
            ("https://a.b.localhost/", HostClass::Loopback),
            ("https://127.1.2.3/", HostClass::Loopback),
            ("https://2130706433/", HostClass::Loopback),
            ("https://0x7f.1/", HostClass::Loopback),
            ("https://0.0.0.0/", HostClass::Loopback),
            ("https://[::1]/", HostClass::Loopback),
            ("https://[::]/", HostClass::Loopback),
            ("https://[::ffff:127.0.0.1]/", HostClass::Loopback),
            ("https://10.1.2.3/", HostClass::Private),
            ("https://172.16.0.1/", HostClass::Private),
            ("https://172.31.255.255/", HostClass::Private),
            ("https://192.168.1.1/", HostClass::Private),
            ("https://100.64.0.1/", HostClass::Private),
            ("https://[fc00::1]/", HostClass::Private),
            ("https://[fd12:3456::1]/", HostClass::Private),
            ("https://[::ffff:10.0.0.1]/", HostClass::Private),
            ("https://169.254.169.254/", HostClass::LinkLocal),
            ("https://[fe80::1]/", HostClass::LinkLocal),
            ("https://[::ffff:169.254.169.254]/", HostClass::LinkLocal),
            ("https://[64:ff9b::a9fe:a9fe]/", HostClass::LinkLocal),
        ] {
            assert_eq!(host_class(&u(s)), c, "{s}");
        }
    }

    #[test]
    fn internal_targets_need_an_origin_of_the_same_kind() {
        let public = u("https://mcp.example.com/mcp");
        let sim = u("http://127.0.0.1:3000/mcp");
        let lan = u("https://10.0.0.5/mcp");
        for t in [
            "https://169.254.169.254/latest",
            "https://10.0.0.7/",
            "https://192.168.1.1/",
            "https://localhost/",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.169.254]/",
        ] {
            let e = check_reachable_from(&u(t), &public, "authorization server URL").unwrap_err();
            assert_eq!(e.code(), "private_address", "{t}");
            assert!(e.hint().is_some());
            assert!(e.to_string().contains("authorization server URL"), "{e}");
        }
        assert!(check_reachable_from(&u("https://auth.example.net/"), &public, "x").is_ok());
        assert!(check_reachable_from(&u("http://127.0.0.1:9/"), &sim, "x").is_ok());
        assert!(check_reachable_from(&u("https://localhost:9/"), &sim, "x").is_ok());
        assert!(check_reachable_from(&u("https://10.0.0.7/"), &lan, "x").is_ok());
        // Loopback or private does not open link-local, and the other way round.
        for (t, o) in [
            ("https://169.254.169.254/", &sim),
            ("https://10.0.0.7/", &sim),
            ("https://169.254.169.254/", &lan),
            ("https://127.0.0.1/", &lan),
        ] {
            assert_eq!(
                check_reachable_from(&u(t), o, "x").unwrap_err().code(),
                "private_address"
            );
        }
    }

    const REDIRECT: &str = "http://127.0.0.1:8765/callback";

    #[test]
    fn follower_arrives_at_the_redirect_uri_without_checking_or_requesting_it() {
        let mut f =
            RedirectFollower::new("https://auth.example.com/authorize?x=1", REDIRECT).unwrap();
        assert_eq!(f.start().as_str(), "https://auth.example.com/authorize?x=1");
        assert_eq!(
            f.handle_response(302, Some("/consent?y=2")).unwrap(),
            Hop::Follow(u("https://auth.example.com/consent?y=2"))
        );
        assert_eq!(
            f.handle_response(303, Some("http://127.0.0.1:8765/callback?code=c&state=s"))
                .unwrap(),
            Hop::Arrived("http://127.0.0.1:8765/callback?code=c&state=s".into())
        );
        // A look-alike of the redirect URI is a hop like any other (and fails its checks).
        let mut f = RedirectFollower::new("https://auth.example.com/a", REDIRECT).unwrap();
        assert_eq!(
            f.handle_response(302, Some("http://127.0.0.1:8765/callbackX?code=c"))
                .unwrap_err()
                .code(),
            "private_address"
        );
    }

    #[test]
    fn follower_refuses_internal_insecure_and_endless_hops() {
        // A hostile authorization endpoint on 127.0.0.1 (the simulator's kind of address).
        let start = "http://127.0.0.1:4000/authorize";
        for (loc, code) in [
            ("http://169.254.169.254/latest/meta-data/", "insecure_url"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "private_address",
            ),
            ("https://[::ffff:a9fe:a9fe]/", "private_address"),
            ("https://10.0.0.1/admin", "private_address"),
            ("https://192.168.1.1/", "private_address"),
            ("http://192.168.1.1/", "insecure_url"),
            ("ftp://127.0.0.1/", "insecure_url"),
            ("https://user:pw@127.0.0.1/", "invalid_url"),
            ("http://[::1", "invalid_url"),
        ] {
            let mut f = RedirectFollower::new(start, REDIRECT).unwrap();
            let e = f.handle_response(302, Some(loc)).unwrap_err();
            assert_eq!(e.code(), code, "{loc}");
        }
        // A public authorization endpoint may not send us to loopback either.
        let mut f = RedirectFollower::new("https://auth.example.com/a", REDIRECT).unwrap();
        assert_eq!(
            f.handle_response(302, Some("https://localhost:9/"))
                .unwrap_err()
                .code(),
            "private_address"
        );
        // Loopback to loopback is fine (a simulator's consent hop)...
        let mut f = RedirectFollower::new(start, REDIRECT).unwrap();
        for _ in 0..MAX_REDIRECT_HOPS {
            assert!(matches!(
                f.handle_response(302, Some("/again")).unwrap(),
                Hop::Follow(_)
            ));
        }
        // ...but bounded.
        let e = f.handle_response(302, Some("/again")).unwrap_err();
        assert_eq!(e.code(), "too_many_redirects");
        // A page instead of a redirect.
        let mut f = RedirectFollower::new(start, REDIRECT).unwrap();
        assert_eq!(
            f.handle_response(200, None).unwrap_err().code(),
            "authorization_denied"
        );
        assert_eq!(
            f.handle_response(302, None).unwrap_err().code(),
            "authorization_denied"
        );
        // The start itself must be an acceptable endpoint.
        assert_eq!(
            RedirectFollower::new("http://auth.example.com/a", REDIRECT)
                .unwrap_err()
                .code(),
            "insecure_url"
        );
    }
}
