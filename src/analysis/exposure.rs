//! Who could do what, as tables for the reports: the gate x principal matrix (who-can-approve.csv: the IAM
//! principals allowed to approve, and the people who can act as them) and every mutating action each principal
//! holds (write-access.csv). Computed from the access model and the reach; pure.

use serde::Serialize;

use super::access::{AccessModel, Principal, PrincipalType};
use super::reach::{ActorKind, Reach};
use crate::iam::Answer;
use crate::rules::{matches_any, RuleSet};

/// One cell of the gate x principal matrix: a principal allowed (or possibly allowed) to approve an action
/// (`row_kind` `principal`), or a person who can act as such a principal (`row_kind` `person`, with the route).
#[derive(Debug, Clone, Serialize)]
pub struct ApproverRow {
    pub account_id: String,
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub action_arn: String,
    /// `principal` (an IAM user or role the policies allow) or `person` (who can act as one).
    pub row_kind: String,
    /// The IAM principal ARN (principal rows), or the person key (person rows).
    pub principal: String,
    /// `user` / `role` for principal rows; `iam-user`, `identity-center-user` or `role` for person rows.
    pub principal_type: String,
    /// A readable name (user name, role name).
    pub name: String,
    /// Person rows: the approving principal the person acts as, and how they get there.
    pub acts_as: String,
    pub route: String,
    /// `yes` or `possibly` (depends on request-time conditions).
    pub answer: String,
    pub via_groups: Vec<String>,
    pub statements: Vec<String>,
    pub conditions: Vec<String>,
}

/// One mutating action a principal can perform, and the statements that grant it.
#[derive(Debug, Clone, Serialize)]
pub struct WriteGrantRow {
    pub account_id: String,
    pub principal: String,
    pub principal_type: String,
    pub action: String,
    pub access_level: String,
    pub answer: String,
    /// Why the grant is not a finding, if it is not (deployment role, break-glass); empty otherwise.
    pub exemption: String,
    pub statements: Vec<String>,
    /// How many grants the row stands for: 1, or for an exempt principal summarised by
    /// [`summarise_exempt`] the number of its grants (the row then shows the widest one).
    pub grants: usize,
}

fn principal_type(p: &Principal) -> &'static str {
    match p.kind {
        PrincipalType::User => "user",
        PrincipalType::Role => "role",
    }
}

fn answer(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::Possibly => "possibly",
        Answer::No => "no",
    }
}

/// The write grants with each exempt principal's (deployment role, break-glass) summarised into one row per
/// principal and exemption: how many grants, the widest of them (highest access level, a definite "yes" before a
/// "possibly", a wildcard action before a named one) and every statement behind them. Grants that are not exempt
/// stay one row each: they are the ones an auditor must read. `--full` keeps every row instead.
pub fn summarise_exempt(rows: Vec<WriteGrantRow>) -> Vec<WriteGrantRow> {
    let mut out: Vec<WriteGrantRow> = Vec::new();
    let mut summary_of: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::new();
    let widest = |r: &WriteGrantRow| {
        (
            level_rank(&r.access_level),
            r.answer == "yes",
            r.action.contains('*'),
        )
    };
    for row in rows {
        if row.exemption.is_empty() {
            out.push(row);
            continue;
        }
        let key = (
            row.account_id.clone(),
            row.principal.clone(),
            row.exemption.clone(),
        );
        match summary_of.get(&key) {
            None => {
                summary_of.insert(key, out.len());
                out.push(row);
            }
            Some(&i) => {
                let summary = &mut out[i];
                let count = summary.grants + row.grants;
                let mut statements = std::mem::take(&mut summary.statements);
                for s in &row.statements {
                    if !statements.contains(s) {
                        statements.push(s.clone());
                    }
                }
                if widest(&row) > widest(summary) {
                    *summary = row;
                }
                summary.grants = count;
                summary.statements = statements;
            }
        }
    }
    out
}

fn level_rank(level: &str) -> u8 {
    match level {
        "Permissions management" => 3,
        "Write" => 2,
        "Tagging" => 1,
        _ => 0,
    }
}

