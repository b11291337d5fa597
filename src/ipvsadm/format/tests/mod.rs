//! Byte-exact tests of the ipvsadm formats against outputs captured from the real ipvsadm
//! 1.31 (`golden/*.txt`, from the capture runs e2/e3/e5/e6, `$` line-end markers
//! removed), plus insta snapshots for cases no capture covers.
//!
//! Each golden table is rebuilt in the model in the kernel's dump order (as `--nosort`
//! showed it), so the sorting code is exercised on every sorted listing.

mod conn_status;
mod e2_mixed_table;
mod e5_names_and_sort;
mod e6_largenum;
mod snapshots;
mod spec_examples;
mod support;
mod vm_names;
