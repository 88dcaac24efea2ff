//! SPF, DKIM and DMARC: TXT lookups of the tenant's domains in ScubaGoggles' shapes.

use super::config::GwsConfig;
use crate::collection::SectionError;
use crate::dns::Resolver;
use serde_json::{json, Value};

/// One TXT lookup in ScubaGoggles' log shape.
async fn lookup(resolver: &Resolver, name: &str) -> (Vec<String>, Value, bool) {
    match resolver.txt(name).await {
        Ok(a) => {
            let result = format!("Query returned {} txt records", a.records.len());
            let entry = json!({"query_name": name, "query_method": "traditional", "query_result": result, "query_answers": a.records});
            (a.records, entry, true)
        }
        Err(e) => {
            let entry = json!({"query_name": name, "query_method": "traditional", "query_result": format!("Query resulted in exception {e}"), "query_answers": []});
            (Vec::new(), entry, false)
        }
    }
}

pub(super) type DnsSection = (&'static str, &'static str, Result<Value, SectionError>);

/// SPF, DKIM and DMARC records of the verified domains (and DMARC of the alias domains).
pub(super) async fn dns_records(
    config: &GwsConfig,
    domains: &[String],
    aliases: &[String],
) -> Vec<DnsSection> {
    let resolver = Resolver::new(config.dns_server);
    let mut spf = Vec::new();
    let mut dkim = Vec::new();
    let mut dmarc = Vec::new();
    let (mut answered, mut asked) = (0usize, 0usize);
    for d in domains {
        let (records, entry, ok) = lookup(&resolver, d).await;
        asked += 1;
        answered += ok as usize;
        spf.push(json!({"domain": d, "rdata": records, "log": [entry]}));
        let mut log = Vec::new();
        let mut rdata = Vec::new();
        for selector in ["google", "selector1", "selector2"] {
            let (records, entry, ok) =
                lookup(&resolver, &format!("{selector}._domainkey.{d}")).await;
            asked += 1;
            answered += ok as usize;
            log.push(entry);
            if !records.is_empty() {
                rdata = records;
                break;
            }
        }
        dkim.push(json!({"domain": d, "rdata": rdata, "log": log}));
    }
    for d in domains.iter().chain(aliases) {
        let (mut records, entry, ok) = lookup(&resolver, &format!("_dmarc.{d}")).await;
        asked += 1;
        answered += ok as usize;
        let mut log = vec![entry];
        if records.is_empty() {
            // The organisational domain's policy applies: ScubaGoggles asks the last two labels.
            let labels: Vec<&str> = d.split('.').collect();
            let org = labels[labels.len().saturating_sub(2)..].join(".");
            let (r, entry, ok) = lookup(&resolver, &format!("_dmarc.{org}")).await;
            asked += 1;
            answered += ok as usize;
            log.push(entry);
            records = r;
        }
        dmarc.push(json!({"domain": d, "rdata": records, "log": log}));
    }
    let result = |v: Vec<Value>| -> Result<Value, SectionError> {
        if asked > 0 && answered == 0 {
            Err(SectionError::Other(format!(
                "no DNS answer from {} for any of {asked} TXT lookups",
                config.dns_server
            )))
        } else {
            Ok(json!(v))
        }
    };
    vec![
        ("spf_records", "get_spf_records", result(spf)),
        ("dkim_records", "get_dkim_records", result(dkim)),
        ("dmarc_records", "get_dmarc_records", result(dmarc)),
    ]
}