/// Every principal allowed (or possibly allowed) to approve each manual approval action in the snapshot, and
/// every person (or unattributed role) who can act as one of them.
pub fn approvers(access: &AccessModel, reach: &Reach) -> Vec<ApproverRow> {
    let mut rows = Vec::new();
    for account in &access.snapshot.accounts {
        for pipeline in &account.pipelines {
            for stage in &pipeline.stages {
                for action in stage.approval_actions() {
                    let arn = pipeline.action_arn(&stage.name, &action.name);
                    let mut grants =
                        access.who_can(&account.account_id, "codepipeline:PutApprovalResult", &arn);
                    grants.sort_by(|a, b| a.principal.arn.cmp(&b.principal.arn));
                    let mut people = Vec::new();
                    for g in &grants {
                        for (actor, route) in reach.actors_reaching(&g.principal.arn) {
                            // A user acting as itself is already its principal row.
                            if actor.kind == ActorKind::IamUser && route.steps.is_empty() {
                                continue;
                            }
                            people.push(ApproverRow {
                                account_id: account.account_id.clone(),
                                pipeline: pipeline.name.clone(),
                                stage: stage.name.clone(),
                                action: action.name.clone(),
                                action_arn: arn.clone(),
                                row_kind: "person".to_owned(),
                                principal: actor.person.key.clone(),
                                principal_type: actor.kind.as_str().to_owned(),
                                name: actor.person.name.clone(),
                                acts_as: g.principal.arn.clone(),
                                route: route.describe(),
                                answer: answer(if route.certain() {
                                    g.answer
                                } else {
                                    Answer::Possibly
                                })
                                .to_owned(),
                                via_groups: g.via_groups.to_vec(),
                                statements: g.statements.to_vec(),
                                conditions: g.unknowns.to_vec(),
                            });
                        }
                    }
                    rows.extend(grants.into_iter().map(|g| ApproverRow {
                        account_id: account.account_id.clone(),
                        pipeline: pipeline.name.clone(),
                        stage: stage.name.clone(),
                        action: action.name.clone(),
                        action_arn: arn.clone(),
                        row_kind: "principal".to_owned(),
                        principal: g.principal.arn.clone(),
                        principal_type: principal_type(g.principal).to_owned(),
                        name: g.principal.name.clone(),
                        acts_as: String::new(),
                        route: String::new(),
                        answer: answer(g.answer).to_owned(),
                        via_groups: g.via_groups.to_vec(),
                        statements: g.statements.to_vec(),
                        conditions: g.unknowns.to_vec(),
                    }));
                    people.sort_by(|a, b| {
                        a.principal
                            .cmp(&b.principal)
                            .then(a.acts_as.cmp(&b.acts_as))
                    });
                    rows.extend(people);
                }
            }
        }
    }
    rows
}

/// Every mutating action outside the operational allowlist that each principal holds, marking the exempt ones.
pub fn write_grants(access: &AccessModel, rules: &RuleSet) -> Vec<WriteGrantRow> {
    let mut rows = Vec::new();
    for principal in &access.principals {
        let exemption = if access.is_deployment_role(principal) {
            "deployment role"
        } else if matches_any(&rules.write_access.break_glass, &principal.arn) {
            "break-glass"
        } else {
            ""
        };
        for grant in access.mutating_grants(principal) {
            rows.push(WriteGrantRow {
                account_id: principal.account_id.clone(),
                principal: principal.arn.clone(),
                principal_type: principal_type(principal).to_owned(),
                action: grant.action,
                access_level: grant.level.to_string(),
                answer: answer(grant.answer).to_owned(),
                exemption: exemption.to_owned(),
                statements: grant.statements,
                grants: 1,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(
        principal: &str,
        action: &str,
        level: &str,
        answer: &str,
        exemption: &str,
    ) -> WriteGrantRow {
        WriteGrantRow {
            account_id: "444444444444".into(),
            principal: format!("arn:aws:iam::444444444444:role/{principal}"),
            principal_type: "role".into(),
            action: action.into(),
            access_level: level.into(),
            answer: answer.into(),
            exemption: exemption.into(),
            statements: vec![format!("{principal}-policy#{action}")],
            grants: 1,
        }
    }

    #[test]
    fn exempt_principals_become_one_row_with_the_count_and_the_widest_grant() {
        let mut rows = Vec::new();
        for i in 0..500 {
            rows.push(grant(
                "Deploy",
                &format!("s3:PutObject{i}"),
                "Write",
                "yes",
                "deployment role",
            ));
        }
        rows.push(grant(
            "Deploy",
            "iam:PutRolePolicy",
            "Permissions management",
            "possibly",
            "deployment role",
        ));
        rows.push(grant(
            "Deploy",
            "iam:*",
            "Permissions management",
            "yes",
            "deployment role",
        ));
        rows.push(grant(
            "BreakGlass",
            "ec2:TerminateInstances",
            "Write",
            "yes",
            "break-glass",
        ));
        rows.push(grant("Human", "s3:PutObject", "Write", "yes", ""));
        rows.push(grant(
            "Human",
            "iam:CreateUser",
            "Permissions management",
            "yes",
            "",
        ));
        let summarised = summarise_exempt(rows);
        assert_eq!(summarised.len(), 4, "{summarised:#?}");
        let deploy = summarised
            .iter()
            .find(|r| r.principal.ends_with("/Deploy"))
            .expect("deploy row");
        assert_eq!(deploy.grants, 502);
        assert_eq!(deploy.action, "iam:*", "the widest grant is shown");
        assert_eq!(deploy.access_level, "Permissions management");
        assert_eq!(
            deploy.statements.len(),
            502,
            "every statement behind the grants is kept"
        );
        let human: Vec<&WriteGrantRow> = summarised
            .iter()
            .filter(|r| r.principal.ends_with("/Human"))
            .collect();
        assert_eq!(human.len(), 2, "grants that are findings stay one row each");
        assert!(human.iter().all(|r| r.grants == 1));
        assert_eq!(summarised.iter().map(|r| r.grants).sum::<usize>(), 505);
    }
}
