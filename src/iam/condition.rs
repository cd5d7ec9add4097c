//! Evaluation of `Condition` blocks with AWS's documented rules, in three-valued logic.
//!
//! Rules implemented:
//! * keys are case-insensitive; several operators and several keys are ANDed; several policy
//!   values for one key are ORed (NORed for negated operators such as `StringNotEquals`);
//! * a missing key makes a positive operator false and a negated operator true;
//! * `…IfExists`: a missing key makes the condition true;
//! * `Null`: `true` means "the key is absent", `false` means "the key is present";
//! * `ForAllValues:` is true when every request value matches (an empty or missing set is true);
//!   `ForAnyValue:` is true when at least one value matches (a missing set is false);
//! * a key whose presence is unknown (audit mode) makes the condition `Unknown`.
//!
//! Must not: perform I/O, reference AWS SDK types, or depend on the catalog module.

use super::context::{KeyLookup, Lookup, Tri};
use super::matching::{arn_tokens_match, glob_match, substitute, tokens_to_string, Subst, Tok};
use super::policy::{BaseOp, Condition, SetQualifier};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::net::IpAddr;

/// A condition whose outcome could not be decided (audit mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// Operator as written in the policy.
    pub operator: String,
    /// Condition key (or policy-variable key) that was unknown.
    pub key: String,
}

/// Evaluates all conditions of a statement (ANDed). Unknown keys are appended to `unknowns`.
pub fn evaluate_conditions(
    conditions: &[Condition],
    lookup: &dyn KeyLookup,
    substitute_vars: bool,
    unknowns: &mut Vec<UnknownKey>,
) -> Tri {
    let mut acc = Tri::True;
    for c in conditions {
        let r = evaluate_condition(c, lookup, substitute_vars, unknowns);
        acc = acc.and(r);
    }
    acc
}

/// Evaluates one `operator: {key: values}` entry.
pub fn evaluate_condition(
    c: &Condition,
    lookup: &dyn KeyLookup,
    substitute_vars: bool,
    unknowns: &mut Vec<UnknownKey>,
) -> Tri {
    let unknown = |unknowns: &mut Vec<UnknownKey>, key: &str| {
        unknowns.push(UnknownKey {
            operator: c.operator_text.clone(),
            key: key.to_string(),
        });
        Tri::Unknown
    };
    let request_values = match lookup.lookup(&c.key) {
        Lookup::Unknown => return unknown(unknowns, &c.key),
        Lookup::Absent => None,
        Lookup::Present(v) if v.is_empty() => None,
        Lookup::Present(v) => Some(v),
    };
    let op = c.operator;
    if op.base == BaseOp::Null {
        let absent = request_values.is_none();
        return c
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("true") == absent)
            .into();
    }
    let negated = op.base.is_negated();
    let positive = op.base.positive();
    let Some(request_values) = request_values else {
        return match op.qualifier {
            _ if op.if_exists => Tri::True,
            Some(SetQualifier::ForAllValues) => Tri::True,
            Some(SetQualifier::ForAnyValue) => Tri::False,
            None => negated.into(),
        };
    };
    // Substitute policy variables in the policy values once.
    let mut policy_values = Vec::with_capacity(c.values.len());
    let mut any_unknown_var = None;
    for v in &c.values {
        match substitute(v, lookup, substitute_vars) {
            Subst::Tokens(t) => policy_values.push(Some(t)),
            Subst::Missing => policy_values.push(None),
            Subst::Unknown(k) => {
                any_unknown_var.get_or_insert(k);
                policy_values.push(None);
            }
        }
    }
    // "Does request value `s` match any policy value" (positive sense).
    let matches_any = |s: &str| -> Tri {
        let hit = policy_values
            .iter()
            .flatten()
            .any(|p| positive_match(positive, p, s));
        if hit {
            Tri::True
        } else if any_unknown_var.is_some() {
            Tri::Unknown
        } else {
            Tri::False
        }
    };
    let test = |s: &str| -> Tri {
        let m = matches_any(s);
        if negated {
            m.not()
        } else {
            m
        }
    };
    let result = match op.qualifier {
        Some(SetQualifier::ForAllValues) => Tri::all(request_values.iter().map(|s| test(s))),
        Some(SetQualifier::ForAnyValue) => Tri::any(request_values.iter().map(|s| test(s))),
        None => {
            let m = Tri::any(request_values.iter().map(|s| matches_any(s)));
            if negated {
                m.not()
            } else {
                m
            }
        }
    };
    if result == Tri::Unknown {
        if let Some(k) = any_unknown_var {
            unknowns.push(UnknownKey {
                operator: c.operator_text.clone(),
                key: k,
            });
        }
    }
    result
}

