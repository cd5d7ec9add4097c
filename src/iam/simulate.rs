//! JSON front end of the evaluator ("simulator"): one request plus its policies in, the decision
//! and the statements that decided it out. Exact context mode (a key not given is absent).
//!
//! Input (every key but `request` optional):
//! ```json
//! {"request": {"action": "s3:GetObject",
//!              "resource": {"resource": "arn:aws:s3:::bucket/key", "accountId": "111111111111"},
//!              "principal": "arn:aws:iam::111111111111:user/alice",
//!              "context": {"aws:SourceIp": "10.0.0.1"}},
//!  "identityPolicies": [], "serviceControlPolicies": [{"orgIdentifier": "r-root", "policies": []}],
//!  "resourceControlPolicies": [], "resourcePolicy": {}, "permissionBoundaryPolicies": [],
//!  "sessionPolicy": {}}
//! ```
//! `resourcePolicy` is the target's resource policy: for `sts:AssumeRole` (and AssumeRoleWithSAML,
//! AssumeRoleWithWebIdentity, SetSourceIdentity, TagSession) on a role, the role's trust policy;
//! for a `kms:` action on a key, the key policy. Those two must admit the caller even within one
//! account, so leaving them out denies the request.
//!
//! Output: `{"result": …, "decidingLayers": […], "matchedStatements": [{layer, policy, index, sid,
//! effect}], "notes": [{code, message}]}`; `notes` names the rules beyond statement matching that
//! decided or shaped the answer (RCPs being deny-only, a trust or key policy that must admit the
//! caller, an unmodifiable AWS entity …). Errors name the JSON path
//! (`identityPolicies[1]: Statement[0].Effect: …`) and, for JSON Lines input, the line number.
//!
//! Must not: perform I/O (callers read and write), reference AWS SDK types, or depend on the
//! catalog module.

use super::context::Context;
use super::eval::{evaluate, OrgLevel, PolicySet, PrincipalInfo, Request};
use super::policy::{Policy, PolicyError};
use serde_json::{json, Map, Value};

/// A simulator input that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    /// The input is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A structural problem at `path`.
    #[error("{path}: {message}")]
    Input {
        /// JSON path in the input.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A malformed policy document; `policy_id` is its path in the input.
    #[error("{}: {}: {}", .0.policy_id, .0.path, .0.message)]
    Policy(PolicyError),
    /// An error on one line of JSON Lines input (1-based).
    #[error("line {line}: {source}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// The error on that line.
        source: Box<SimulateError>,
    },
}

