//! Parsing of IAM JSON policy documents into a typed, validated form.
//!
//! Accepts every shape AWS accepts: `Version` 2012-10-17 / 2008-10-17 (absent = 2008-10-17),
//! `Statement` as an object or an array, `Action`/`NotAction`, `Resource`/`NotResource`,
//! `Principal`/`NotPrincipal` (`"*"` or an object of `AWS`/`Service`/`Federated`/`CanonicalUser`),
//! and `Condition` blocks whose values are strings, numbers or booleans (single or arrays).
//! Documents may also be given as text, including the percent-encoded form IAM returns.
//!
//! A malformed document is an error naming the policy id and the JSON path inside it; an unknown
//! condition operator is an error, never silently ignored.
//!
//! Must not: perform I/O, reference AWS SDK types, or evaluate anything (see `eval`).

use serde_json::{Map, Value};
use std::fmt;

/// A malformed policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy \"{policy_id}\": {path}: {message}")]
pub struct PolicyError {
    /// The id given to [`Policy::parse`] (an ARN, a file name, a JSON path …).
    pub policy_id: String,
    /// JSON path inside the document, e.g. `Statement[2].Condition.StringLike`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17` (also the default when `Version` is absent): no policy variables.
    V2008_10_17,
}

impl Version {
    /// Whether `${…}` policy variables are substituted under this version.
    pub fn substitutes_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Explicitly denies.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// `Action` or `NotAction` patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionSpec {
    /// Matches listed actions.
    Action(Vec<String>),
    /// Matches every action except those listed.
    NotAction(Vec<String>),
}

/// `Resource` or `NotResource` patterns; `Any` when the element is absent (trust policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceSpec {
    /// Matches listed resources.
    Resource(Vec<String>),
    /// Matches every resource except those listed.
    NotResource(Vec<String>),
    /// No resource element: the policy is attached to the resource it governs.
    Any,
}

/// The values of a `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"Principal": "*"`.
    pub any: bool,
    /// `AWS` entries; bare 12-digit account ids are expanded to `arn:aws:iam::<id>:root`.
    pub aws: Vec<String>,
    /// `Service` entries.
    pub service: Vec<String>,
    /// `Federated` entries.
    pub federated: Vec<String>,
    /// `CanonicalUser` entries.
    pub canonical_user: Vec<String>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    /// Applies to the listed principals.
    Principal(Principals),
    /// Applies to every principal except those listed.
    NotPrincipal(Principals),
}

/// `ForAllValues:` / `ForAnyValue:` set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// Every request value must match (empty/missing set = true).
    ForAllValues,
    /// At least one request value must match (missing = false).
    ForAnyValue,
}

/// Base condition operator (without qualifier or `IfExists`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const BASE_OPS: &[(&str, BaseOp)] = &[
    ("StringEquals", BaseOp::StringEquals),
    ("StringNotEquals", BaseOp::StringNotEquals),
    ("StringEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase),
    (
        "StringNotEqualsIgnoreCase",
        BaseOp::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOp::StringLike),
    ("StringNotLike", BaseOp::StringNotLike),
    ("NumericEquals", BaseOp::NumericEquals),
    ("NumericNotEquals", BaseOp::NumericNotEquals),
    ("NumericLessThan", BaseOp::NumericLessThan),
    ("NumericLessThanEquals", BaseOp::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOp::NumericGreaterThan),
    ("NumericGreaterThanEquals", BaseOp::NumericGreaterThanEquals),
    ("DateEquals", BaseOp::DateEquals),
    ("DateNotEquals", BaseOp::DateNotEquals),
    ("DateLessThan", BaseOp::DateLessThan),
    ("DateLessThanEquals", BaseOp::DateLessThanEquals),
    ("DateGreaterThan", BaseOp::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOp::DateGreaterThanEquals),
    ("Bool", BaseOp::Bool),
    ("BinaryEquals", BaseOp::BinaryEquals),
    ("IpAddress", BaseOp::IpAddress),
    ("NotIpAddress", BaseOp::NotIpAddress),
    ("ArnEquals", BaseOp::ArnEquals),
    ("ArnLike", BaseOp::ArnLike),
    ("ArnNotEquals", BaseOp::ArnNotEquals),
    ("ArnNotLike", BaseOp::ArnNotLike),
    ("Null", BaseOp::Null),
];

