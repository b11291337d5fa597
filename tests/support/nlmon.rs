//! The IPVS requests a process of the test's network namespace really sent, captured on an
//! nlmon device (every netlink message of the namespace) by tcpdump and read back from the
//! pcap file. Polling the table cannot prove "nothing was written": a real deleted and
//! re-added between two polls looks untouched. The capture sees every request.
//!
//! The pcap file is LINKTYPE_NETLINK (253): each packet is a 16-byte LINUX_SLL-style
//! header, whose last two bytes (big-endian) name the netlink protocol, then the netlink
//! messages of one send. The messages are read with the crate's own netlink framing and
//! attribute index (`lvsctl::ipvs::wire`).
//!
//! Include it next to `mod support;` with `#[path = "support/nlmon.rs"] mod nlmon;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Child, ChildStderr, Command, Stdio};

use lvsctl::ipvs::wire::IpvsCmd;
use lvsctl::ipvs::wire::consts::{CmdAttr, DestAttr};
use lvsctl::ipvs::wire::frame::{NLM_F_REQUEST, split};
use lvsctl::ipvs::wire::index::AttrIndex;

use crate::support::sh;

const LINKTYPE_NETLINK: u32 = 253;
const NETLINK_GENERIC: u16 = 16;
/// Generic netlink's own controller (family lookups), not IPVS.
const GENL_ID_CTRL: u16 = 16;
const AF_INET6: u16 = 10;

/// One IPVS request (user space to the kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub cmd: u8,
    /// The real server of a destination command.
    pub dest: Option<(IpAddr, u16)>,
}

impl Request {
    /// Anything but a read (GET_*).
    pub fn is_write(&self) -> bool {
        ![
            IpvsCmd::GetService,
            IpvsCmd::GetDest,
            IpvsCmd::GetDaemon,
            IpvsCmd::GetConfig,
            IpvsCmd::GetInfo,
        ]
        .into_iter()
        .any(|c| u8::from(c) == self.cmd)
    }

    /// NEW_DEST, SET_DEST or DEL_DEST: the name of the command, else None.
    pub fn dest_write(&self) -> Option<&'static str> {
        [
            (IpvsCmd::NewDest, "NEW_DEST"),
            (IpvsCmd::SetDest, "SET_DEST"),
            (IpvsCmd::DelDest, "DEL_DEST"),
        ]
        .into_iter()
        .find(|(c, _)| u8::from(*c) == self.cmd)
        .map(|(_, name)| name)
    }
}

/// tcpdump on `nlmon0`, a device this capture adds to the netns and deletes when dropped.
pub struct Capture {
    child: Child,
    file: String,
    _stderr: BufReader<ChildStderr>,
}

impl Capture {
    /// Starts the capture into /tmp/lvcap-PID-TAG.pcap; returns once tcpdump listens.
    pub fn start(tag: &str) -> Self {
        let (_, err, rc) = sh("ip link add nlmon0 type nlmon && ip link set nlmon0 up");
        assert_eq!(rc, 0, "nlmon: {err}");
        let file = format!("/tmp/lvcap-{}-{tag}.pcap", std::process::id());
        let mut child = Command::new("tcpdump")
            .args([
                "-i",
                "nlmon0",
                "-U",
                "--immediate-mode",
                "-B",
                "16384",
                "-s",
                "0",
            ])
            .args(["-w", &file])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump (tests/vm/lvs-vm installs it)");
        let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
        let mut line = String::new();
        loop {
            line.clear();
            let n = stderr.read_line(&mut line).expect("tcpdump's stderr");
            assert!(n > 0, "tcpdump ended before it listened");
            if line.contains("listening") {
                break;
            }
        }
        Self {
            child,
            file,
            _stderr: stderr,
        }
    }

    /// Stops the capture and returns every IPVS request it saw, in order.
    pub fn finish(mut self) -> Vec<Request> {
        let _ = sh(&format!("kill -INT {}", self.child.id()));
        let _ = self.child.wait();
        let bytes = std::fs::read(&self.file).expect("the capture file");
        requests(&bytes)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.file);
        let _ = sh("ip link del nlmon0");
    }
}

/// The IPVS requests in a pcap file of an nlmon device.
pub fn requests(pcap: &[u8]) -> Vec<Request> {
    let u32le = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().expect("4 bytes"));
    assert!(pcap.len() >= 24, "an empty capture");
    assert_eq!(u32le(0), 0xa1b2_c3d4, "a little-endian pcap file");
    assert_eq!(u32le(20), LINKTYPE_NETLINK, "LINKTYPE_NETLINK");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32le(at + 8) as usize;
        let packet = &pcap[at + 16..(at + 16 + len).min(pcap.len())];
        at += 16 + len;
        if packet.len() < 16 || u16::from_be_bytes([packet[14], packet[15]]) != NETLINK_GENERIC {
            continue;
        }
        // A batch holds several messages; a captured buffer that does not split is skipped.
        for msg in split(&packet[16..]).unwrap_or_default() {
            if msg.ty == GENL_ID_CTRL || msg.flags & NLM_F_REQUEST == 0 || msg.payload.len() < 4 {
                continue;
            }
            out.push(Request {
                cmd: msg.payload[0],
                dest: dest(&msg.payload[4..]),
            });
        }
    }
    out
}

/// The real server named by a request's DEST nest.
fn dest(attrs: &[u8]) -> Option<(IpAddr, u16)> {
    let nest = AttrIndex::new(attrs).ok()?.get(CmdAttr::Dest)?;
    let d = AttrIndex::new(nest).ok()?;
    let port = d.get(DestAttr::Port).and_then(|p| p.get(..2))?;
    let raw = d.get(DestAttr::Addr)?;
    let six = d
        .get(DestAttr::AddrFamily)
        .and_then(|f| f.get(..2))
        .is_some_and(|f| u16::from_ne_bytes([f[0], f[1]]) == AF_INET6);
    let addr = if six {
        IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(raw.get(..16)?).ok()?))
    } else {
        IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(raw.get(..4)?).ok()?))
    };
    Some((addr, u16::from_be_bytes([port[0], port[1]])))
}
