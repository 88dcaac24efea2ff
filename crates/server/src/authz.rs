//! Who may do what. One table, [`allows`], decides by role; *which* customer's data a user
//! reaches is decided separately by [`mamori_store::Scope`], applied inside every store query.

use mamori_store::Role;

/// Everything the API and pages let someone do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Customers list and names (billing needs them; posture data is separate).
    ViewCustomers,
    /// Tenants, scans, results, findings, drift, scores, exceptions.
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
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::ViewCustomers,
        Action::ViewPosture,
        Action::ManageTenants,
        Action::RunScan,
        Action::RequestException,
        Action::DecideException,
        Action::ManageUsers,
        Action::ManageNotifications,
        Action::ViewOperations,
    ];
}

/// The role matrix. Investigators read posture but change nothing (their case-bound access to
/// communication data is a separate grant); billing sees customers, not findings.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match role {
        OperatorAdmin => true,
        Analyst => matches!(
            action,
            ViewCustomers | ViewPosture | RunScan | RequestException | DecideException
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
        ),
        CustomerViewer => matches!(action, ViewCustomers | ViewPosture),
    }
}