impl BaseOp {
    /// Negated matching operators: a missing key makes them true, several values are NORed.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::NumericNotEquals
                | BaseOp::DateNotEquals
                | BaseOp::NotIpAddress
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }

    /// The positive operator a negated one negates (identity for positive operators).
    pub fn positive(self) -> BaseOp {
        match self {
            BaseOp::StringNotEquals => BaseOp::StringEquals,
            BaseOp::StringNotEqualsIgnoreCase => BaseOp::StringEqualsIgnoreCase,
            BaseOp::StringNotLike => BaseOp::StringLike,
            BaseOp::NumericNotEquals => BaseOp::NumericEquals,
            BaseOp::DateNotEquals => BaseOp::DateEquals,
            BaseOp::NotIpAddress => BaseOp::IpAddress,
            BaseOp::ArnNotEquals => BaseOp::ArnEquals,
            BaseOp::ArnNotLike => BaseOp::ArnLike,
            other => other,
        }
    }
}

/// A full condition operator, e.g. `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// Optional set qualifier.
    pub qualifier: Option<SetQualifier>,
    /// The base operator.
    pub base: BaseOp,
    /// `…IfExists` suffix (missing key -> true).
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name (case-insensitively). `None` if it is not an operator.
    pub fn parse(name: &str) -> Option<Operator> {
        let lower = name.to_ascii_lowercase();
        let (qualifier, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, lower.as_str())
        };
        let (if_exists, base_name) = match rest.strip_suffix("ifexists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = BASE_OPS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(base_name))
            .map(|(_, op)| *op)?;
        if base == BaseOp::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(Operator {
            qualifier,
            base,
            if_exists,
        })
    }
}

/// One `operator: {key: values}` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Parsed operator.
    pub operator: Operator,
    /// Operator as written in the policy (for evidence).
    pub operator_text: String,
    /// Condition key as written (matched case-insensitively).
    pub key: String,
    /// Policy values (ORed; NORed for negated operators), numbers and booleans as text.
    pub values: Vec<String>,
}

