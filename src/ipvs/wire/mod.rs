//! Encoding and decoding of IPVS generic netlink messages (pure; no sockets here).
