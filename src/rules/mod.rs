//! Rules files: the IPVS table kept in git and brought to the kernel safely.
//!
//! `lvsctl check` lints files offline, `lvsctl diff` shows the plan against the live table,
//! `lvsctl apply` executes it with the fewest kernel writes. The core is pure: [`load`]
//! (file → desired table with source positions), [`lint`] (semantic findings), [`plan`]
//! (desired vs live → ordered steps) and [`render`]; only [`apply`] talks to a
//! [`crate::ipvs::Backend`], and [`run`] is each command from options to exit status.

pub mod apply;
pub mod interrupt;
pub mod ipvsadm_lines;
pub mod json_pos;
pub mod lint;
pub mod load;
pub mod lock;
pub mod model;
pub mod plan;
pub mod render;
pub mod report;
pub mod run;
pub mod source;
pub mod tokens;

#[cfg(test)]
mod tests;
