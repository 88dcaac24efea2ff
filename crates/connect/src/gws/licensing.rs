//! Enterprise License Manager: assigned licences per product and SKU ScubaGoggles knows.

use super::client::{enc, Client, SCOPE_LICENSING};
use crate::http::ApiError;
use serde_json::{json, Value};

/// The product and SKU pairs ScubaGoggles asks the Licensing API about, with product names.
const SKUS: &[(&str, &str, &str)] = &[
    (
        "Google-Apps",
        "1010020027",
        "Google Workspace Business Starter",
    ),
    (
        "Google-Apps",
        "1010020028",
        "Google Workspace Business Standard",
    ),
    (
        "Google-Apps",
        "1010020025",
        "Google Workspace Business Plus",
    ),
    (
        "Google-Apps",
        "1010020029",
        "Google Workspace Enterprise Starter",
    ),
    (
        "Google-Apps",
        "1010020026",
        "Google Workspace Enterprise Standard",
    ),
    (
        "Google-Apps",
        "1010020020",
        "Google Workspace Enterprise Plus",
    ),
    ("Google-Apps", "1010060001", "Google Workspace Essentials"),
    (
        "Google-Apps",
        "1010060003",
        "Google Workspace Enterprise Essentials",
    ),
    (
        "Google-Apps",
        "1010060005",
        "Google Workspace Enterprise Essentials Plus",
    ),
    (
        "Google-Apps",
        "1010020030",
        "Google Workspace Frontline Starter",
    ),
    (
        "Google-Apps",
        "1010020031",
        "Google Workspace Frontline Standard",
    ),
    (
        "Google-Apps",
        "1010020034",
        "Google Workspace Frontline Plus",
    ),
    ("101047", "1010470001", "Gemini Enterprise - Legacy"),
    ("101047", "1010470002", "Gemini Business - Legacy"),
    ("101047", "1010470003", "AI Meetings and Messaging"),
    ("101047", "1010470006", "AI Security"),
    ("101047", "1010470007", "Google AI Ultra for Business"),
    ("101001", "1010010001", "Cloud Identity Free"),
    ("101005", "1010050001", "Cloud Identity Premium"),
    ("101039", "1010390001", "Google Workspace Assured Controls"),
    (
        "101039",
        "1010390002",
        "Google Workspace Assured Controls Plus",
    ),
    ("Google-Vault", "Google-Vault", "Google Vault"),
    ("101033", "1010330003", "Google Voice Starter"),
    ("101033", "1010330004", "Google Voice Standard"),
    ("101033", "1010330002", "Google Voice Premier"),
    (
        "101040",
        "1010400001",
        "Google Workspace Additional Storage",
    ),
];

/// Licence counts per SKU. SKUs the customer does not have answer 400/404 and count as none;
/// a permission error fails the section (the counts would be wrong).
pub(super) async fn fetch_licences(
    client: &Client,
    customer: &str,
) -> Result<Vec<Value>, ApiError> {
    let mut set = tokio::task::JoinSet::new();
    for (i, (product, sku, _)) in SKUS.iter().enumerate() {
        let api = client.api(SCOPE_LICENSING);
        let url = format!(
            "{}/apps/licensing/v1/product/{}/sku/{}/users?customerId={}&maxResults=1000&fields={}",
            client.licensing,
            enc(product),
            enc(sku),
            enc(customer),
            enc("nextPageToken,items(userId)")
        );
        set.spawn(async move { (i, api.google_list("license_data", &url, "items").await) });
    }
    let mut counts: Vec<(usize, usize)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| ApiError::Transport {
            url: "licensing".into(),
            message: e.to_string(),
            attempts: 1,
        })?;
        match r {
            Ok(items) => counts.push((i, items.len())),
            Err(e) if matches!(e.http_status(), Some(400 | 404)) => {}
            Err(e) => {
                set.abort_all();
                return Err(e);
            }
        }
    }
    counts.sort();
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| {
            let (product, sku, name) = SKUS[i];
            json!({"product_name": name, "sku_id": sku, "product_id": product, "status": "Active", "assigned": n})
        })
        .collect())
}