fn input_err(path: &str, message: impl Into<String>) -> SimulateError {
    SimulateError::Input {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Evaluates one simulator input document.
pub fn simulate_json(input: &str) -> Result<Value, SimulateError> {
    let v: Value = serde_json::from_str(input).map_err(|e| SimulateError::Json(e.to_string()))?;
    simulate_value(&v)
}

/// Evaluates JSON Lines input: one input document per line, one compact answer per line.
/// Blank lines are skipped; the first bad line is an error naming its number.
pub fn simulate_jsonl(input: &str) -> Result<String, SimulateError> {
    let mut out = String::new();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let answer = simulate_json(line).map_err(|e| SimulateError::Line {
            line: i + 1,
            source: Box::new(e),
        })?;
        out.push_str(&answer.to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Evaluates one already-parsed simulator input document.
pub fn simulate_value(v: &Value) -> Result<Value, SimulateError> {
    let top = v
        .as_object()
        .ok_or_else(|| input_err("$", "expected a JSON object"))?;
    for k in top.keys() {
        if !matches!(
            k.as_str(),
            "request"
                | "identityPolicies"
                | "serviceControlPolicies"
                | "resourceControlPolicies"
                | "resourcePolicy"
                | "permissionBoundaryPolicies"
                | "sessionPolicy"
        ) {
            return Err(input_err(k, "unknown key"));
        }
    }
    let request = parse_request(
        top.get("request")
            .ok_or_else(|| input_err("request", "missing"))?,
    )?;
    let identity = policy_list(top, "identityPolicies")?;
    let boundaries = policy_list(top, "permissionBoundaryPolicies")?;
    let scps = org_levels(top, "serviceControlPolicies")?;
    let rcps = org_levels(top, "resourceControlPolicies")?;
    let resource_policy = single_policy(top, "resourcePolicy")?;
    let session = single_policy(top, "sessionPolicy")?;
    let set = PolicySet {
        identity: &identity,
        boundaries: &boundaries,
        session: session.as_ref(),
        scp_levels: &scps,
        rcp_levels: &rcps,
        resource_policy: resource_policy.as_ref(),
        is_management_account: false,
        resource_in_management_account: false,
    };
    let e = evaluate(&request, &set);
    let matched: Vec<Value> = e
        .allowing
        .iter()
        .chain(e.denying.iter())
        .map(|s| {
            json!({
                "layer": s.layer.as_str(),
                "policy": s.policy_id,
                "index": s.index,
                "sid": s.sid,
                "effect": s.effect.to_string(),
            })
        })
        .collect();
    let notes: Vec<Value> = e
        .notes
        .iter()
        .map(|n| json!({"code": n.code(), "message": n.to_string()}))
        .collect();
    Ok(json!({
        "result": e.decision.as_str(),
        "decidingLayers": e.deciding_layers.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "matchedStatements": matched,
        "notes": notes,
    }))
}

fn get_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, SimulateError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(input_err(&format!("{path}.{key}"), "expected a string")),
        None => Err(input_err(&format!("{path}.{key}"), "missing")),
    }
}

fn parse_request(v: &Value) -> Result<Request, SimulateError> {
    let obj = v
        .as_object()
        .ok_or_else(|| input_err("request", "expected an object"))?;
    for k in obj.keys() {
        if !matches!(k.as_str(), "action" | "resource" | "principal" | "context") {
            return Err(input_err(&format!("request.{k}"), "unknown key"));
        }
    }
    let action = get_str(obj, "action", "request")?.to_string();
    let (resource, resource_account) = match obj.get("resource") {
        None | Some(Value::Null) => ("*".to_string(), None),
        Some(Value::String(s)) => (s.clone(), None),
        Some(Value::Object(r)) => {
            for k in r.keys() {
                if !matches!(k.as_str(), "resource" | "accountId") {
                    return Err(input_err(&format!("request.resource.{k}"), "unknown key"));
                }
            }
            let res = match r.get("resource") {
                None => "*".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(input_err("request.resource.resource", "expected a string")),
            };
            let acct = match r.get("accountId") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(input_err("request.resource.accountId", "expected a string"))
                }
            };
            (res, acct)
        }
        Some(_) => {
            return Err(input_err(
                "request.resource",
                "expected a string or an object",
            ))
        }
    };
    let principal_arn = get_str(obj, "principal", "request")?;
    let principal = PrincipalInfo::from_arn(principal_arn)
        .map_err(|e| input_err("request.principal", e.to_string()))?;
    let mut context = Context::exact();
    match obj.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, val) in map {
                let path = format!("request.context.{k}");
                let values = match val {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            scalar(item).ok_or_else(|| {
                                input_err(&format!("{path}[{i}]"), "expected a string")
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![scalar(other).ok_or_else(|| {
                        input_err(&path, "expected a string or an array of strings")
                    })?],
                };
                context.set(k, values);
            }
        }
        Some(_) => return Err(input_err("request.context", "expected an object")),
    }
    Ok(Request {
        action,
        resource,
        resource_account,
        principal,
        context,
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_policy(id: &str, v: &Value) -> Result<Policy, SimulateError> {
    match v {
        Value::String(s) => Policy::parse_str(id, s),
        other => Policy::parse(id, other),
    }
    .map_err(SimulateError::Policy)
}

fn policy_array(path: &str, v: &Value) -> Result<Vec<Policy>, SimulateError> {
    let items = v
        .as_array()
        .ok_or_else(|| input_err(path, "expected an array of policies"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, p)| parse_policy(&format!("{path}[{i}]"), p))
        .collect()
}

fn policy_list(top: &Map<String, Value>, key: &str) -> Result<Vec<Policy>, SimulateError> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => policy_array(key, v),
    }
}

fn single_policy(top: &Map<String, Value>, key: &str) -> Result<Option<Policy>, SimulateError> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_policy(key, v).map(Some),
    }
}