/// Positive match of one request value against one (substituted) policy value.
fn positive_match(op: BaseOp, policy: &[Tok], request: &str) -> bool {
    match op {
        BaseOp::StringEquals => tokens_to_string(policy) == request,
        BaseOp::StringEqualsIgnoreCase => {
            tokens_to_string(policy).to_lowercase() == request.to_lowercase()
        }
        BaseOp::StringLike => glob_match(policy, request, false),
        BaseOp::ArnEquals | BaseOp::ArnLike => arn_tokens_match(policy, request),
        BaseOp::NumericEquals
        | BaseOp::NumericLessThan
        | BaseOp::NumericLessThanEquals
        | BaseOp::NumericGreaterThan
        | BaseOp::NumericGreaterThanEquals => {
            match (
                parse_number(&tokens_to_string(policy)),
                parse_number(request),
            ) {
                (Some(p), Some(r)) => compare(op, r.partial_cmp(&p)),
                _ => false,
            }
        }
        BaseOp::DateEquals
        | BaseOp::DateLessThan
        | BaseOp::DateLessThanEquals
        | BaseOp::DateGreaterThan
        | BaseOp::DateGreaterThanEquals => {
            match (parse_date(&tokens_to_string(policy)), parse_date(request)) {
                (Some(p), Some(r)) => compare(op, Some(r.cmp(&p))),
                _ => false,
            }
        }
        BaseOp::Bool => {
            let p = tokens_to_string(policy);
            (p.eq_ignore_ascii_case("true") || p.eq_ignore_ascii_case("false"))
                && p.eq_ignore_ascii_case(request.trim())
        }
        BaseOp::BinaryEquals => {
            let p = tokens_to_string(policy);
            match (base64_decode(&p), base64_decode(request)) {
                (Some(a), Some(b)) => a == b,
                _ => p == request,
            }
        }
        BaseOp::IpAddress => ip_in_cidr(request, &tokens_to_string(policy)),
        // Negated and Null operators are never passed here.
        _ => false,
    }
}

