//! Who may do what. One table, [`allows`], decides by role; *which* customer's data a user
//! reaches is decided separately by [`mamori_store::Scope`], applied inside every store query.

use mamori_store::Role;

/// Everything the API and pages let someone do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Customers list and names (billing needs them; posture data is separate).
    ViewCustomers,
    /// Tenants, scans, results, findings, drift, scores, exceptions; threat alerts and the
    /// tenant's log streams and flood guard.
    ViewPosture,
    /// Create customers and tenants, store credentials, set schedules.
    ManageTenants,
    /// Start a scan now.
    RunScan,
    /// Ask for a risk acceptance.
    RequestException,
    /// Approve, reject or revoke a risk acceptance (never one's own request).
    DecideException,
    /// Users of the operator (all) or of one's own customer.
    ManageUsers,
    /// Notification channels.
    ManageNotifications,
    /// The audit log and the job queue.
    ViewOperations,
    /// Move a threat alert through its triage (acknowledge, resolve, false positive, reopen).
    TriageAlerts,
    /// Push audit-log batches for a tenant (`POST /api/v1/tenants/{id}/logs/{source}`).
    PushLogs,
    /// Suspend or resume a tenant's log processing (the flood guard, by hand).
    ManageLogGuard,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ViewCustomers,
        Action::ViewPosture,
        Action::ManageTenants,
        Action::RunScan,
        Action::RequestException,
        Action::DecideException,
        Action::ManageUsers,
        Action::ManageNotifications,
        Action::ViewOperations,
        Action::TriageAlerts,
        Action::PushLogs,
        Action::ManageLogGuard,
    ];
}

/// The role matrix. Investigators read posture but change nothing (their case-bound access to
/// communication data is a separate grant); billing sees customers, not findings. Suspending and
/// resuming log processing is the operator's alone.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match role {
        OperatorAdmin => true,
        Analyst => matches!(
            action,
            ViewCustomers
                | ViewPosture
                | RunScan
                | RequestException
                | DecideException
                | TriageAlerts
                | PushLogs
        ),
        Investigator => matches!(action, ViewCustomers | ViewPosture),
        Billing => matches!(action, ViewCustomers),
        CustomerAdmin => matches!(
            action,
            ViewCustomers
                | ViewPosture
                | RunScan
                | RequestException
                | DecideException
                | ManageUsers
                | ManageNotifications
                | TriageAlerts
                | PushLogs
        ),
        CustomerViewer => matches!(action, ViewCustomers | ViewPosture),
    }
}
