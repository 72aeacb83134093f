//! The integration tests of smm-conformance: one binary, a module per area.

mod cli;
mod clone;
mod detection;
mod first_contact;
mod hostile;
mod money;
mod proxy;
mod reports;
mod robustness;
mod snapshot;
mod stateful;
mod support;
