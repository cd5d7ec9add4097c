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
//! (`identityPolicies[1]: Statement[0].Effect: …`); an empty `request.action` is an error.
//!
//! JSON Lines ([`simulate_jsonl_line`]): every line gets exactly one answer line, in order, so a
//! caller can drive the simulator through a pipe: the evaluation with `"line": N` added, or
//! `{"line": N, "error": "…", "path": "…"}` for a blank line, invalid JSON or a bad request.
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
    /// A blank line in JSON Lines input, where a request was expected.
    #[error("blank line: expected one JSON request per line")]
    BlankLine,
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

/// The answer to one line of JSON Lines input.
#[derive(Debug, Clone, PartialEq)]
pub struct LineAnswer {
    /// 1-based line number.
    pub line: usize,
    /// The evaluation (as [`simulate_value`] gives it), or why the line is not a request.
    pub result: Result<Value, SimulateError>,
}

impl LineAnswer {
    /// Whether the line was a request that could be evaluated.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The answer as one JSON object: the evaluation with `"line": N` added, or
    /// `{"line": N, "error": "…"}` (plus `"path"` when the problem is at a JSON path).
    pub fn to_json(&self) -> Value {
        match &self.result {
            Ok(Value::Object(answer)) => {
                let mut out = Map::new();
                out.insert("line".into(), json!(self.line));
                out.extend(answer.clone());
                Value::Object(out)
            }
            Ok(other) => json!({"line": self.line, "answer": other}),
            Err(e) => {
                let mut out = json!({"line": self.line, "error": e.to_string()});
                let path = match e {
                    SimulateError::Input { path, .. } => Some(path.clone()),
                    SimulateError::Policy(p) => Some(p.policy_id.clone()),
                    _ => None,
                };
                if let (Some(path), Some(obj)) = (path, out.as_object_mut()) {
                    obj.insert("path".into(), json!(path));
                }
                out
            }
        }
    }

    /// The error as `line N: …`, for a log; `None` for a good line.
    pub fn error(&self) -> Option<SimulateError> {
        self.result.as_ref().err().map(|e| SimulateError::Line {
            line: self.line,
            source: Box::new(e.clone()),
        })
    }
}

/// Answers one line of JSON Lines input (`line` without or with its `\n` / `\r\n`): a blank line
/// or a line that is not a valid request gets an error answer, never silence, so that a caller
/// reading answers line by line stays in step with its input.
pub fn simulate_jsonl_line(line_no: usize, line: &[u8]) -> LineAnswer {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let result = if line.iter().all(u8::is_ascii_whitespace) {
        Err(SimulateError::BlankLine)
    } else {
        serde_json::from_slice::<Value>(line)
            .map_err(|e| SimulateError::Json(e.to_string()))
            .and_then(|v| simulate_value(&v))
    };
    LineAnswer {
        line: line_no,
        result,
    }
}

/// Answers JSON Lines input held in memory: one answer per line, in order, bad lines answered
/// in place (see [`simulate_jsonl_line`]). A final line terminator does not start a line.
pub fn simulate_jsonl(input: &str) -> Vec<LineAnswer> {
    if input.is_empty() {
        return Vec::new();
    }
    let body = input.strip_suffix('\n').unwrap_or(input);
    body.split('\n')
        .enumerate()
        .map(|(i, line)| simulate_jsonl_line(i + 1, line.as_bytes()))
        .collect()
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
    if action.trim().is_empty() {
        return Err(input_err(
            "request.action",
            "empty: expected \"service:Action\"",
        ));
    }
    if !action.contains(':') {
        return Err(input_err(
            "request.action",
            format!("expected \"service:Action\", found {action:?}"),
        ));
    }
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
    fn jsonl_answers_every_line_in_place() {
        let ok = json!({"request": {"action": "s3:GetObject", "resource": "*",
                                    "principal": "arn:aws:iam::111111111111:user/a"},
                        "identityPolicies": [allow_all()]})
        .to_string();
        let deny = json!({"request": {"action": "s3:GetObject", "resource": "*",
                                      "principal": "arn:aws:iam::111111111111:user/a"}})
        .to_string();
        let input = format!("{ok}\n\n{{\"request\": 3}}\nnot json\r\n{deny}\r\n");
        let answers = simulate_jsonl(&input);
        let json: Vec<Value> = answers.iter().map(LineAnswer::to_json).collect();
        assert_eq!(json.len(), 5, "{json:?}");
        assert_eq!(json[0]["line"], 1);
        assert_eq!(json[0]["result"], "Allowed");
        assert!(answers[0].is_ok() && answers[0].error().is_none());
        assert_eq!(
            json[1],
            json!({"line": 2, "error": "blank line: expected one JSON request per line"})
        );
        assert_eq!(
            json[2],
            json!({"line": 3, "error": "request: expected an object", "path": "request"})
        );
        assert_eq!(
            answers[2].error().map(|e| e.to_string()).as_deref(),
            Some("line 3: request: expected an object")
        );
        assert_eq!(json[3]["line"], 4);
        assert!(json[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON"));
        assert_eq!(json[4]["line"], 5);
        assert_eq!(json[4]["result"], "ImplicitlyDenied");
        assert_eq!(answers.iter().filter(|a| !a.is_ok()).count(), 3);
        // No input, no answers; a lone newline is one blank line.
        assert!(simulate_jsonl("").is_empty());
        assert_eq!(simulate_jsonl("\n").len(), 1);
        // A policy error names the policy's path.
        let bad = json!({"request": {"action": "s3:GetObject",
                                     "principal": "arn:aws:iam::111111111111:user/a"},
                         "identityPolicies": [{"Statement": [{"Effect": "Maybe", "Action": "*"}]}]})
        .to_string();
        let a = simulate_jsonl_line(7, bad.as_bytes());
        assert_eq!(a.to_json()["path"], "identityPolicies[0]");
        assert_eq!(a.to_json()["line"], 7);
        // Bytes that are not UTF-8 are an answer too, not a crash.
        let a = simulate_jsonl_line(8, b"{\"request\": \"\xff\"}\n");
        assert!(!a.is_ok());
    }

    #[test]
    fn empty_or_malformed_action_is_an_error() {
        for action in ["", "  "] {
            let e = simulate_json(
                &json!({"request": {"action": action,
                                    "principal": "arn:aws:iam::111111111111:user/a"}})
                .to_string(),
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                "request.action: empty: expected \"service:Action\""
            );
        }
        let e = simulate_json(
            &json!({"request": {"action": "GetObject",
                                "principal": "arn:aws:iam::111111111111:user/a"}})
            .to_string(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "request.action: expected \"service:Action\", found \"GetObject\""
        );
        let line = json!({"request": {"action": "",
                                      "principal": "arn:aws:iam::111111111111:user/a"}})
        .to_string();
        let a = simulate_jsonl_line(1, line.as_bytes());
        assert_eq!(a.to_json()["path"], "request.action");
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
