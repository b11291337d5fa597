//! Command-line faces of lvsctl.

pub mod ipvsadm;
