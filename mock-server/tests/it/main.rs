//! The integration tests of smm-mock: one binary, a module per area.

mod accounts;
mod actions;
mod admin;
mod bad_input;
mod bulk;
mod cli;
mod connections;
mod determinism;
mod lifecycle;
mod money;
mod profiles;
mod readme;
mod schemas;
mod support;
