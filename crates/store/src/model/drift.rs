//! Drift: what changed between a scan and the tenant's previous succeeded scan, per control.

use std::collections::HashMap;

use mamori_core::{Severity, Status};
use serde::{Deserialize, Serialize};

use super::StoredResult;
use crate::{Result, Store};

/// One control in a [`Drift`] list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    pub control_id: String,
    pub severity: Severity,
    /// Status in the previous succeeded scan (`None`: not judged there).
    pub previous_status: Option<Status>,
    pub status: Status,
}

/// A scan compared with the tenant's previous succeeded scan, per control. The three lists are
/// disjoint: `regressions` passed before and fail now; `new_failures` fail now and neither
/// failed nor passed before (new control, or previously error/manual/not applicable/omitted, or
/// no previous scan); `resolved` failed before and pass now. "Fail" is [`Status::is_failing`]:
/// `fail` and `warning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub scan_id: i64,
    pub previous_scan_id: Option<i64>,
    pub new_failures: Vec<DriftItem>,
    pub resolved: Vec<DriftItem>,
    pub regressions: Vec<DriftItem>,
}

impl Store {
    /// Compares a scan's results with the tenant's previous succeeded scan; see [`Drift`].
    pub async fn drift(&self, scan_id: i64) -> Result<Drift> {
        let previous = self.previous_succeeded_scan(scan_id).await?;
        let current = self.control_results(scan_id).await?;
        let before: HashMap<String, StoredResult> = match &previous {
            Some(p) => self
                .control_results(p.id)
                .await?
                .into_iter()
                .map(|r| (r.control_id.clone(), r))
                .collect(),
            None => HashMap::new(),
        };
        let mut drift = Drift {
            scan_id,
            previous_scan_id: previous.map(|p| p.id),
            new_failures: vec![],
            resolved: vec![],
            regressions: vec![],
        };
        for r in current {
            let prev = before.get(&r.control_id).map(|p| p.status);
            let item = || DriftItem {
                control_id: r.control_id.clone(),
                severity: r.severity,
                previous_status: prev,
                status: r.status,
            };
            let was_failing = prev.is_some_and(Status::is_failing);
            let was_passing = prev == Some(Status::Pass);
            if r.status.is_failing() {
                if was_passing {
                    drift.regressions.push(item());
                } else if !was_failing {
                    drift.new_failures.push(item());
                }
            } else if r.status == Status::Pass && was_failing {
                drift.resolved.push(item());
            }
        }
        Ok(drift)
    }
}
