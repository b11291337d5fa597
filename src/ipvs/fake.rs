//! An in-memory IPVS that behaves like the kernel, for tests without root.
