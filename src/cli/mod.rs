//! Command-line faces of lvsctl.

pub mod dispatch;
pub mod generate;
pub mod ipvsadm;
pub mod modern;
