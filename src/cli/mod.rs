//! Command-line faces of lvsctl.

pub mod dispatch;
pub mod ipvsadm;
pub mod modern;
