//! `lvsctl top`: the live dashboard.