/// One statement, with its original position for evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Index in the `Statement` array (0 for a single-object statement).
    pub index: usize,
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` / `NotAction`.
    pub action: ActionSpec,
    /// `Resource` / `NotResource`.
    pub resource: ResourceSpec,
    /// `Principal` / `NotPrincipal` (resource-based policies, RCPs).
    pub principal: Option<PrincipalSpec>,
    /// Conditions, all ANDed.
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Caller-chosen identifier (usually the policy ARN), used in evidence and errors.
    pub id: String,
    /// Language version.
    pub version: Version,
    /// The document's own `Id` element, if any.
    pub doc_id: Option<String>,
    /// Statements in document order.
    pub statements: Vec<Statement>,
}

struct Ctx<'a> {
    id: &'a str,
}

impl Ctx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> PolicyError {
        PolicyError {
            policy_id: self.id.to_string(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

impl Policy {
    /// Parses a policy document given as JSON.
    pub fn parse(id: &str, doc: &Value) -> Result<Policy, PolicyError> {
        let cx = Ctx { id };
        let obj = doc
            .as_object()
            .ok_or_else(|| cx.err("$", "expected a JSON object"))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
                return Err(cx.err(k, "unknown policy element"));
            }
        }
        let version = match obj.get("Version") {
            None => Version::V2008_10_17,
            Some(Value::String(s)) if s == "2012-10-17" => Version::V2012_10_17,
            Some(Value::String(s)) if s == "2008-10-17" => Version::V2008_10_17,
            Some(Value::String(s)) => {
                return Err(cx.err(
                    "Version",
                    format!(
                        "unsupported version {s:?} (expected \"2012-10-17\" or \"2008-10-17\")"
                    ),
                ))
            }
            Some(_) => return Err(cx.err("Version", "expected a string")),
        };
        let doc_id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(cx.err("Id", "expected a string")),
        };
        let statements = match obj.get("Statement") {
            None => return Err(cx.err("Statement", "missing")),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| parse_statement(&cx, &format!("Statement[{i}]"), i, s))
                .collect::<Result<Vec<_>, _>>()?,
            Some(v @ Value::Object(_)) => vec![parse_statement(&cx, "Statement", 0, v)?],
            Some(_) => return Err(cx.err("Statement", "expected an object or an array")),
        };
        Ok(Policy {
            id: id.to_string(),
            version,
            doc_id,
            statements,
        })
    }

    /// Parses a policy document given as text: plain JSON, or percent-encoded JSON (as IAM
    /// returns it) when the text starts with `%7B`.
    pub fn parse_str(id: &str, text: &str) -> Result<Policy, PolicyError> {
        let cx = Ctx { id };
        let trimmed = text.trim();
        let decoded;
        let json_text = if trimmed
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("%7B"))
        {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|e| cx.err("$", format!("percent-decoded text is not UTF-8: {e}")))?
                .into_owned();
            decoded.as_str()
        } else {
            trimmed
        };
        let value: Value = serde_json::from_str(json_text)
            .map_err(|e| cx.err("$", format!("invalid JSON: {e}")))?;
        Policy::parse(id, &value)
    }
}

fn parse_statement(
    cx: &Ctx<'_>,
    path: &str,
    index: usize,
    v: &Value,
) -> Result<Statement, PolicyError> {
    let obj = v
        .as_object()
        .ok_or_else(|| cx.err(path, "expected an object"))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Principal"
                | "NotPrincipal"
                | "Condition"
        ) {
            return Err(cx.err(&format!("{path}.{k}"), "unknown statement element"));
        }
    }
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(cx.err(&format!("{path}.Sid"), "expected a string")),
    };
    let effect = match obj.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(cx.err(
                &format!("{path}.Effect"),
                format!("expected \"Allow\" or \"Deny\", found {s:?}"),
            ))
        }
        Some(_) => return Err(cx.err(&format!("{path}.Effect"), "expected a string")),
        None => return Err(cx.err(&format!("{path}.Effect"), "missing")),
    };
    let action = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => ActionSpec::Action(string_list(cx, &format!("{path}.Action"), a)?),
        (None, Some(a)) => ActionSpec::NotAction(string_list(cx, &format!("{path}.NotAction"), a)?),
        (Some(_), Some(_)) => {
            return Err(cx.err(path, "both Action and NotAction are present"));
        }
        (None, None) => return Err(cx.err(path, "missing Action or NotAction")),
    };
    let resource = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(r), None) => ResourceSpec::Resource(string_list(cx, &format!("{path}.Resource"), r)?),
        (None, Some(r)) => {
            ResourceSpec::NotResource(string_list(cx, &format!("{path}.NotResource"), r)?)
        }
        (Some(_), Some(_)) => {
            return Err(cx.err(path, "both Resource and NotResource are present"));
        }
        (None, None) => ResourceSpec::Any,
    };
    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(p), None) => Some(PrincipalSpec::Principal(parse_principals(
            cx,
            &format!("{path}.Principal"),
            p,
        )?)),
        (None, Some(p)) => Some(PrincipalSpec::NotPrincipal(parse_principals(
            cx,
            &format!("{path}.NotPrincipal"),
            p,
        )?)),
        (Some(_), Some(_)) => {
            return Err(cx.err(path, "both Principal and NotPrincipal are present"));
        }
        (None, None) => None,
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(cx, &format!("{path}.Condition"), c)?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

fn string_list(cx: &Ctx<'_>, path: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(cx.err(&format!("{path}[{i}]"), "expected a string")),
            })
            .collect(),
        _ => Err(cx.err(path, "expected a string or an array of strings")),
    }
}

fn parse_principals(cx: &Ctx<'_>, path: &str, v: &Value) -> Result<Principals, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals {
            any: true,
            ..Principals::default()
        }),
        Value::String(s) => Err(cx.err(
            path,
            format!("expected \"*\" or an object of principal types, found {s:?}"),
        )),
        Value::Object(map) => {
            let mut p = Principals::default();
            for (k, val) in map {
                let sub = format!("{path}.{k}");
                let list = string_list(cx, &sub, val)?;
                match k.as_str() {
                    "AWS" => {
                        for item in list {
                            if item == "*" {
                                p.any = true;
                            }
                            if item.len() == 12 && item.bytes().all(|b| b.is_ascii_digit()) {
                                p.aws.push(format!("arn:aws:iam::{item}:root"));
                            } else {
                                p.aws.push(item);
                            }
                        }
                    }
                    "Service" => p.service.extend(list),
                    "Federated" => p.federated.extend(list),
                    "CanonicalUser" => p.canonical_user.extend(list),
                    _ => return Err(cx.err(&sub, "unknown principal type")),
                }
            }
            Ok(p)
        }
        _ => Err(cx.err(path, "expected \"*\" or an object")),
    }
}

fn parse_conditions(cx: &Ctx<'_>, path: &str, v: &Value) -> Result<Vec<Condition>, PolicyError> {
    let block: &Map<String, Value> = v
        .as_object()
        .ok_or_else(|| cx.err(path, "expected an object"))?;
    let mut out = Vec::new();
    for (op_name, inner) in block {
        let op_path = format!("{path}.{op_name}");
        let operator = Operator::parse(op_name)
            .ok_or_else(|| cx.err(&op_path, "unknown condition operator"))?;
        let inner = inner
            .as_object()
            .ok_or_else(|| cx.err(&op_path, "expected an object"))?;
        for (key, vals) in inner {
            let key_path = format!("{op_path}.{key}");
            let values = condition_values(cx, &key_path, vals)?;
            if operator.base == BaseOp::Null {
                for (i, val) in values.iter().enumerate() {
                    if !val.eq_ignore_ascii_case("true") && !val.eq_ignore_ascii_case("false") {
                        let p = if values.len() == 1 {
                            key_path.clone()
                        } else {
                            format!("{key_path}[{i}]")
                        };
                        return Err(cx.err(&p, "Null expects true or false"));
                    }
                }
            }
            out.push(Condition {
                operator,
                operator_text: op_name.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn condition_values(cx: &Ctx<'_>, path: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                scalar_text(item).ok_or_else(|| {
                    cx.err(
                        &format!("{path}[{i}]"),
                        "expected a string, number or boolean",
                    )
                })
            })
            .collect(),
        other => scalar_text(other).map(|s| vec![s]).ok_or_else(|| {
            cx.err(
                path,
                "expected a string, number, boolean or an array of them",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(doc: Value) -> String {
        match Policy::parse("arn:aws:iam::111111111111:policy/Foo", &doc) {
            Ok(p) => panic!("expected an error, parsed {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_every_shape() {
        let p = Policy::parse(
            "p",
            &json!({
                "Version": "2012-10-17",
                "Id": "doc",
                "Statement": [
                    {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"]},
                    {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "*",
                     "Principal": {"AWS": ["111111111111", "arn:aws:iam::222222222222:user/bob"],
                                   "Service": "codepipeline.amazonaws.com"},
                     "Condition": {"NumericLessThan": {"s3:max-keys": 10},
                                   "Bool": {"aws:SecureTransport": false},
                                   "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}}}
                ]
            }),
        )
        .unwrap();
        assert_eq!(p.version, Version::V2012_10_17);
        assert_eq!(p.doc_id.as_deref(), Some("doc"));
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].sid.as_deref(), Some("A"));
        let s = &p.statements[1];
        assert_eq!(s.index, 1);
        assert_eq!(s.effect, Effect::Deny);
        assert_eq!(s.action, ActionSpec::NotAction(vec!["iam:*".into()]));
        assert_eq!(s.resource, ResourceSpec::NotResource(vec!["*".into()]));
        match &s.principal {
            Some(PrincipalSpec::Principal(pr)) => {
                assert_eq!(pr.aws[0], "arn:aws:iam::111111111111:root");
                assert_eq!(pr.aws[1], "arn:aws:iam::222222222222:user/bob");
                assert_eq!(pr.service, vec!["codepipeline.amazonaws.com".to_string()]);
                assert!(!pr.any);
            }
            other => panic!("{other:?}"),
        }
        let num = s
            .conditions
            .iter()
            .find(|c| c.operator.base == BaseOp::NumericLessThan)
            .unwrap();
        assert_eq!(num.values, vec!["10".to_string()]);
        let b = s
            .conditions
            .iter()
            .find(|c| c.operator.base == BaseOp::Bool)
            .unwrap();
        assert_eq!(b.values, vec!["false".to_string()]);
        let l = s
            .conditions
            .iter()
            .find(|c| c.operator.base == BaseOp::StringLike)
            .unwrap();
        assert_eq!(l.operator.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(l.operator.if_exists);
        assert_eq!(l.operator_text, "ForAnyValue:StringLikeIfExists");
    }

    #[test]
    fn single_statement_object_and_default_version() {
        let p = Policy::parse(
            "p",
            &json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                                  "Principal": "*"}}),
        )
        .unwrap();
        assert_eq!(p.version, Version::V2008_10_17);
        assert!(!p.version.substitutes_variables());
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].index, 0);
        assert!(matches!(
            &p.statements[0].principal,
            Some(PrincipalSpec::Principal(Principals { any: true, .. }))
        ));
    }

    #[test]
    fn principal_aws_star_is_any() {
        let p = Policy::parse(
            "p",
            &json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": "*"}}]}),
        )
        .unwrap();
        assert!(matches!(
            &p.statements[0].principal,
            Some(PrincipalSpec::Principal(Principals { any: true, .. }))
        ));
        assert_eq!(p.statements[0].resource, ResourceSpec::Any);
    }

    #[test]
    fn malformed_condition_names_path() {
        let e = err(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"StringLike": "oops"}}]}));
        assert_eq!(
            e,
            "policy \"arn:aws:iam::111111111111:policy/Foo\": Statement[2].Condition.StringLike: expected an object"
        );
    }

    #[test]
    fn unknown_operator_is_error() {
        let e = err(
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"StringSortOf": {"aws:x": "y"}}}]}),
        );
        assert!(
            e.ends_with("Statement[0].Condition.StringSortOf: unknown condition operator"),
            "{e}"
        );
        let e = err(
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"NullIfExists": {"aws:x": "true"}}}]}),
        );
        assert!(e.contains("unknown condition operator"), "{e}");
    }

    #[test]
    fn malformed_elements_name_paths() {
        assert!(
            err(json!({"Statement": [{"Effect": "Permit", "Action": "*"}]}))
                .contains("Statement[0].Effect: expected \"Allow\" or \"Deny\"")
        );
        assert!(
            err(json!({"Statement": [{"Action": "*"}]})).contains("Statement[0].Effect: missing")
        );
        assert!(
            err(json!({"Statement": [{"Effect": "Allow", "Action": ["s3:x", 3]}]}))
                .contains("Statement[0].Action[1]: expected a string")
        );
        assert!(err(json!({"Statement": [{"Effect": "Allow"}]}))
            .contains("Statement[0]: missing Action or NotAction"));
        assert!(
            err(json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]}))
                .contains("both Action and NotAction")
        );
        assert!(err(json!({"Version": "2013-01-01", "Statement": []}))
            .contains("Version: unsupported version"));
        assert!(err(json!({"Statement": [{"Effect": "Allow", "Action": "*",
             "Principal": {"Robot": "x"}}]}))
        .contains("Statement[0].Principal.Robot: unknown principal type"));
        assert!(err(json!({"Statement": [{"Effect": "Allow", "Action": "*",
             "Condition": {"StringEquals": {"aws:x": {"nested": 1}}}}]}))
        .contains("Statement[0].Condition.StringEquals.aws:x: expected a string"));
        assert!(err(json!({"Statement": [{"Effect": "Allow", "Action": "*",
             "Condition": {"Null": {"aws:x": "maybe"}}}]}))
        .contains("Statement[0].Condition.Null.aws:x: Null expects true or false"));
        assert!(
            err(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Acton": "x"}]}))
                .contains("Statement[0].Acton: unknown statement element")
        );
        assert!(
            err(json!({"Statement": "x"})).contains("Statement: expected an object or an array")
        );
        assert!(err(json!([])).contains(": $: expected a JSON object"));
    }

    #[test]
    fn parse_str_plain_and_percent_encoded() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let a = Policy::parse_str("a", text).unwrap();
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let b = Policy::parse_str("a", encoded).unwrap();
        assert_eq!(a, b);
        let lower = encoded.replace("%7B", "%7b");
        assert_eq!(Policy::parse_str("a", &lower).unwrap(), a);
        let e = Policy::parse_str("x", "{not json").unwrap_err();
        assert_eq!(e.path, "$");
        assert!(e.message.starts_with("invalid JSON"));
    }

    #[test]
    fn operator_parsing() {
        let o = Operator::parse("ForAllValues:StringNotEqualsIgnoreCaseIfExists").unwrap();
        assert_eq!(o.qualifier, Some(SetQualifier::ForAllValues));
        assert_eq!(o.base, BaseOp::StringNotEqualsIgnoreCase);
        assert!(o.if_exists);
        assert!(o.base.is_negated());
        assert_eq!(o.base.positive(), BaseOp::StringEqualsIgnoreCase);
        assert_eq!(Operator::parse("Null").unwrap().base, BaseOp::Null);
        assert!(Operator::parse("ForAnyValue:Null").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(!BaseOp::NumericLessThan.is_negated());
    }
}
