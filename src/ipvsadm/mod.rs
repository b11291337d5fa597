//! ipvsadm 1.31's language, as a shared layer: the command-line grammar ([`parse`]) and
//! the output formats ([`format`]), byte for byte.
//!
//! Both are pure functions over the [`crate::ipvs::model`] types with names looked up
//! through [`crate::names::Resolver`]. The ipvsadm face (`cli::ipvsadm`) parses argv and
//! prints listings with them; rules files (`rules`) read `ipvsadm -S` lines with the same
//! grammar, so a file `ipvsadm -R` accepts is a file `lvsctl check` accepts.
//!
//! docs/ipvsadm-compat.md describes the ipvsadm 1.31 behaviour reproduced here, quirks
//! included.

pub mod format;
pub mod parse;
