//! The access policy: who may read and manage what. One place for every rule, used by the
//! API, the pages and the domain alike (the web layer only finds out who is asking).
//!
//! - Admins reach everything.
//! - A global lead reads the operations of their cluster and manages none.
//! - A coordinator reads and manages their own operations.
//! - A PSEA focal point reads their own operations and is the only one who sees or acts on
//!   sensitive feedback there; they also act on the ordinary feedback of those operations.
//! - An inter-cluster coordinator reads the inter-cluster view of their countries (every
//!   cluster side by side, aggregates only) and the consolidated reports of their
//!   operations; no single operation's rounds, feedback or charter.

use crate::kernel::error::AppError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    GlobalLead,
    Coordinator,
    PseaFocalPoint,
    InterClusterCoordinator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::GlobalLead,
        Role::Coordinator,
        Role::PseaFocalPoint,
        Role::InterClusterCoordinator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::GlobalLead => "global_lead",
            Role::Coordinator => "coordinator",
            Role::PseaFocalPoint => "psea_focal_point",
            Role::InterClusterCoordinator => "inter_cluster_coordinator",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}; use one of: admin, global_lead, coordinator, psea_focal_point, \
                     inter_cluster_coordinator"
                )
            })
    }
}

/// Where something belongs: an operation of a cluster. Implemented by the stored
/// operation (`db::models::Operation`).
pub trait Place {
    fn operation_id(&self) -> i32;
    fn cluster_id(&self) -> i32;
}

impl<T: Place + ?Sized> Place for &T {
    fn operation_id(&self) -> i32 {
        (**self).operation_id()
    }
    fn cluster_id(&self) -> i32 {
        (**self).cluster_id()
    }
}

