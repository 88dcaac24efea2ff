//! Microsoft Entra ID through Microsoft Graph.

use super::{M365Config, M365Context, SectionResult};
use crate::collection::SectionError;
use crate::http::{Api, Call};
use serde_json::{Map, Value};

/// ScubaGear's key casing: the first letter of every key upper-cased, recursively; `@…` keys kept.
pub fn pascal_case(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = if k.starts_with('@') {
                        k.clone()
                    } else {
                        let mut chars = k.chars();
                        match chars.next() {
                            Some(first) => first.to_uppercase().chain(chars).collect(),
                            None => String::new(),
                        }
                    };
                    (key, pascal_case(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(pascal_case).collect()),
        other => other.clone(),
    }
}

/// `license_information` and `service_plans` from one `subscribedSkus` call.
pub async fn subscribed_skus(graph: &Api, config: &M365Config) -> (Result<Value, SectionError>, Result<Value, SectionError>) {
    let _ = (graph, config);
    (Err(SectionError::Other("not yet".into())), Err(SectionError::Other("not yet".into())))
}

pub async fn collect(ctx: &M365Context) -> Vec<SectionResult> {
    let _ = ctx;
    let _ = Call::get("");
    Vec::new()
}
