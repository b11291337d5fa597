//! Health checks: one trait, one small type per check kind.
//!
//! Every check runs under a hard deadline ([`with_deadline`]): whatever the protocol does,
//! the future resolves by then, so one blackholed server can never delay another.
//! ldirectord checks its reals one after another, so there a blackholed real costs a whole
//! negotiatetimeout (30 s by default) per pass and delays every other real. Checks are
//! pure I/O: they report an [`Outcome`] and leave state (failure counts, kernel changes)
//! to the caller.

mod bounded;
mod combined;
mod connect;
mod crypto;
mod dialog;
mod dns;
mod external;
mod fixed;
mod ftp;
mod http;
mod http_chunked;
mod http_response;
mod http_url;
pub mod keepalived_dns;
pub mod keepalived_get;
pub mod keepalived_http;
pub mod keepalived_regex;
mod keepalived_smtp;
pub mod keepalived_udp;
mod ldap;
pub mod misc;
mod mysql;
mod nanny;
mod net;
mod pgsql;
mod ping;
mod radius;
pub mod reason;
mod simpleudp;
mod sip;
pub mod tls;

#[cfg(test)]
mod acceptance_tests;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod route_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

pub use bounded::{MAX_LINE, ReadError, read_line};
pub use combined::CombinedCheck;
pub use connect::ConnectCheck;
pub use dialog::{Dialog, DialogCheck, simpletcp_request};
pub use dns::DnsCheck;
pub use external::ExternalCheck;
pub use fixed::{AlwaysDown, AlwaysUp, NotChecked, Unsupported};
pub use ftp::FtpCheck;
pub use http::HttpCheck;
pub use http_response::{MalformedResponse, Response, parse_response};
pub use keepalived_dns::KeepalivedDns;
pub use keepalived_get::KeepalivedGet;
pub use keepalived_smtp::KeepalivedSmtp;
pub use keepalived_udp::KeepalivedUdp;
pub use ldap::LdapCheck;
pub use misc::MiscCheck;
pub use mysql::MysqlCheck;
pub use nanny::{Match as NannyMatch, NannyCheck};
pub use pgsql::PgsqlCheck;
pub use ping::PingCheck;
pub use radius::RadiusCheck;
pub use simpleudp::SimpleUdpCheck;
pub use sip::SipCheck;

use crate::health::config::{
    CheckService, CheckType, KeepalivedCheck, Nanny, NannyExpect, RealServer, VirtualService,
};
use crate::ipvs::model::ServiceKey;

/// A boxed future, so checks of different kinds can live behind one trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of one check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Up,
    /// Down, with a reason for logs and the status API.
    Down(String),
    /// The check type never changes state (`checktype=off`).
    NotChecked,
    /// The check could not be made because of trouble on this machine (no file descriptors,
    /// no memory or buffers, no free local port, an external check that could not be
    /// started), with the reason. It says nothing about the real server, so the real keeps
    /// its state and its counts: a checker short of descriptors must never take healthy
    /// real servers out.
    LocalFault(String),
}

/// What one check is aimed at: the real server plus the virtual it belongs to (external
/// commands receive both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub virtual_key: ServiceKey,
    pub real_addr: IpAddr,
    /// The real's port as configured (0 when omitted), not the kernel's mapped port.
    pub real_port: u16,
    /// Where connecting checks connect, as ldirectord picks it: `checkport`, else the
    /// real's port when it is not 0, else the service's well-known port (resolved when the
    /// config is read); None when nothing applies.
    pub check_port: Option<u16>,
    /// keepalived's `connect_ip` and `bindto`/`bind_port`; empty for every other format.
    pub route: Route,
}

/// Where a keepalived checker connects and binds when its `connect_ip` and `bindto` say
/// so: a checker may watch a real through another address (a health port on a management
/// network) and leave from a chosen source address (the one the real's firewall lets in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// Connect (or ping) here instead of the real's address.
    pub connect_ip: Option<IpAddr>,
    /// Bind the check's socket to this source before connecting; port 0 lets the kernel
    /// choose.
    pub bind: Option<SocketAddr>,
    /// keepalived's `bind_if`: the network device the socket is bound to
    /// (SO_BINDTODEVICE), so that it leaves through that device whatever the routing
    /// table says; what an IPv6 link-local `connect_ip` needs to name its link.
    pub device: Option<String>,
    /// keepalived's checker `fwmark`: the firewall mark the socket's packets carry
    /// (SO_MARK), which policy routing and the firewall can match; never 0.
    pub mark: Option<u32>,
}