fn compare(op: BaseOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(ord) = ord else { return false };
    match op {
        BaseOp::NumericEquals | BaseOp::DateEquals => ord == Equal,
        BaseOp::NumericLessThan | BaseOp::DateLessThan => ord == Less,
        BaseOp::NumericLessThanEquals | BaseOp::DateLessThanEquals => ord != Greater,
        BaseOp::NumericGreaterThan | BaseOp::DateGreaterThan => ord == Greater,
        BaseOp::NumericGreaterThanEquals | BaseOp::DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// Parses a numeric condition value (integer or decimal).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Parses a date condition value: ISO 8601 (with or without time / offset; no offset = UTC)
/// or epoch seconds.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !s.contains("--") {
        if let Ok(secs) = s.parse::<i64>() {
            // Pure integers are epoch seconds (a date like 2020-01-01 contains '-' inside).
            return Utc.timestamp_opt(secs, 0).single();
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y%m%dT%H%M%S%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let no_z = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(no_z, fmt) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(no_z, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            let secs = f.floor();
            let nanos = ((f - secs) * 1e9) as u32;
            return Utc.timestamp_opt(secs as i64, nanos).single();
        }
    }
    None
}

/// Whether `ip` lies inside `cidr` (`a.b.c.d/n`, an IPv6 prefix, or a single address).
/// IPv4 never matches an IPv6 block and vice versa.
pub fn ip_in_cidr(ip: &str, cidr: &str) -> bool {
    let Ok(addr) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let cidr = cidr.trim();
    let (net, len) = match cidr.split_once('/') {
        Some((n, l)) => match l.parse::<u32>() {
            Ok(l) => (n, Some(l)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return false;
            }
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return false;
            }
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

/// Standard base64 decoding (padding optional, whitespace ignored; the URL-safe `-` and `_` are accepted too).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(cleaned.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::super::context::Context;
    use super::super::policy::Policy;
    use super::*;
    use serde_json::json;

    /// Evaluates `{"Condition": cond}` against `ctx` (version 2012-10-17).
    fn eval(cond: serde_json::Value, ctx: &Context) -> Tri {
        eval_u(cond, ctx).0
    }

    fn eval_u(cond: serde_json::Value, ctx: &Context) -> (Tri, Vec<UnknownKey>) {
        let p = Policy::parse(
            "t",
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": cond}]}),
        )
        .unwrap();
        let mut u = Vec::new();
        let t = evaluate_conditions(&p.statements[0].conditions, ctx, true, &mut u);
        (t, u)
    }

    fn ctx() -> Context {
        Context::exact()
    }

    #[test]
    fn string_operators() {
        let c = ctx().with("aws:PrincipalTag/team", "Ops");
        assert_eq!(
            eval(
                json!({"StringEquals": {"aws:PrincipalTag/team": "Ops"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"StringEquals": {"aws:PrincipalTag/team": "ops"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "ops"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "OPS"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringNotEquals": {"aws:PrincipalTag/team": "Dev"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(json!({"StringLike": {"aws:PrincipalTag/team": "O?s"}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"StringLike": {"aws:PrincipalTag/team": "D*"}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringNotLike": {"aws:PrincipalTag/team": "D*"}}),
                &c
            ),
            Tri::True
        );
        // StringEquals treats `*` literally.
        assert_eq!(
            eval(json!({"StringEquals": {"aws:PrincipalTag/team": "O*"}}), &c),
            Tri::False
        );
    }

    #[test]
    fn keys_case_insensitive_values_ored_keys_anded() {
        let c = ctx()
            .with("aws:PrincipalTag/team", "ops")
            .with("aws:RequestedRegion", "eu-west-1");
        assert_eq!(
            eval(
                json!({"StringEquals": {"AWS:PRINCIPALTAG/TEAM": ["dev", "ops"]}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"StringEquals": {"aws:PrincipalTag/team": "ops", "aws:RequestedRegion": "us-east-1"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringEquals": {"aws:PrincipalTag/team": "ops"},
                        "StringLike": {"aws:RequestedRegion": "eu-*"}}),
                &c
            ),
            Tri::True
        );
        // Negated with several values is NOR.
        assert_eq!(
            eval(
                json!({"StringNotEquals": {"aws:PrincipalTag/team": ["dev", "ops"]}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringNotEquals": {"aws:PrincipalTag/team": ["dev", "qa"]}}),
                &c
            ),
            Tri::True
        );
    }

    #[test]
    fn missing_key_positive_false_negated_true() {
        let c = ctx();
        for op in [
            "StringEquals",
            "StringLike",
            "NumericLessThan",
            "DateGreaterThan",
            "Bool",
            "IpAddress",
            "ArnLike",
            "ArnEquals",
            "BinaryEquals",
            "StringEqualsIgnoreCase",
        ] {
            assert_eq!(
                eval(json!({op: {"aws:Missing": "1"}}), &c),
                Tri::False,
                "{op}"
            );
        }
        for op in [
            "StringNotEquals",
            "StringNotLike",
            "StringNotEqualsIgnoreCase",
            "NumericNotEquals",
            "DateNotEquals",
            "NotIpAddress",
            "ArnNotEquals",
            "ArnNotLike",
        ] {
            assert_eq!(
                eval(json!({op: {"aws:Missing": "1"}}), &c),
                Tri::True,
                "{op}"
            );
        }
    }

    #[test]
    fn if_exists_forms() {
        let c = ctx().with("ec2:InstanceType", "t2.micro");
        assert_eq!(
            eval(json!({"StringEqualsIfExists": {"aws:Missing": "x"}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericLessThanIfExists": {"aws:Missing": "1"}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"StringEqualsIfExists": {"ec2:InstanceType": "m5.large"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringNotEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
                &c
            ),
            Tri::True
        );
    }

    #[test]
    fn null_operator() {
        let c = ctx().with("aws:TokenIssueTime", "2024-01-01T00:00:00Z");
        assert_eq!(
            eval(json!({"Null": {"aws:TokenIssueTime": "true"}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(json!({"Null": {"aws:TokenIssueTime": "false"}}), &c),
            Tri::True
        );
        assert_eq!(eval(json!({"Null": {"aws:Missing": true}}), &c), Tri::True);
        assert_eq!(
            eval(json!({"Null": {"aws:Missing": false}}), &c),
            Tri::False
        );
        let empty = ctx().with_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(
            eval(json!({"Null": {"aws:TagKeys": "true"}}), &empty),
            Tri::True
        );
        // Unknown in audit mode.
        assert_eq!(
            eval(json!({"Null": {"aws:Missing": "true"}}), &Context::audit()),
            Tri::Unknown
        );
    }

    #[test]
    fn for_all_values_and_for_any_value() {
        let c = ctx().with_values("aws:TagKeys", ["env", "team"]);
        assert_eq!(
            eval(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "cost"]}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}),
                &c
            ),
            Tri::False
        );
        // ForAllValues on an empty or missing set is true.
        let empty = ctx().with_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(
            eval(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["cost"]}}),
                &empty
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["cost"]}}),
                &ctx()
            ),
            Tri::True
        );
        // ForAnyValue on a missing key is false.
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}),
                &ctx()
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["cost"]}}),
                &ctx()
            ),
            Tri::False
        );
        // Negated with set qualifiers: each request value tested against NOR of policy values.
        assert_eq!(
            eval(
                json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["env"]}}),
                &ctx()
            ),
            Tri::True
        );
        // Plain operator on a multivalued key: any value.
        assert_eq!(
            eval(json!({"StringEquals": {"aws:TagKeys": "team"}}), &c),
            Tri::True
        );
    }

    #[test]
    fn numeric_operators() {
        let c = ctx().with("s3:max-keys", "10");
        assert_eq!(
            eval(json!({"NumericEquals": {"s3:max-keys": 10}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericEquals": {"s3:max-keys": "10.0"}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericNotEquals": {"s3:max-keys": 10}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(json!({"NumericLessThan": {"s3:max-keys": 11}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericLessThan": {"s3:max-keys": 10}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(json!({"NumericLessThanEquals": {"s3:max-keys": 10}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericGreaterThan": {"s3:max-keys": 9.5}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"NumericGreaterThanEquals": {"s3:max-keys": 11}}), &c),
            Tri::False
        );
        let bad = ctx().with("s3:max-keys", "ten");
        assert_eq!(
            eval(json!({"NumericEquals": {"s3:max-keys": 10}}), &bad),
            Tri::False
        );
    }

    #[test]
    fn date_operators_iso_and_epoch() {
        let c = ctx().with("aws:CurrentTime", "2024-06-01T12:00:00Z");
        assert_eq!(
            eval(
                json!({"DateLessThan": {"aws:CurrentTime": "2024-12-31T00:00:00Z"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"DateGreaterThan": {"aws:CurrentTime": "2024-12-31"}}),
                &c
            ),
            Tri::False
        );
        // 1717243200 = 2024-06-01T12:00:00Z
        assert_eq!(
            eval(json!({"DateEquals": {"aws:CurrentTime": 1717243200}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"DateNotEquals": {"aws:CurrentTime": "1717243200"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"DateGreaterThanEquals": {"aws:CurrentTime": "2024-06-01T14:00:00+02:00"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"DateLessThanEquals": {"aws:CurrentTime": "2024-06-01T11:59:59Z"}}),
                &c
            ),
            Tri::False
        );
        let epoch = ctx().with("aws:EpochTime", "1717243200");
        assert_eq!(
            eval(
                json!({"DateLessThan": {"aws:EpochTime": "2024-06-02"}}),
                &epoch
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"DateLessThan": {"aws:EpochTime": "2024-06-01"}}),
                &epoch
            ),
            Tri::False
        );
    }

    #[test]
    fn bool_binary_arn() {
        let c = ctx()
            .with("aws:SecureTransport", "TRUE")
            .with("s3:blob", "aGVsbG8=")
            .with(
                "aws:SourceArn",
                "arn:aws:codepipeline:us-east-1:111111111111:webapp",
            );
        assert_eq!(
            eval(json!({"Bool": {"aws:SecureTransport": true}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"Bool": {"aws:SecureTransport": "false"}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(json!({"BinaryEquals": {"s3:blob": "aGVsbG8"}}), &c),
            Tri::True
        );
        assert_eq!(
            eval(json!({"BinaryEquals": {"s3:blob": "aGVsbG9v"}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:codepipeline:*:111111111111:*"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ArnEquals": {"aws:SourceArn": "arn:aws:codepipeline:us-east-1:111111111111:webapp"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:codepipeline:*:222222222222:*"}}),
                &c
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:codepipeline:us-east-1:111111111111:webapp"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"ArnLike": {"aws:SourceArn": "arn:aws:codepipeline:*:webapp"}}),
                &c
            ),
            Tri::False
        );
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert!(base64_decode("a").is_none());
    }

    #[test]
    fn ip_addresses_v4_and_v6() {
        assert!(ip_in_cidr("10.1.2.3", "10.0.0.0/8"));
        assert!(!ip_in_cidr("11.1.2.3", "10.0.0.0/8"));
        assert!(ip_in_cidr("203.0.113.7", "203.0.113.7"));
        assert!(ip_in_cidr("1.2.3.4", "0.0.0.0/0"));
        assert!(ip_in_cidr("2001:db8:1234::1", "2001:db8:1234::/48"));
        assert!(!ip_in_cidr("2001:db8:1235::1", "2001:db8:1234::/48"));
        assert!(!ip_in_cidr("10.0.0.1", "::/0"));
        assert!(!ip_in_cidr("10.0.0.1", "10.0.0.0/33"));
        let c6 = ctx().with("aws:SourceIp", "2001:DB8:1234:5678::1");
        assert_eq!(
            eval(
                json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8:1234::/48"]}}),
                &c6
            ),
            Tri::True
        );
        assert_eq!(
            eval(
                json!({"NotIpAddress": {"aws:SourceIp": "2001:db8:1234::/48"}}),
                &c6
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"NotIpAddress": {"aws:SourceIp": "2001:db8:ffff::/48"}}),
                &c6
            ),
            Tri::True
        );
    }

    #[test]
    fn audit_mode_unknown_keys_are_named() {
        let c = Context::audit().with("aws:SourceIp", "10.0.0.1");
        let (t, u) = eval_u(
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"},
                   "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            &c,
        );
        assert_eq!(t, Tri::Unknown);
        assert_eq!(
            u,
            vec![UnknownKey {
                operator: "Bool".into(),
                key: "aws:MultiFactorAuthPresent".into()
            }]
        );
        // A false sibling condition makes the whole block false despite the unknown.
        let (t, _) = eval_u(
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"},
                   "IpAddress": {"aws:SourceIp": "192.168.0.0/16"}}),
            &c,
        );
        assert_eq!(t, Tri::False);
        // Known-absent keys behave like exact mode.
        let c = Context::audit().known_absent("aws:MultiFactorAuthPresent");
        assert_eq!(
            eval(json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}), &c),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}),
                &c
            ),
            Tri::True
        );
    }

    #[test]
    fn variables_in_condition_values() {
        let c = ctx()
            .with("aws:username", "alice")
            .with("s3:prefix", "home/alice/docs");
        assert_eq!(
            eval(
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                &c
            ),
            Tri::True
        );
        let bob = ctx()
            .with("aws:username", "bob")
            .with("s3:prefix", "home/alice/docs");
        assert_eq!(
            eval(
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                &bob
            ),
            Tri::False
        );
        // Missing variable: that value does not match (so a negated operator is true).
        let none = ctx().with("s3:prefix", "home/alice/docs");
        assert_eq!(
            eval(
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                &none
            ),
            Tri::False
        );
        assert_eq!(
            eval(
                json!({"StringNotLike": {"s3:prefix": "home/${aws:username}/*"}}),
                &none
            ),
            Tri::True
        );
        // Unknown variable in audit mode.
        let audit = Context::audit().with("s3:prefix", "home/alice/docs");
        let (t, u) = eval_u(
            json!({"StringLike": {"s3:prefix": "home/${aws:SourceIdentity}/*"}}),
            &audit,
        );
        assert_eq!(t, Tri::Unknown);
        assert_eq!(u[0].key, "aws:SourceIdentity");
    }
}
