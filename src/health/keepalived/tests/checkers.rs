//! Checkers: each type, timing inheritance, scripts.

#[allow(unused_imports)]
use super::*;
