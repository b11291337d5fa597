//! ipvsadm 1.31 output formats, byte for byte.
//!
//! Everything here is a pure function over the `ipvs::model` types that writes bytes into a
//! `std::io::Write`. Nothing talks to the kernel or to NSS: name lookups go through the
//! [`Resolver`](crate::names::Resolver) trait (pass [`NoNames`](crate::names::NoNames) for
//! `-n`, which yields exactly ipvsadm's numeric rendering). Output is written as bytes, not
//! `str`, because ipvsadm cuts names at byte offsets (33/28/59) and pads with `printf`, which
//! counts bytes.
//!
//! Entry points, by ipvsadm command:
//! * `-v`, `-h`: [`version::write_version`], [`help::write_help`];
//! * `-L` (full and single service): [`listing`] (+ [`sort`] for the order);
//! * `-S`: [`save`];
//! * `--timeout`, `--daemon`: [`status`];
//! * `-c`: [`conn`];
//! * error texts: [`errors`].

mod addr;
pub mod conn;
pub mod errors;
pub mod help;
pub mod listing;
mod number;
pub mod save;
mod service;
pub mod sort;
pub mod status;
mod strerror;
pub mod version;

#[cfg(test)]
mod tests;

pub use conn::{write_conn_header, write_conn_line};
pub use errors::{generic_error_message, init_failure_message, kernel_error_message};
pub use help::write_help;
pub use listing::{
    ListFormat, ListMode, write_full_listing, write_list_header, write_service_entry,
    write_single_listing, write_title,
};
pub use save::{write_save, write_save_service};
pub use sort::{sort_dests, sort_entries, sort_services};
pub use status::{write_daemons, write_timeouts};
pub use version::{version_mismatch_warning, write_version};
