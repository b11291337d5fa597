//! `lvsctl health`: the ldirectord-compatible health checker.
