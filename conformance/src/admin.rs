//! The mock's admin API, used only when told (`--mock-admin URL`, or the
//! in-process mock): it never probes admin paths on its own.

use crate::client::{AdminError, Client};

/// Advances the mock's clock by `ticks`.
pub async fn advance(client: &Client, admin: &str, ticks: u64) -> Result<(), AdminError> {
    client
        .admin_post(
            &format!("{admin}/clock/advance"),
            &serde_json::json!({ "ticks": ticks }),
        )
        .await
        .map(|_| ())
}

/// Whether the mock moves orders on each status poll by itself (its clock
/// mode is `poll`), so the runner must not advance it too.
pub async fn polls_advance(client: &Client, admin: &str) -> Result<bool, AdminError> {
    let clock = client.admin_get(&format!("{admin}/clock")).await?;
    Ok(clock["mode"] == "poll")
}
