//! The result of applying a compliance framework to an evaluation.

use crate::{Localized, Status};
use serde::{Deserialize, Serialize};

/// The result of one framework requirement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequirementResult {
    pub id: String,
    pub title: Localized,
    /// `None` when no automated control covers the requirement.
    pub status: Option<Status>,
    /// The mapped controls present in the evaluation, with their status.
    pub controls: Vec<(String, Status)>,
}

/// A framework applied to one evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameworkView {
    pub framework: String,
    pub name: Localized,
    pub requirements: Vec<RequirementResult>,
}

impl FrameworkView {
    pub fn count(&self, status: Option<Status>) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.status == status)
            .count()
    }
}