/// A signed-in staff member, as the policy sees them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i32,
    pub email: String,
    pub role: Role,
    /// The cluster a global lead leads.
    pub cluster_id: Option<i32>,
    /// The operations of a coordinator or PSEA focal point.
    pub operation_ids: Vec<i32>,
    /// The countries (ISO codes) of an inter-cluster coordinator.
    pub countries: Vec<String>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only an admin can do this".into()))
        }
    }

    fn is_own(&self, op: &impl Place) -> bool {
        self.operation_ids.contains(&op.operation_id())
    }

    /// Read access to an operation: admins all; global leads their cluster's; coordinators
    /// and PSEA focal points their own.
    pub fn can_read_operation(&self, op: &impl Place) -> bool {
        match self.role {
            Role::Admin => true,
            Role::GlobalLead => self.cluster_id == Some(op.cluster_id()),
            Role::Coordinator | Role::PseaFocalPoint => self.is_own(op),
            Role::InterClusterCoordinator => false,
        }
    }

    /// Write access to an operation's rounds, invitations, feedback and action plans.
    pub fn can_manage_operation(&self, op: &impl Place) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator => self.is_own(op),
            Role::GlobalLead | Role::PseaFocalPoint | Role::InterClusterCoordinator => false,
        }
    }

    /// Read access to an operation's membership register, its members' self-assessments and
    /// onboarding: those who manage the operation, and the global leads of its cluster
    /// (PSEA focal points have no part in it).
    pub fn can_read_membership(&self, op: &impl Place) -> bool {
        self.can_manage_operation(op)
            || (self.role == Role::GlobalLead && self.cluster_id == Some(op.cluster_id()))
    }

    /// Read access to a cluster: its lead, admins, and staff of one of its `operations`.
    pub fn can_read_cluster<P: Place>(&self, cluster_id: i32, operations: &[P]) -> bool {
        match self.role {
            Role::Admin => true,
            Role::GlobalLead => self.cluster_id == Some(cluster_id),
            Role::Coordinator | Role::PseaFocalPoint => operations
                .iter()
                .any(|o| o.cluster_id() == cluster_id && self.is_own(o)),
            Role::InterClusterCoordinator => false,
        }
    }

    /// Read the inter-cluster view of a country (ISO code): admins, and the country's
    /// inter-cluster coordinators.
    pub fn can_read_country(&self, country: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::InterClusterCoordinator => self
                .countries
                .iter()
                .any(|c| c.eq_ignore_ascii_case(country)),
            Role::GlobalLead | Role::Coordinator | Role::PseaFocalPoint => false,
        }
    }

    /// Read a global cluster's service-charter rounds and their scores: admins and the
    /// cluster's global leads. The country coordinators who rate the charter answer
    /// through their invitation only and never read the results here.
    pub fn can_read_charter(&self, cluster_id: i32) -> bool {
        match self.role {
            Role::Admin => true,
            Role::GlobalLead => self.cluster_id == Some(cluster_id),
            Role::Coordinator | Role::PseaFocalPoint | Role::InterClusterCoordinator => false,
        }
    }

    /// Create, invite to and close a global cluster's service-charter rounds: the same
    /// people who read them (the charter is the global cluster's own review).
    pub fn can_manage_charter(&self, cluster_id: i32) -> bool {
        self.can_read_charter(cluster_id)
    }

    /// May see the content, history and contact details of a feedback item of `op`.
    /// Sensitive items: the operation's PSEA focal points only, not even admins.
    pub fn can_see_feedback(&self, op: &impl Place, sensitive: bool) -> bool {
        if sensitive {
            self.role == Role::PseaFocalPoint && self.is_own(op)
        } else {
            self.can_read_operation(op)
        }
    }

    /// May record workflow events on a feedback item of `op` (and log items of this
    /// sensitivity for `op`).
    pub fn can_act_on_feedback(&self, op: &impl Place, sensitive: bool) -> bool {
        if sensitive {
            self.role == Role::PseaFocalPoint && self.is_own(op)
        } else {
            self.can_manage_operation(op) || (self.role == Role::PseaFocalPoint && self.is_own(op))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Op(i32, i32);
    impl Place for Op {
        fn operation_id(&self) -> i32 {
            self.0
        }
        fn cluster_id(&self) -> i32 {
            self.1
        }
    }

    fn actor(role: Role, cluster: Option<i32>, ops: &[i32]) -> Actor {
        Actor {
            id: 1,
            email: "a@example.org".into(),
            role,
            cluster_id: cluster,
            operation_ids: ops.to_vec(),
            countries: Vec::new(),
        }
    }

    #[test]
    fn roles_parse_with_a_clear_error() {
        assert_eq!(Role::parse("global_lead"), Ok(Role::GlobalLead));
        let e = Role::parse("boss").unwrap_err();
        assert!(e.contains("boss") && e.contains("psea_focal_point"));
    }

    #[test]
    fn sensitive_feedback_is_for_the_operations_focal_points_only() {
        let op = Op(7, 2);
        let admin = actor(Role::Admin, None, &[]);
        let psea = actor(Role::PseaFocalPoint, None, &[7]);
        let other_psea = actor(Role::PseaFocalPoint, None, &[8]);
        let lead = actor(Role::GlobalLead, Some(2), &[]);
        assert!(!admin.can_see_feedback(&op, true));
        assert!(admin.can_see_feedback(&op, false));
        assert!(psea.can_see_feedback(&op, true) && psea.can_act_on_feedback(&op, true));
        assert!(!other_psea.can_see_feedback(&op, true));
        assert!(lead.can_read_operation(&op) && !lead.can_manage_operation(&op));
        assert!(!lead.can_act_on_feedback(&op, false));
        assert!(psea.can_act_on_feedback(&op, false) && !psea.can_manage_operation(&op));
    }

    #[test]
    fn an_inter_cluster_coordinator_reads_their_countries_only() {
        let mut icc = actor(Role::InterClusterCoordinator, None, &[]);
        icc.countries = vec!["YE".into(), "HT".into()];
        assert!(icc.can_read_country("YE") && icc.can_read_country("ht"));
        assert!(!icc.can_read_country("SD"));
        // Aggregates of the country only: no operation, cluster, feedback or charter.
        let op = Op(7, 2);
        assert!(!icc.can_read_operation(&op) && !icc.can_manage_operation(&op));
        assert!(!icc.can_read_cluster(2, &[Op(7, 2)]));
        assert!(!icc.can_see_feedback(&op, false) && !icc.can_read_charter(2));
        assert!(actor(Role::Admin, None, &[]).can_read_country("SD"));
        let lead = actor(Role::GlobalLead, Some(2), &[]);
        assert!(!lead.can_read_country("YE"));
        assert_eq!(
            Role::parse("inter_cluster_coordinator"),
            Ok(Role::InterClusterCoordinator)
        );
    }

    #[test]
    fn a_charter_is_read_by_its_own_global_leads_and_admins_only() {
        let admin = actor(Role::Admin, None, &[]);
        let lead = actor(Role::GlobalLead, Some(2), &[]);
        let other_lead = actor(Role::GlobalLead, Some(3), &[]);
        let coordinator = actor(Role::Coordinator, None, &[7]);
        assert!(admin.can_read_charter(2) && admin.can_manage_charter(2));
        assert!(lead.can_read_charter(2) && lead.can_manage_charter(2));
        assert!(!other_lead.can_read_charter(2) && !other_lead.can_manage_charter(2));
        // A coordinator of one of the cluster's operations rates the charter, never reads it.
        assert!(!coordinator.can_read_charter(2));
    }

    #[test]
    fn the_register_is_read_by_its_managers_and_the_clusters_leads() {
        let op = Op(7, 2);
        assert!(actor(Role::Coordinator, None, &[7]).can_read_membership(&op));
        assert!(!actor(Role::Coordinator, None, &[8]).can_read_membership(&op));
        assert!(actor(Role::GlobalLead, Some(2), &[]).can_read_membership(&op));
        assert!(!actor(Role::GlobalLead, Some(3), &[]).can_read_membership(&op));
        assert!(!actor(Role::PseaFocalPoint, None, &[7]).can_read_membership(&op));
        assert!(actor(Role::Admin, None, &[]).can_read_membership(&op));
    }
}
