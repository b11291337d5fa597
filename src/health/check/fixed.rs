//! Checks that do no I/O: `checktype=on`, `checktype=off`, a fixed "down" for checks that
//! cannot work, and a placeholder for check settings that are not implemented.

use super::{BoxFuture, Check, Outcome, Target};

/// `checktype=on`, and `negotiate` with service `none`: always up.
#[derive(Debug, Clone, Copy)]
pub struct AlwaysUp;

impl Check for AlwaysUp {
    fn run<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async { Outcome::Up })
    }
}

/// `checktype=off`: never changes a server's state.
#[derive(Debug, Clone, Copy)]
pub struct NotChecked;

impl Check for NotChecked {
    fn run<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async { Outcome::NotChecked })
    }
}

/// A check that cannot work as configured (or at all, as `service=oracle`): reports down
/// with the reason, as ldirectord keeps such reals down.
#[derive(Debug, Clone)]
pub struct AlwaysDown(pub String);

impl Check for AlwaysDown {
    fn run<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { Outcome::Down(self.0.clone()) })
    }
}

/// A check kind this build cannot run yet; reports down so nothing unchecked is added.
#[derive(Debug, Clone)]
pub struct Unsupported(pub String);

impl Check for Unsupported {
    fn run<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { Outcome::Down(format!("check {} is not implemented", self.0)) })
    }
}
