//! ipvsadm's listing order: glibc's `qsort` (a top-down stable merge sort)
//! driven by comparators that subtract in 32-bit wrap-around arithmetic.
//!
//! The comparators are not transitive (`200.0.0.1` < `1.0.0.1` < `2.0.0.1`, but
//! `2.0.0.1` < `200.0.0.1`), so the result depends on the exact merge shape as well as on the
//! input order. Both are reproduced here: split off ⌊n/2⌋ elements on the left, sort both
//! halves, merge taking the left element when the comparison is ≤ 0. Any other algorithm
//! (even another stable sort) produces a different order for such tables.

use std::net::IpAddr;

use crate::ipvs::model::{Dest, Service, ServiceEntry, ServiceKey};

/// Sorts services as `ipvsadm -L` / `-S` do; input is the kernel's dump order.
pub fn sort_services(services: &mut Vec<Service>) {
    glibc_msort(services, compare_services);
}

/// Same as [`sort_services`], for services carried with their destinations.
pub fn sort_entries(entries: &mut Vec<ServiceEntry>) {
    glibc_msort(entries, |a, b| compare_services(&a.service, &b.service));
}

/// Sorts the destinations of one service; input is the kernel's (newest-first) order.
pub fn sort_dests(dests: &mut Vec<Dest>) {
    glibc_msort(dests, compare_dests);
}

/// The entries in listing order, borrowed (no copy of the table).
pub(super) fn sorted_entries(entries: &[ServiceEntry]) -> Vec<&ServiceEntry> {
    let mut refs: Vec<&ServiceEntry> = entries.iter().collect();
    glibc_msort(&mut refs, |a, b| compare_services(&a.service, &b.service));
    refs
}

/// The destinations in listing order, borrowed.
pub(super) fn sorted_dests(dests: &[Dest]) -> Vec<&Dest> {
    let mut refs: Vec<&Dest> = dests.iter().collect();
    glibc_msort(&mut refs, |a, b| compare_dests(a, b));
    refs
}

/// libipvs' destination comparator: address (family of the first argument), then port.
fn compare_dests(a: &Dest, b: &Dest) -> i32 {
    compare_addr_port(a.addr.is_ipv6(), a.addr, a.port, b.addr, b.port)
}

/// libipvs' service comparator: fwmark, family, protocol, address, port — each a C `int`
/// difference, the fwmark and address ones wrapping around in 32 bits.
fn compare_services(a: &Service, b: &Service) -> i32 {
    let (ka, kb) = (&a.key, &b.key);
    let r = fwmark(ka).wrapping_sub(fwmark(kb)) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(ka.af().raw()) - i32::from(kb.af().raw());
    if r != 0 {
        return r;
    }
    let r = i32::from(protocol(ka)) - i32::from(protocol(kb));
    if r != 0 {
        return r;
    }
    compare_addr_port(
        ka.af() == crate::ipvs::model::AddressFamily::Inet6,
        addr(ka),
        ka.port(),
        addr(kb),
        kb.port(),
    )
}

fn fwmark(key: &ServiceKey) -> u32 {
    match key {
        ServiceKey::Fwmark { mark, .. } => *mark,
        ServiceKey::Addr { .. } => 0,
    }
}

/// fwmark services carry protocol 0 in the kernel's reply.
fn protocol(key: &ServiceKey) -> u16 {
    key.protocol().map_or(0, crate::ipvs::model::Protocol::raw)
}

/// fwmark services carry the all-zero address in the kernel's reply.
fn addr(key: &ServiceKey) -> IpAddr {
    match key {
        ServiceKey::Addr { addr, .. } => *addr,
        ServiceKey::Fwmark { af, .. } => af.unspecified(),
    }
}

/// Address then port. Whether all four address words or only the first are compared is
/// decided by the *first* argument's family, as in libipvs.
fn compare_addr_port(v6: bool, a: IpAddr, pa: u16, b: IpAddr, pb: u16) -> i32 {
    let (wa, wb) = (words(a), words(b));
    let count = if v6 { 4 } else { 1 };
    let r = wa
        .iter()
        .zip(wb.iter())
        .take(count)
        .map(|(x, y)| x.wrapping_sub(*y) as i32)
        .find(|r| *r != 0)
        .unwrap_or(0);
    if r != 0 {
        return r;
    }
    i32::from(pa) - i32::from(pb)
}

/// The address as the C union holds it, each word converted with `ntohl`; an IPv4 address
/// occupies the first word and the rest is zero.
fn words(addr: IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    }
}

/// Reorders `items` exactly as glibc 2.36's `qsort` (merge sort path) would with `cmp`.
fn glibc_msort<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> i32) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut tmp = Vec::with_capacity(order.len());
    msort(&mut order, &mut tmp, &|x, y| cmp(&items[x], &items[y]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .iter()
            .filter_map(|&i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// glibc `msort_with_tmp` on indices: left half of ⌊n/2⌋, ties taken from the left.
fn msort(idx: &mut [usize], tmp: &mut Vec<usize>, cmp: &dyn Fn(usize, usize) -> i32) {
    if idx.len() <= 1 {
        return;
    }
    let n1 = idx.len() / 2;
    {
        let (left, right) = idx.split_at_mut(n1);
        msort(left, tmp, cmp);
        msort(right, tmp, cmp);
    }
    tmp.clear();
    let (left, right) = idx.split_at(n1);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if cmp(left[i], right[j]) <= 0 {
            tmp.push(left[i]);
            i += 1;
        } else {
            tmp.push(right[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&left[i..]);
    tmp.extend_from_slice(&right[j..]);
    idx.copy_from_slice(tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msort_is_stable_and_sorts_transitive_input() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        glibc_msort(&mut v, |a, b| a.0 - b.0);
        assert_eq!(v, vec![(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
    }

    #[test]
    fn wraparound_makes_high_addresses_small() {
        let a: IpAddr = "200.0.0.1".parse().unwrap();
        let b: IpAddr = "1.0.0.1".parse().unwrap();
        assert!(compare_addr_port(false, a, 80, b, 80) < 0);
        let c: IpAddr = "ffff::1".parse().unwrap();
        let d: IpAddr = "::2".parse().unwrap();
        assert!(compare_addr_port(true, c, 80, d, 80) < 0);
    }
}