impl Route {
    /// Where a connecting check's socket leaves from.
    pub fn source(&self) -> Source<'_> {
        Source {
            bind: self.bind,
            device: self.device.as_deref(),
            mark: self.mark,
        }
    }
}

/// The source side of a check's socket (see [`Route`]); the default binds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Source<'a> {
    pub bind: Option<SocketAddr>,
    pub device: Option<&'a str>,
    pub mark: Option<u32>,
}

impl Target {
    pub fn new(v: &VirtualService, r: &RealServer) -> Self {
        Self {
            virtual_key: v.key,
            real_addr: r.addr,
            real_port: r.port,
            check_port: r.check_port,
            route: Route::default(),
        }
    }

    /// The address checks talk to: `connect_ip` when there is one, else the real's.
    pub fn check_ip(&self) -> IpAddr {
        self.route.connect_ip.unwrap_or(self.real_addr)
    }

    /// The address connecting checks talk to: [`Self::check_ip`] at the check port.
    pub fn check_addr(&self) -> Option<SocketAddr> {
        self.check_port.map(|p| SocketAddr::new(self.check_ip(), p))
    }
}

/// One kind of health check.
pub trait Check: Send + Sync + fmt::Debug {
    /// Runs the check once. Implementations bound their own run time by their deadline.
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome>;
}

impl Outcome {
    /// The outcome with its reason escaped and capped (see [`reason::clean`]).
    #[must_use]
    pub fn cleaned(self) -> Self {
        match self {
            Self::Down(why) if !reason::is_clean(&why) => Self::Down(reason::clean(&why)),
            Self::LocalFault(why) if !reason::is_clean(&why) => {
                Self::LocalFault(reason::clean(&why))
            }
            other => other,
        }
    }
}

/// Resolves to `Down("timed out …")` if `fut` has not finished within `limit`. The daemon
/// runs every check through here, so this is also where reasons are cleaned
/// ([`Outcome::cleaned`]) before they reach the log, the monitor file or the status.
pub async fn with_deadline<F>(limit: Duration, fut: F) -> Outcome
where
    F: Future<Output = Outcome>,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(outcome) => outcome.cleaned(),
        Err(_) => Outcome::Down(format!("timed out after {} ms", limit.as_millis())),
    }
}

/// Whether `receive` matches a response body or file the way ldirectord's Perl `=~ /re/`
/// does: Perl's `$` also matches just before a final newline, so `^healthy$` accepts the
/// body `healthy\n`. The Rust regex's `$` does not, so the text without that one newline
/// is tried too. (Patterns that pin the very end with `\z` are thereby slightly more
/// lenient than in Perl.)
pub fn receive_matches(receive: &regex::Regex, text: &str) -> bool {
    receive.is_match(text) || text.strip_suffix('\n').is_some_and(|t| receive.is_match(t))
}

/// The check a virtual's settings ask for. Settings no check can honour (a receive pattern
/// that does not compile, ftp or simpletcp without receive) give [`Unsupported`], which
/// reports the real down with the reason.
pub fn checker_for(v: &VirtualService, r: &RealServer) -> Box<dyn Check> {
    let c = &v.check;
    let check_timeout = Duration::from_secs(u64::from(c.check_timeout));
    let udp = v.key.protocol() == Some(crate::ipvs::model::Protocol::Udp);
    if let Some(check) = keepalived_url_checks(v).into_iter().next() {
        return check;
    }
    if let Some(n) = &v.nanny {
        return nanny_check(n, check_timeout);
    }
    match &v.keepalived_check {
        Some(KeepalivedCheck::Smtp { helo_name }) => {
            return Box::new(KeepalivedSmtp {
                helo_name: helo_name.clone(),
                timeout: check_timeout,
            });
        }
        Some(KeepalivedCheck::Dns { qtype, name }) => {
            return Box::new(KeepalivedDns {
                qtype: *qtype,
                name: name.clone(),
                timeout: check_timeout,
            });
        }
        Some(KeepalivedCheck::Udp {
            payload,
            require_reply,
            reply,
            reply_mask,
            min_reply_length,
            max_reply_length,
        }) => {
            return Box::new(KeepalivedUdp {
                payload: payload.clone(),
                require_reply: *require_reply,
                reply: reply.clone(),
                reply_mask: reply_mask.clone(),
                min_reply_length: *min_reply_length,
                max_reply_length: *max_reply_length,
                timeout: check_timeout,
            });
        }
        None => {}
    }
    match c.check_type {
        CheckType::On => Box::new(AlwaysUp),
        CheckType::Off => Box::new(NotChecked),
        // ldirectord silently turns connect on UDP services into an ICMP ping.
        CheckType::Connect if !udp => Box::new(ConnectCheck::new(check_timeout)),
        CheckType::Connect | CheckType::Ping => Box::new(PingCheck {
            timeout: check_timeout,
            attempts: c.check_count,
        }),
        // ldirectord compiles external-perl scripts into itself; running the script as a
        // program keeps the same argv and exit-code contract without embedding Perl.
        CheckType::External | CheckType::ExternalPerl => {
            Box::new(ExternalCheck::new(&c.check_command, check_timeout))
        }
        CheckType::Negotiate => negotiate_for(v, r),
        CheckType::Combined(n) => Box::new(CombinedCheck::new(
            negotiate_for(v, r),
            Box::new(ConnectCheck::new(check_timeout)),
            n,
        )),
    }
}

