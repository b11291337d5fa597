//! keepalived's HTTP_GET/SSL_GET over a connection: connect (within `connect_timeout`),
//! send the request, read until EOF with `connect_timeout` for each read, then judge
//! (the exchange itself is [`super::keepalived_http`]). keepalived bounds each step by
//! its connection timeout rather than the whole run; the daemon's outer deadline still
//! bounds the run.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::keepalived_http::{Expect, Protocol, Response, request};
use tokio::time::timeout;

use super::{BoxFuture, Check, Outcome, Target};

/// One url of an HTTP_GET (or SSL_GET, with `tls`).
#[derive(Debug, Clone)]
pub struct KeepalivedGet {
    pub path: String,
    pub protocol: Protocol,
    /// The Host header's name; None sends the address and port.
    pub virtualhost: Option<String>,
    pub expect: Expect,
    /// `connect_timeout`, per step.
    pub timeout: Duration,
    /// SSL_GET: TLS without certificate verification and without SNI.
    pub tls: bool,
}

impl Check for KeepalivedGet {
    fn run<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(port) = target.check_port else {
                return Outcome::Down("no port to connect to".to_owned());
            };
            let addr = SocketAddr::new(target.real_addr, port);
            match self.exchange(addr).await {
                Ok(()) => Outcome::Up,
                Err(outcome) => outcome,
            }
        })
    }
}

impl KeepalivedGet {
    async fn exchange(&self, addr: SocketAddr) -> Result<(), Outcome> {
        let timed_out = |what: &str| Outcome::Down(format!("Timeout {what} {addr}"));
        let mut stream = timeout(self.timeout, super::net::connect(addr, self.tls))
            .await
            .map_err(|_| timed_out("connecting"))?
            .map_err(super::net::Failure::into_outcome)?;
        let req = request(&self.path, self.protocol, self.virtualhost.as_deref(), addr);
        timeout(self.timeout, stream.write_all(&req))
            .await
            .map_err(|_| timed_out("WEB write"))?
            .map_err(|e| Outcome::Down(format!("Cannot send get request to {addr}: {e}")))?;
        let mut response = Response::default();
        let mut buf = vec![0u8; 4096];
        loop {
            let room = response.room();
            if room == 0 {
                break;
            }
            let n = timeout(self.timeout, stream.read(&mut buf[..room]))
                .await
                .map_err(|_| timed_out("HTTP read"))?
                .map_err(|e| Outcome::Down(format!("Read error with {addr}: {e}")))?;
            if n == 0 {
                break;
            }
            response.feed(&buf[..n]);
        }
        response
            .judge(&self.expect)
            .map_err(|why| Outcome::Down(format!("{why} {addr}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve(reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0u8; 512];
            let n = s.read(&mut got).await.unwrap();
            got.truncate(n);
            s.write_all(reply).await.unwrap();
            got
        });
        (port, task)
    }

    fn get(path: &str) -> KeepalivedGet {
        KeepalivedGet {
            path: path.to_owned(),
            protocol: Protocol::Http10,
            virtualhost: None,
            expect: Expect {
                status: vec![(200, 299)],
                digest: None,
            },
            timeout: Duration::from_secs(2),
            tls: false,
        }
    }

    fn target(port: u16) -> Target {
        Target {
            virtual_key: crate::ipvs::model::ServiceKey::Addr {
                protocol: crate::ipvs::model::Protocol::Tcp,
                addr: "192.0.2.1".parse().unwrap(),
                port: 80,
            },
            real_addr: "127.0.0.1".parse().unwrap(),
            real_port: port,
            check_port: Some(port),
        }
    }

    #[tokio::test]
    async fn a_2xx_answer_passes_and_a_404_fails() {
        let (port, server) = serve(b"HTTP/1.0 200 OK\r\n\r\nok").await;
        assert_eq!(get("/h").run(&target(port)).await, Outcome::Up);
        let sent = server.await.unwrap();
        assert_eq!(
            sent,
            format!(
                "GET /h HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            )
            .into_bytes()
        );
        let (port, _server) = serve(b"HTTP/1.0 404 Not Found\r\n\r\n").await;
        assert_eq!(
            get("/h").run(&target(port)).await,
            Outcome::Down(format!("HTTP status code error 127.0.0.1:{port}"))
        );
    }

    #[tokio::test]
    async fn a_closed_port_fails() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(matches!(
            get("/").run(&target(port)).await,
            Outcome::Down(_)
        ));
    }
}
