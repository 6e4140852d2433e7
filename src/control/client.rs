//! `cotty -S PATH COMMAND`: send one request to a running cotty and print the reply.

use super::{Reply, Request};
use anyhow::Result;
use std::path::Path;

/// Sends `request` to the cotty listening on `path` and returns its reply.
pub async fn call(_path: &Path, _request: &Request) -> Result<Reply> {
    anyhow::bail!("not built yet")
}
