//! `mamori packs permissions m365|gws`: which permission each control needs, generated from the
//! packs' metadata (control → sections) and the connectors' own record of what each section
//! needs (collected from the demo imitation, so the table cannot drift from the code).

use crate::collect::{collect_app, gws_mock_config, runtime, Progress};
use crate::{load_engine, PackArgs};
use anyhow::{bail, Context, Result};
use mamori_connect::AppConfig;
use mamori_connect::HttpSettings;
use mamori_mock_saas::Behaviour;
use std::collections::{BTreeMap, BTreeSet};

/// Section → permission, as the connector records it.
fn section_permissions(pack: &str) -> Result<BTreeMap<String, String>> {
    let rt = runtime()?;
    let collected = rt.block_on(async {
        let config = match pack {
            "m365" => {
                let mock = mamori_mock_saas::m365::start(
                    &mamori_mock_saas::m365::M365TenantSpec::demo(),
                    Behaviour::default(),
                )
                .await?;
                let config = AppConfig::M365(serde_json::from_value(mock.config(true))?);
                let c = collect_app(&config, HttpSettings::default(), Progress::new(pack, false))
                    .await?;
                drop(mock);
                c
            }
            "gws" => {
                let mock = mamori_mock_saas::gws::start(
                    &mamori_mock_saas::gws::GwsTenantSpec::demo(),
                    Behaviour::default(),
                )
                .await?;
                let config = AppConfig::Gws(gws_mock_config(&mock));
                let c = collect_app(&config, HttpSettings::default(), Progress::new(pack, false))
                    .await?;
                drop(mock);
                c
            }
            other => bail!("no connector for pack {other:?} (m365, gws)"),
        };
        anyhow::Ok(config)
    })?;
    Ok(collected
        .collection
        .outcomes
        .iter()
        .map(|(k, o)| (k.clone(), o.permission.clone()))
        .collect())
}

/// The Markdown table (also embedded in docs/connect-*.md, checked by a test).
pub fn table(pack_id: &str) -> Result<String> {
    let engine = load_engine(&PackArgs { packs: Vec::new() })?;
    let pack = engine
        .packs()
        .iter()
        .find(|p| p.id == pack_id)
        .with_context(|| format!("no pack {pack_id:?}"))?;
    let permissions = section_permissions(pack_id)?;
    let mut out = String::from("| Control | Sections read | Needs |\n|---|---|---|\n");
    let mut all: BTreeSet<String> = BTreeSet::new();
    for (_, control) in pack.controls() {
        if !control.automated {
            continue;
        }
        let needs: BTreeSet<String> = control
            .sections
            .iter()
            .filter_map(|s| permissions.get(s))
            .flat_map(|p| {
                p.split(", ")
                    .flat_map(|q| {
                        q.split(" and https://").enumerate().map(|(i, part)| {
                            if i == 0 {
                                part.to_string()
                            } else {
                                format!("https://{part}")
                            }
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        all.extend(needs.iter().cloned());
        let needs = if needs.is_empty() {
            "nothing beyond the sign-in".to_string()
        } else {
            needs.into_iter().collect::<Vec<_>>().join("; ")
        };
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            control.id,
            control.sections.join(", "),
            needs
        ));
    }
    out.push_str("\nEvery permission above, once:\n\n");
    for p in all {
        out.push_str(&format!("- {p}\n"));
    }
    Ok(out)
}
