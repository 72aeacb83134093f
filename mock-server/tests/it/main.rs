//! The integration tests of smm-mock: one binary, a module per area.

mod accounts;
mod actions;
mod admin;
mod bad_input;
mod bulk;
#[cfg(feature = "cli")]
mod cli;
mod connections;
mod determinism;
mod features;
mod lifecycle;
mod money;
mod profiles;
#[cfg(feature = "cli")]
mod readme;
mod schemas;
mod support;
