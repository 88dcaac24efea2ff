//! Control metadata by id (title, remediation, severity, frameworks) for pages, API and
//! notifications, taken from the loaded packs so a customer pack's controls show too.

use std::collections::{BTreeMap, HashMap};

use mamori_core::{Criticality, Lang, Localized, Severity};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ControlMeta {
    pub id: String,
    pub pack: String,
    pub product: Localized,
    pub title: Localized,
    pub remediation: Localized,
    pub severity: Severity,
    pub criticality: Criticality,
    pub references: Vec<String>,
    pub frameworks: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    controls: HashMap<String, ControlMeta>,
}

impl Catalog {
    pub fn from_engine(engine: &mamori_policy::Engine) -> Catalog {
        let mut controls = HashMap::new();
        for pack in engine.packs() {
            for (product, control) in pack.controls() {
                controls.insert(
                    control.id.clone(),
                    ControlMeta {
                        id: control.id.clone(),
                        pack: pack.id.clone(),
                        product: product.name.clone(),
                        title: control.title.clone(),
                        remediation: control.remediation.clone(),
                        severity: control.severity,
                        criticality: control.criticality,
                        references: control.references.clone(),
                        frameworks: control.frameworks.clone(),
                    },
                );
            }
        }
        Catalog { controls }
    }

    pub fn get(&self, id: &str) -> Option<&ControlMeta> {
        self.controls.get(id)
    }

    /// The control's title in `lang`, or its id when the control is unknown (a removed pack).
    pub fn title(&self, id: &str, lang: Lang) -> String {
        self.get(id)
            .map(|c| c.title.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    }
}
