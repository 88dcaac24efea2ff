//! Microsoft Graph (beta and v1.0 paths) for the Entra ID sections.

use super::{M365State, M365TenantSpec};
use axum::Router;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct GraphData {}

impl GraphData {
    pub fn build(export: &Value, spec: &M365TenantSpec, tenant_id: &str, initial_domain: &str) -> Self {
        let _ = (export, spec, tenant_id, initial_domain);
        GraphData {}
    }
}

pub fn routes() -> Router<Arc<M365State>> {
    Router::new()
}

pub fn lower_bound(state: &M365State) -> BTreeMap<String, u64> {
    let _ = state;
    BTreeMap::new()
}