/// Piranha's check; an `expect` regex that does not compile (the reader refuses one) is
/// [`Unsupported`].
fn nanny_check(n: &Nanny, timeout: Duration) -> Box<dyn Check> {
    let expect = match &n.expect {
        None => None,
        Some(NannyExpect::Text(t)) => Some(NannyMatch::Contains(t.clone())),
        Some(NannyExpect::Regex(re)) => match regex::bytes::Regex::new(re) {
            Ok(re) => Some(NannyMatch::Regex(re)),
            Err(e) => return Box::new(Unsupported(format!("expect regex ({e})"))),
        },
    };
    Box::new(NannyCheck {
        send: n.send.clone(),
        expect,
        program: n.program.clone(),
        udp: n.udp,
        timeout,
    })
}

/// One check per url of a virtual with keepalived's HTTP rules, in order (empty
/// otherwise): keepalived's HTTP checker fetches one url per run.
pub fn keepalived_url_checks(v: &VirtualService) -> Vec<Box<dyn Check>> {
    let Some(k) = &v.keepalived_http else {
        return Vec::new();
    };
    let timeout = Duration::from_secs(u64::from(v.check.check_timeout));
    let client = k
        .client_cert
        .as_ref()
        .map(|c| tls::client_config(c).map_err(|e| e.to_string()));
    k.urls
        .iter()
        .map(|u| -> Box<dyn Check> {
            Box::new(KeepalivedGet {
                path: u.path.clone(),
                protocol: k.protocol,
                virtualhost: u.virtualhost.clone(),
                expect: keepalived_http::Expect {
                    status: u.status.clone(),
                    digest: u.digest,
                    regex: u.regex.clone(),
                },
                sni: u.sni.clone(),
                timeout,
                tls: k.tls,
                client: client.clone(),
            })
        })
        .collect()
}

