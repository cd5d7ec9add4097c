//! Small hand-built snapshots for the checks' unit tests: one CI/CD account with a two-person pipeline, and
//! helpers to add executions, approvals, IAM users, groups and roles. Test code only.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::model::*;
use crate::rules::RuleSet;

use super::{Check, CheckContext};

pub const ACCOUNT: &str = "111111111111";

pub fn user(name: &str) -> serde_json::Value {
    serde_json::json!({"type": "IAMUser", "principalId": format!("AIDA{name}"), "accountId": ACCOUNT,
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"), "userName": name})
}

pub fn role_session(role: &str, session: &str) -> serde_json::Value {
    serde_json::json!({"type": "AssumedRole", "principalId": format!("AROA{role}:{session}"), "accountId": ACCOUNT,
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
            "accountId": ACCOUNT, "userName": role}}})
}

pub fn approval_event(
    stage: &str,
    action: &str,
    identity: serde_json::Value,
    status: &str,
    summary: &str,
    time: &str,
) -> ApprovalEvent {
    let event_time = DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    ApprovalEvent {
        event_id: format!(
            "ev-{stage}-{action}-{time}-{}",
            identity["arn"].as_str().unwrap_or("")
        ),
        event_time,
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        pipeline: "webapp".into(),
        stage: stage.into(),
        action: action.into(),
        status: status.into(),
        summary: summary.into(),
        token: None,
        error_code: None,
        identity: UserIdentity::from_cloudtrail(&identity),
        origin: EventOrigin::LookupEvents,
    }
}

/// A trust policy letting principals of the account assume the role.
pub fn trust_account() -> serde_json::Value {
    policy(
        serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]),
    )
}

