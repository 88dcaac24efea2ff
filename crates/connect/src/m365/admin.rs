//! Exchange Online, Defender (security suite), SharePoint, Teams, Power Platform and Power BI
//! admin APIs, and the e-mail DNS records.

use super::{M365Context, SectionResult};

pub async fn collect_exchange(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}

pub async fn collect_security_suite(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}

pub async fn collect_sharepoint(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}

pub async fn collect_teams(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}

pub async fn collect_power_platform(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}

pub async fn collect_power_bi(_ctx: &M365Context) -> Vec<SectionResult> {
    Vec::new()
}