/// The protocol check for `service=` (each check's module says what it sends and what
/// counts as up, as in ldirectord), with the real's own request/receive
/// overriding the virtual's.
fn negotiate_for(v: &VirtualService, r: &RealServer) -> Box<dyn Check> {
    let c = &v.check;
    let timeout = Duration::from_secs(u64::from(c.negotiate_timeout.max(1)));
    let check_timeout = Duration::from_secs(u64::from(c.check_timeout.max(1)));
    let udp = v.key.protocol() == Some(crate::ipvs::model::Protocol::Udp);
    let request = r.request.clone().unwrap_or_else(|| c.request.clone());
    let receive_text = r.receive.clone().unwrap_or_else(|| c.receive.clone());
    let receive = if receive_text.is_empty() {
        None
    } else {
        match regex::Regex::new(&receive_text) {
            Ok(re) => Some(re),
            Err(e) => return Box::new(Unsupported(format!("receive regex ({e})"))),
        }
    };
    let login = (!c.login.is_empty()).then(|| (c.login.clone(), c.passwd.clone()));
    let dialog = |dialog, tls| -> Box<dyn Check> {
        Box::new(DialogCheck {
            dialog,
            tls,
            timeout,
        })
    };
    match c.service {
        CheckService::None => Box::new(AlwaysUp),
        CheckService::Http | CheckService::Https => Box::new(HttpCheck {
            tls: c.service == CheckService::Https,
            proxy: false,
            method: c.http_method,
            request: http::first_request(
                r.request.as_deref(),
                &c.request,
                c.service.keyword(),
                false,
            ),
            receive,
            virtual_host: c.virtual_host.clone(),
            timeout,
            redirects: c.redirects,
        }),
        CheckService::Dns => Box::new(DnsCheck {
            query: request.trim_start_matches('/').to_owned(),
            receive,
            tcp: v.key.protocol() == Some(crate::ipvs::model::Protocol::Tcp),
            timeout,
            retransmit: dns::RETRANSMIT,
        }),
        CheckService::Ftp => match receive {
            Some(receive) => Box::new(FtpCheck {
                login: c.login.clone(),
                passwd: c.passwd.clone(),
                file: request.clone(),
                receive,
                timeout,
            }),
            None => Box::new(Unsupported("ftp without receive".to_owned())),
        },
        CheckService::Sip => Box::new(SipCheck {
            login: c.login.clone(),
            udp,
            timeout,
        }),
        CheckService::Smtp | CheckService::Submission => dialog(Dialog::Smtp, false),
        CheckService::Pop | CheckService::Pops => {
            dialog(Dialog::Pop { login }, c.service == CheckService::Pops)
        }
        CheckService::Imap | CheckService::Imaps => {
            dialog(Dialog::Imap { login }, c.service == CheckService::Imaps)
        }
        CheckService::Nntp => dialog(Dialog::Nntp, false),
        // ldirectord opens the simpletcp socket with the virtual's protocol.
        CheckService::Simpletcp => match receive {
            Some(receive) if udp => Box::new(SimpleUdpCheck {
                request: simpletcp_request(&request),
                receive,
                timeout,
            }),
            Some(receive) => dialog(
                Dialog::SimpleTcp {
                    request: simpletcp_request(&request),
                    receive,
                },
                false,
            ),
            None => Box::new(Unsupported("simpletcp without receive".to_owned())),
        },
        // Authen::Radius runs under ldirectord's checktimeout alarm, over UDP always.
        CheckService::Radius => Box::new(RadiusCheck {
            login: c.login.clone(),
            passwd: c.passwd.clone(),
            secret: c.secret.clone(),
            timeout: check_timeout,
        }),
        CheckService::Ldap | CheckService::Ldaps => Box::new(LdapCheck {
            tls: c.service == CheckService::Ldaps,
            // Net::LDAP binds with credentials only when both are given.
            bind: (!c.login.is_empty() && !c.passwd.is_empty())
                .then(|| (c.login.clone(), c.passwd.clone())),
            base: request.strip_prefix('/').unwrap_or(&request).to_owned(),
            receive,
            connect_timeout: timeout,
            timeout: check_timeout,
        }),
        CheckService::HttpProxy => Box::new(HttpCheck {
            tls: false,
            proxy: true,
            method: c.http_method,
            request: http::first_request(r.request.as_deref(), &c.request, "http", true),
            receive,
            virtual_host: None,
            timeout,
            redirects: c.redirects,
        }),
        CheckService::Mysql | CheckService::Pgsql => {
            let query = request.strip_prefix('/').unwrap_or(&request).to_owned();
            if c.login.is_empty() || query.is_empty() {
                return Box::new(AlwaysDown(format!(
                    "{} checks need login= and a request= query (ldirectord keeps such reals down)",
                    c.service.keyword()
                )));
            }
            let (user, password, database) =
                (c.login.clone(), c.passwd.clone(), c.database.clone());
            let cleartext_passwords = c.cleartext_passwords;
            if c.service == CheckService::Mysql {
                Box::new(MysqlCheck {
                    user,
                    password,
                    database,
                    query,
                    timeout,
                    cleartext_passwords,
                })
            } else {
                Box::new(PgsqlCheck {
                    user,
                    password,
                    database,
                    query,
                    timeout,
                    cleartext_passwords,
                })
            }
        }
        CheckService::Oracle => Box::new(AlwaysDown(ORACLE_UNSUPPORTED.to_owned())),
    }
}

/// Why `service=oracle` always fails (also the gist of `check-config`'s warning).
pub const ORACLE_UNSUPPORTED: &str = "service=oracle is not supported: Oracle's TNS login cannot be done without Oracle's client library; use checktype=connect or an external check";