pub fn policy(statements: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

pub struct Org {
    pub snapshot: Snapshot,
    pub rules: RuleSet,
    clock: DateTime<Utc>,
}

fn action(name: &str, category: &str, provider: &str) -> PipelineAction {
    PipelineAction {
        name: name.into(),
        category: category.into(),
        owner: "AWS".into(),
        provider: provider.into(),
        run_order: 1,
        ..PipelineAction::default()
    }
}

impl Org {
    /// A CI/CD account with pipeline `webapp`: Build, then stage ProdGate with manual approvals ApprovalA and
    /// ApprovalB, then DeployProd. IAM is empty until a test adds to it.
    pub fn two_person_pipeline() -> Org {
        let pipeline = Pipeline {
            name: "webapp".into(),
            region: "us-east-1".into(),
            account_id: ACCOUNT.into(),
            version: 1,
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/CodePipelineServiceRole"),
            stages: vec![
                Stage {
                    name: "Build".into(),
                    actions: vec![action("Build", "Build", "CodeBuild")],
                    ..Stage::default()
                },
                Stage {
                    name: "ProdGate".into(),
                    actions: vec![
                        action("ApprovalA", "Approval", "Manual"),
                        action("ApprovalB", "Approval", "Manual"),
                    ],
                    ..Stage::default()
                },
                Stage {
                    name: "DeployProd".into(),
                    actions: vec![action("Deploy", "Build", "CodeBuild")],
                    ..Stage::default()
                },
            ],
            ..Pipeline::default()
        };
        let start = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .unwrap_or_else(Utc::now);
        let snapshot = Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "test".into(),
            run_id: "test-run".into(),
            organisation: "Test Org".into(),
            collected_at: start + Duration::days(30),
            period: Period {
                since: start - Duration::days(60),
                until: start + Duration::days(30),
            },
            cicd_account: ACCOUNT.into(),
            regions: vec!["us-east-1".into()],
            rule_set: "default".into(),
            rule_set_source: String::new(),
            declared_deployment_roles: vec![],
            approval_record_buckets: vec![],
            trail_buckets: vec![],
            organization: None,
            identity_center: None,
            accounts: vec![AccountSnapshot {
                account_id: ACCOUNT.into(),
                name: "cicd".into(),
                environment: "cicd".into(),
                iam: Some(IamSnapshot::default()),
                pipelines: vec![pipeline],
                ..AccountSnapshot::default()
            }],
        };
        Org {
            snapshot,
            rules: RuleSet::builtin_default(),
            clock: start,
        }
    }

    pub fn account(&mut self) -> &mut AccountSnapshot {
        &mut self.snapshot.accounts[0]
    }

    pub fn iam(&mut self) -> &mut IamSnapshot {
        self.account().iam.get_or_insert_with(IamSnapshot::default)
    }

    /// Starts an execution one hour after the previous one; returns its id.
    pub fn execution(&mut self, id: &str) -> String {
        self.clock += Duration::hours(1);
        let start = self.clock;
        self.account().pipelines[0]
            .executions
            .push(PipelineExecution {
                id: id.into(),
                status: "InProgress".into(),
                start_time: Some(start),
                last_update_time: Some(start),
                pipeline_version: Some(1),
                trigger_type: "StartPipelineExecution".into(),
                ..PipelineExecution::default()
            });
        id.into()
    }

    fn decide(
        &mut self,
        execution: &str,
        stage: &str,
        action: &str,
        identity: serde_json::Value,
        status: &str,
        summary: &str,
    ) {
        self.clock += Duration::minutes(5);
        let time = self.clock;
        let event = approval_event(
            stage,
            action,
            identity.clone(),
            status,
            summary,
            &time.to_rfc3339(),
        );
        let pipeline = &mut self.snapshot.accounts[0].pipelines[0];
        let n = pipeline.action_executions.len();
        pipeline.action_executions.push(ActionExecution {
            pipeline_execution_id: execution.into(),
            action_execution_id: format!("ae-{n}"),
            stage: stage.into(),
            action: action.into(),
            status: if status == "Approved" {
                "Succeeded".into()
            } else {
                "Failed".into()
            },
            start_time: Some(time - Duration::minutes(4)),
            last_update_time: Some(time),
            updated_by: identity["arn"].as_str().map(str::to_owned),
            summary: Some(summary.into()),
            category: Some("Approval".into()),
            provider: Some("Manual".into()),
            pipeline_version: Some(1),
            ..ActionExecution::default()
        });
        if let Some(e) = pipeline.executions.iter_mut().find(|e| e.id == execution) {
            e.last_update_time = Some(time + Duration::minutes(1));
        }
        self.push_event(event);
    }

    pub fn approve(
        &mut self,
        execution: &str,
        stage: &str,
        action: &str,
        identity: serde_json::Value,
        summary: &str,
    ) {
        self.decide(execution, stage, action, identity, "Approved", summary);
    }

    pub fn reject(
        &mut self,
        execution: &str,
        stage: &str,
        action: &str,
        identity: serde_json::Value,
        summary: &str,
    ) {
        self.decide(execution, stage, action, identity, "Rejected", summary);
    }

    pub fn push_event(&mut self, event: ApprovalEvent) {
        self.account().approval_events.push(event);
    }

    pub fn last_event(&self) -> &ApprovalEvent {
        let events = &self.snapshot.accounts[0].approval_events;
        &events[events.len() - 1]
    }

    pub fn add_policy(&mut self, name: &str, document: serde_json::Value) -> String {
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{name}");
        self.iam().policies.push(ManagedPolicy {
            arn: arn.clone(),
            name: name.into(),
            default_version_id: "v1".into(),
            versions: vec![PolicyVersion {
                version_id: "v1".into(),
                is_default: true,
                document,
            }],
        });
        arn
    }

    pub fn add_group(&mut self, name: &str, inline: serde_json::Value) {
        self.iam().groups.push(IamGroup {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:group/{name}"),
            attached_policies: vec![],
            inline_policies: vec![InlinePolicy {
                name: format!("{name}-inline"),
                document: inline,
            }],
        });
    }

    pub fn add_user(
        &mut self,
        name: &str,
        groups: &[&str],
        inline: Option<serde_json::Value>,
    ) -> &mut IamUser {
        let iam = self.iam();
        iam.users.push(IamUser {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            id: format!("AIDA{name}"),
            path: "/".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            inline_policies: inline
                .map(|d| {
                    vec![InlinePolicy {
                        name: format!("{name}-inline"),
                        document: d,
                    }]
                })
                .unwrap_or_default(),
            ..IamUser::default()
        });
        let last = iam.users.len() - 1;
        &mut iam.users[last]
    }

    pub fn add_role(
        &mut self,
        name: &str,
        trust: serde_json::Value,
        inline: serde_json::Value,
    ) -> &mut IamRole {
        let iam = self.iam();
        iam.roles.push(IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            id: format!("AROA{name}"),
            path: "/".into(),
            trust_policy: trust,
            inline_policies: vec![InlinePolicy {
                name: format!("{name}-inline"),
                document: inline,
            }],
            ..IamRole::default()
        });
        let last = iam.roles.len() - 1;
        &mut iam.roles[last]
    }

    fn identity_center(&mut self) -> &mut IdentityCenterSnapshot {
        self.snapshot
            .identity_center
            .get_or_insert_with(|| IdentityCenterSnapshot {
                instance_arn: "arn:aws:sso:::instance/ssoins-test".into(),
                identity_store_id: "d-test".into(),
                region: "us-east-1".into(),
                read_from: ACCOUNT.into(),
                ..IdentityCenterSnapshot::default()
            })
    }

    /// A permission set with an inline policy, provisioned to the account: its `AWSReservedSSO_<name>_<suffix>`
    /// role exists there with the set's policy, as Identity Center creates it.
    pub fn add_permission_set(&mut self, name: &str, inline: serde_json::Value) -> String {
        let arn = format!("arn:aws:sso:::permissionSet/ssoins-test/ps-{name}");
        self.identity_center().permission_sets.push(PermissionSet {
            arn: arn.clone(),
            name: name.into(),
            inline_policy: Some(inline.clone()),
            ..PermissionSet::default()
        });
        let role = format!("AWSReservedSSO_{name}_0123456789abcdef");
        let trust = policy(serde_json::json!([{"Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE")},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]));
        let added = self.add_role(&role, trust, inline);
        added.path = "/aws-reserved/sso.amazonaws.com/".into();
        added.arn = format!("arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{role}");
        arn
    }

    /// An Identity Center user; returns its id.
    pub fn add_identity_center_user(&mut self, user_name: &str) -> String {
        let id = format!("u-{user_name}");
        self.identity_center().users.push(IdentityStoreUser {
            id: id.clone(),
            user_name: user_name.into(),
            ..IdentityStoreUser::default()
        });
        id
    }

    /// An Identity Center group with members (user ids); returns its id.
    pub fn add_identity_center_group(&mut self, name: &str, members: &[&str]) -> String {
        let id = format!("g-{name}");
        let ic = self.identity_center();
        ic.groups.push(IdentityStoreGroup {
            id: id.clone(),
            display_name: name.into(),
        });
        for m in members {
            ic.memberships.push(GroupMembership {
                group_id: id.clone(),
                user_id: (*m).to_owned(),
            });
        }
        id
    }

    /// Assigns a permission set in the account to a user or group (`USER` / `GROUP`).
    pub fn assign(&mut self, permission_set_arn: &str, principal_type: &str, principal_id: &str) {
        self.identity_center().assignments.push(AccountAssignment {
            account_id: ACCOUNT.into(),
            permission_set_arn: permission_set_arn.into(),
            principal_type: principal_type.into(),
            principal_id: principal_id.into(),
        });
    }

    /// Puts the account in an organisation (root `r-test`, management account elsewhere) with `FullAWSAccess`
    /// at the root and the given SCP attached to the account; `None` leaves the account's SCPs unreadable.
    pub fn organisation_with_scp(&mut self, scp: Option<serde_json::Value>) {
        let full = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let mut policies = vec![OrgPolicy {
            id: "p-FullAWSAccess".into(),
            arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess".into(),
            name: "FullAWSAccess".into(),
            kind: OrgPolicyKind::ServiceControlPolicy,
            aws_managed: true,
            document: full,
        }];
        let account_scps = scp.map(|document| {
            policies.push(OrgPolicy {
                id: "p-test".into(),
                arn: "arn:aws:organizations::100000000000:policy/o-test/service_control_policy/p-test".into(),
                name: "TestScp".into(),
                kind: OrgPolicyKind::ServiceControlPolicy,
                aws_managed: false,
                document,
            });
            vec!["p-FullAWSAccess".to_owned(), "p-test".to_owned()]
        });
        self.snapshot.organization = Some(OrganizationSnapshot {
            id: "o-test".into(),
            management_account: "100000000000".into(),
            read_from: "100000000000".into(),
            root_id: "r-test".into(),
            accounts: vec![OrgAccount {
                id: ACCOUNT.into(),
                name: "cicd".into(),
                status: "ACTIVE".into(),
                parents: vec!["r-test".into()],
                ou_path: "Root".into(),
                audited: true,
                environment: "cicd".into(),
                ..OrgAccount::default()
            }],
            policies,
            attachments: vec![
                PolicyAttachment {
                    target_id: "r-test".into(),
                    target_kind: "ROOT".into(),
                    scps: Some(vec!["p-FullAWSAccess".into()]),
                    rcps: Some(vec![]),
                },
                PolicyAttachment {
                    target_id: ACCOUNT.into(),
                    target_kind: "ACCOUNT".into(),
                    scps: account_scps,
                    rcps: Some(vec![]),
                },
            ],
            ..OrganizationSnapshot::default()
        });
    }

    pub fn run(&self, check: &dyn Check) -> Vec<Finding> {
        let access = crate::analysis::access::AccessModel::new(&self.snapshot, &self.rules);
        let ctx = CheckContext::new(&self.snapshot, &self.rules, &access);
        check.run(&ctx)
    }
}
