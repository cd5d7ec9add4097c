//! policy-evaluation: every IAM policy in scope can be evaluated. A policy the evaluator cannot parse (or an
//! attached policy missing from the snapshot) leaves every answer that depends on it unproven: it is reported
//! here once, and each check that reads IAM is *incomplete* in that account (`inputs::missing_inputs`).

use super::{Check, CheckContext, InputKind, ISO_CHANGE, SOC2_ACCESS, SOC2_CHANGE};
use crate::model::{Evidence, Finding, Severity};

pub(crate) const POLICY_EVALUATION_ID: &str = "policy-evaluation";

pub struct PolicyEvaluation;

impl Check for PolicyEvaluation {
    fn id(&self) -> &'static str {
        POLICY_EVALUATION_ID
    }
    fn title(&self) -> &'static str {
        "Every IAM policy in scope can be evaluated"
    }
    fn description(&self) -> &'static str {
        "Every identity policy, group policy and permissions boundary of the collected users and roles must parse \
         and be present in the snapshot, so that who may approve and who may write can be proven. A policy that \
         cannot be evaluated is reported once here; the checks that read IAM are incomplete in its account."
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn references(&self) -> &'static [&'static str] {
        &[SOC2_ACCESS, SOC2_CHANGE, ISO_CHANGE]
    }
    fn inputs(&self) -> &'static [InputKind] {
        &[InputKind::Iam]
    }

    fn run(&self, ctx: &CheckContext) -> Vec<Finding> {
        let dependent: Vec<&'static str> = super::all()
            .iter()
            .filter(|c| c.id() != self.id() && c.inputs().contains(&InputKind::Iam))
            .map(|c| c.id())
            .collect();
        ctx.access
            .problems
            .iter()
            .map(|problem| Finding {
                check_id: self.id().to_owned(),
                severity: Severity::High,
                account_id: problem.account_id.clone(),
                subject: problem.source.clone(),
                principal: None,
                message: format!(
                    "policy cannot be evaluated, so {} cannot prove their result in this account: {}",
                    dependent.join(", "),
                    problem.error
                ),
                evidence: vec![Evidence::new(
                    super::UNEVALUABLE_POLICY,
                    &problem.source,
                    "",
                )],
                waiver: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::Org;
    use crate::checks::{missing_inputs, run_all, CheckContext};

    fn org_with_a_malformed_policy() -> Org {
        let mut org = Org::two_person_pipeline();
        org.add_user(
            "mal",
            &[],
            Some(serde_json::json!({"Version": "2012-10-17",
                "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})),
        );
        org
    }

    #[test]
    fn an_unevaluable_policy_is_one_finding_and_every_iam_check_is_incomplete() {
        let org = org_with_a_malformed_policy();
        let access = crate::analysis::access::AccessModel::new(&org.snapshot, &org.rules);
        let ctx = CheckContext::new(&org.snapshot, &org.rules, &access);
        let all = crate::checks::all();
        let findings = run_all(&ctx, &all);
        let about_it: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.message.contains("cannot be evaluated"))
            .collect();
        assert_eq!(about_it.len(), 1, "reported once: {about_it:#?}");
        assert_eq!(about_it[0].check_id, POLICY_EVALUATION_ID);
        assert!(
            about_it[0].message.contains("approver-separation")
                && about_it[0].message.contains("write-access"),
            "{}",
            about_it[0].message
        );
        for check in &all {
            let missing = missing_inputs(check.as_ref(), &ctx);
            let reads_iam = check.inputs().contains(&InputKind::Iam);
            assert_eq!(
                missing.iter().any(|m| m.status == "unevaluable"),
                reads_iam,
                "{}: {missing:?}",
                check.id()
            );
        }
    }
}