fn org_levels(top: &Map<String, Value>, key: &str) -> Result<Vec<OrgLevel>, SimulateError> {
    let items = match top.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(input_err(key, "expected an array of levels")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, level)| {
            let path = format!("{key}[{i}]");
            let obj = level
                .as_object()
                .ok_or_else(|| input_err(&path, "expected an object"))?;
            for k in obj.keys() {
                if !matches!(k.as_str(), "orgIdentifier" | "policies") {
                    return Err(input_err(&format!("{path}.{k}"), "unknown key"));
                }
            }
            let id = match obj.get("orgIdentifier") {
                None => path.clone(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(input_err(
                        &format!("{path}.orgIdentifier"),
                        "expected a string",
                    ))
                }
            };
            let policies = match obj.get("policies") {
                None => Vec::new(),
                Some(v) => policy_array(&format!("{path}.policies"), v)?,
            };
            Ok(OrgLevel { id, policies })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Value) -> Value {
        simulate_json(&v.to_string()).unwrap()
    }

    fn allow_all() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }

    #[test]
    fn basic_allow_with_context() {
        let out = run(json!({
            "request": {"action": "s3:GetObject",
                        "resource": {"resource": "arn:aws:s3:::bucket/key", "accountId": "111111111111"},
                        "principal": "arn:aws:iam::111111111111:user/alice",
                        "context": {"aws:SourceIp": "10.0.0.1", "aws:MultiFactorAuthPresent": "true"}},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Sid": "S3", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                               "Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}]
        }));
        assert_eq!(out["result"], "Allowed");
        assert_eq!(out["decidingLayers"], json!(["IdentityPolicy"]));
        assert_eq!(
            out["matchedStatements"],
            json!([{"layer": "IdentityPolicy", "policy": "identityPolicies[0]", "index": 0,
                    "sid": "S3", "effect": "Allow"}])
        );
    }

    #[test]
    fn missing_context_key_denies_in_exact_mode() {
        let out = run(json!({
            "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key",
                        "principal": "arn:aws:iam::111111111111:user/alice"},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}]
        }));
        assert_eq!(out["result"], "ImplicitlyDenied");
        assert_eq!(out["decidingLayers"], json!(["IdentityPolicy"]));
        assert_eq!(out["matchedStatements"], json!([]));
    }

    #[test]
    fn scp_levels_and_explicit_deny() {
        let out = run(json!({
            "request": {"action": "ec2:RunInstances", "resource": "*",
                        "principal": "arn:aws:sts::111111111111:assumed-role/Admin/me"},
            "identityPolicies": [allow_all()],
            "serviceControlPolicies": [
                {"orgIdentifier": "r-root", "policies": [allow_all()]},
                {"orgIdentifier": "ou-1", "policies": [{"Version": "2012-10-17", "Statement":
                    [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]}]
        }));
        assert_eq!(out["result"], "ImplicitlyDenied");
        assert_eq!(out["decidingLayers"], json!(["SCP"]));
        let out = run(json!({
            "request": {"action": "s3:DeleteBucket", "resource": "arn:aws:s3:::b",
                        "principal": "arn:aws:iam::111111111111:user/alice"},
            "identityPolicies": [allow_all()],
            "resourcePolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*",
                 "Resource": "arn:aws:s3:::b"}]}
        }));
        assert_eq!(out["result"], "ExplicitlyDenied");
        assert_eq!(out["decidingLayers"], json!(["ResourcePolicy"]));
        let matched = out["matchedStatements"].as_array().unwrap();
        assert!(matched
            .iter()
            .any(|m| m["sid"] == "NoDelete" && m["effect"] == "Deny"));
    }

    #[test]
    fn cross_account_and_boundary_and_session() {
        let base = json!({
            "request": {"action": "s3:GetObject",
                        "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "222222222222"},
                        "principal": "arn:aws:iam::111111111111:role/Reader"},
            "identityPolicies": [allow_all()]
        });
        assert_eq!(run(base.clone())["result"], "ImplicitlyDenied");
        let mut with_rp = base.clone();
        with_rp["resourcePolicy"] = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/Reader"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert_eq!(run(with_rp.clone())["result"], "Allowed");
        let mut bounded = with_rp.clone();
        bounded["permissionBoundaryPolicies"] = json!([{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}]);
        let out = run(bounded);
        assert_eq!(out["result"], "ImplicitlyDenied");
        assert_eq!(out["decidingLayers"], json!(["PermissionsBoundary"]));
        let mut sess = with_rp;
        sess["sessionPolicy"] = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]});
        assert_eq!(run(sess)["decidingLayers"], json!(["SessionPolicy"]));
    }

    #[test]
    fn policies_as_strings_including_percent_encoded() {
        let out = run(json!({
            "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                        "principal": "arn:aws:iam::111111111111:user/alice"},
            "identityPolicies": ["%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"]
        }));
        assert_eq!(out["result"], "Allowed");
    }

    #[test]
    fn errors_name_paths() {
        let e = simulate_json(
            &json!({
                "request": {"action": "s3:GetObject", "principal": "arn:aws:iam::111111111111:user/a"},
                "identityPolicies": [allow_all(), {"Statement": [{"Effect": "Maybe", "Action": "*"}]}]
            })
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "identityPolicies[1]: Statement[0].Effect: expected \"Allow\" or \"Deny\", found \"Maybe\""
        );
        let e = simulate_json(
            &json!({
                "request": {"action": "s3:GetObject", "principal": "arn:aws:iam::111111111111:user/a"},
                "serviceControlPolicies": [{"orgIdentifier": "r", "policies": [
                    {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bogus": {}}}]}]}]
            })
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "serviceControlPolicies[0].policies[0]: Statement[0].Condition.Bogus: unknown condition operator"
        );
        let e = simulate_json(
            &json!({"request": {"principal": "arn:aws:iam::111111111111:user/a"}}).to_string(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "request.action: missing");
        let e =
            simulate_json(&json!({"request": {"action": "a:b", "principal": "bob"}}).to_string())
                .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("request.principal: unrecognised principal"),
            "{e}"
        );
        let e = simulate_json(
            &json!({"request": {"action": "a:b", "principal": "arn:aws:iam::111111111111:user/a"},
                    "permissionsBoundaryPolicies": []})
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "permissionsBoundaryPolicies: unknown key");
        let e = simulate_json(
            &json!({"request": {"action": "a:b", "principal": "arn:aws:iam::111111111111:user/a",
                                "context": {"k": {"x": 1}}}})
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "request.context.k: expected a string or an array of strings"
        );
        assert!(matches!(simulate_json("{"), Err(SimulateError::Json(_))));
    }

    #[test]
    fn jsonl_one_answer_per_line_and_line_numbers() {
        let ok = json!({"request": {"action": "s3:GetObject", "resource": "*",
                                    "principal": "arn:aws:iam::111111111111:user/a"},
                        "identityPolicies": [allow_all()]})
        .to_string();
        let deny = json!({"request": {"action": "s3:GetObject", "resource": "*",
                                      "principal": "arn:aws:iam::111111111111:user/a"}})
        .to_string();
        let out = simulate_jsonl(&format!("{ok}\n\n{deny}\n")).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: Value = serde_json::from_str(lines[0]).unwrap();
        let second: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(first["result"], "Allowed");
        assert_eq!(second["result"], "ImplicitlyDenied");
        let e = simulate_jsonl(&format!("{ok}\n{{\"request\": 3}}\n")).unwrap_err();
        assert_eq!(e.to_string(), "line 2: request: expected an object");
    }

    #[test]
    fn context_arrays_for_set_operators() {
        let out = run(json!({
            "request": {"action": "ec2:CreateTags", "resource": "*",
                        "principal": "arn:aws:iam::111111111111:user/a",
                        "context": {"aws:TagKeys": ["env", "team"]}},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                 "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}}]}]
        }));
        assert_eq!(out["result"], "Allowed");
        let out = run(json!({
            "request": {"action": "ec2:CreateTags", "resource": "*",
                        "principal": "arn:aws:iam::111111111111:user/a",
                        "context": {"aws:TagKeys": ["env", "owner"]}},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                 "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}}]}]
        }));
        assert_eq!(out["result"], "ImplicitlyDenied");
    }
}
