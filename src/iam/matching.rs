//! Pattern matching for IAM policy elements: actions, resource ARNs and policy variables.
//!
//! * Actions match case-insensitively with `*` and `?` wildcards.
//! * Resource ARNs match segment by segment like AWS: the ARN is split on `:` into six parts
//!   (`arn:partition:service:region:account:resource`); wildcards in the first five parts stay
//!   inside their part, the resource part (which may contain `:` and `/`) is globbed freely, and
//!   a bare `"*"` matches everything.
//! * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, `${?}`, `${$}`,
//!   `${key, 'default'}` …) are substituted before matching; values substituted in are literal
//!   (a `*` inside a tag value is not a wildcard). A variable whose key is missing makes the
//!   pattern not match; one whose key is unknown (audit mode) makes the match unknown.
//!
//! Must not: perform I/O, reference AWS SDK types, or depend on the catalog module.

use super::context::{KeyLookup, Lookup, Tri};

/// One element of a glob pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// A literal character.
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    Quest,
}

/// Turns text into glob tokens (`*` and `?` are wildcards, nothing is substituted).
pub fn tokens_plain(s: &str) -> Vec<Tok> {
    s.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c => Tok::Lit(c),
        })
        .collect()
}

/// Renders tokens back to text (wildcards as `*` / `?`), for exact comparisons.
pub fn tokens_to_string(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect()
}

fn char_eq(a: char, b: char, case_insensitive: bool) -> bool {
    a == b || (case_insensitive && a.to_lowercase().eq(b.to_lowercase()))
}

/// Glob match of `pattern` against the whole of `text`.
pub fn glob_match(pattern: &[Tok], text: &str, case_insensitive: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut p, mut i) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while i < t.len() {
        match pattern.get(p) {
            Some(Tok::Star) => {
                backtrack = Some((p, i));
                p += 1;
                continue;
            }
            Some(Tok::Quest) => {
                p += 1;
                i += 1;
                continue;
            }
            Some(Tok::Lit(c)) if char_eq(*c, t[i], case_insensitive) => {
                p += 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                backtrack = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|t| *t == Tok::Star)
}

/// Whether an `Action` pattern matches an action (`service:Name`), case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_match(&tokens_plain(pattern), action, true)
}

/// Result of substituting policy variables into an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subst {
    /// The element after substitution.
    Tokens(Vec<Tok>),
    /// A referenced key is absent and has no default: the element does not match.
    Missing,
    /// A referenced key is unknown (audit mode): the match is unknown.
    Unknown(String),
}

/// Substitutes `${…}` policy variables in `text` (only when `enabled`, i.e. version
/// 2012-10-17). Substituted values are literal characters; the policy's own `*`/`?` stay
/// wildcards. A multi-valued key cannot be used as a variable and counts as missing.
pub fn substitute(text: &str, vars: &dyn KeyLookup, enabled: bool) -> Subst {
    if !enabled || !text.contains("${") {
        return Subst::Tokens(tokens_plain(text));
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.extend(tokens_plain(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.extend(tokens_plain(&rest[start..]));
            return Subst::Tokens(out);
        };
        let inner = &after[..end];
        match inner {
            "*" => out.push(Tok::Lit('*')),
            "?" => out.push(Tok::Lit('?')),
            "$" => out.push(Tok::Lit('$')),
            _ => match parse_variable(inner) {
                None => out.extend(tokens_plain(&rest[start..start + 2 + end + 1])),
                Some((key, default)) => match vars.lookup(key) {
                    Lookup::Present(values) if values.len() == 1 => {
                        out.extend(values[0].chars().map(Tok::Lit));
                    }
                    Lookup::Unknown => return Subst::Unknown(key.to_string()),
                    _ => match default {
                        Some(d) => out.extend(d.chars().map(Tok::Lit)),
                        None => return Subst::Missing,
                    },
                },
            },
        }
        rest = &after[end + 1..];
    }
    out.extend(tokens_plain(rest));
    Subst::Tokens(out)
}

/// Parses the inside of `${…}`: `key` or `key, 'default'`.
fn parse_variable(inner: &str) -> Option<(&str, Option<&str>)> {
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d))
        }
        None => (inner.trim(), None),
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/-_.@+=".contains(c));
    valid.then_some((key, default))
}

/// Splits tokens on the first five literal `:` (ARN segments).
fn split_arn_tokens(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&toks[start..i]);
            start = i + 1;
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// Matches an (already substituted) ARN pattern against a resource, segment by segment.
///
/// A pattern with fewer than six segments matches a six-segment ARN only if its last segment is
/// exactly `*` (which then covers the remaining segments); otherwise it does not match.
/// A resource that is not a six-segment ARN is compared as a whole-string glob.
pub fn arn_tokens_match(pattern: &[Tok], resource: &str) -> bool {
    if pattern == [Tok::Star] {
        return true;
    }
    let res: Vec<&str> = resource.splitn(6, ':').collect();
    if res.len() < 6 {
        return glob_match(pattern, resource, false);
    }
    let pat = split_arn_tokens(pattern);
    if pat.len() == 6 {
        return pat
            .iter()
            .zip(res.iter())
            .all(|(p, r)| glob_match(p, r, false));
    }
    let (last, init) = match pat.split_last() {
        Some(x) => x,
        None => return false,
    };
    *last == [Tok::Star]
        && init
            .iter()
            .zip(res.iter())
            .all(|(p, r)| glob_match(p, r, false))
}

/// Whether an ARN pattern (without variables) matches an ARN.
pub fn arn_matches(pattern: &str, resource: &str) -> bool {
    arn_tokens_match(&tokens_plain(pattern), resource)
}

/// Matches a `Resource` pattern (with policy variables) against the requested resource.
/// Keys whose value is unknown are pushed to `unknown_keys`.
pub fn resource_matches(
    pattern: &str,
    resource: &str,
    vars: &dyn KeyLookup,
    substitute_vars: bool,
    unknown_keys: &mut Vec<String>,
) -> Tri {
    match substitute(pattern, vars, substitute_vars) {
        Subst::Tokens(t) => arn_tokens_match(&t, resource).into(),
        Subst::Missing => Tri::False,
        Subst::Unknown(k) => {
            unknown_keys.push(k);
            Tri::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::context::Context;
    use super::*;

    #[test]
    fn glob_basics() {
        assert!(glob_match(&tokens_plain("a*c"), "abbbc", false));
        assert!(glob_match(&tokens_plain("a*"), "a", false));
        assert!(glob_match(&tokens_plain("*"), "", false));
        assert!(!glob_match(&tokens_plain("a?c"), "ac", false));
        assert!(glob_match(&tokens_plain("a?c"), "abc", false));
        assert!(!glob_match(&tokens_plain("abc"), "ABC", false));
        assert!(glob_match(&tokens_plain("abc"), "ABC", true));
        assert!(glob_match(&tokens_plain("*b*b*"), "abab", false));
        assert!(!glob_match(&tokens_plain("*b*b*c"), "ababx", false));
    }

    #[test]
    fn actions_case_insensitive_with_wildcards() {
        assert!(action_matches(
            "codepipeline:PutApprovalResult",
            "CodePipeline:putapprovalresult"
        ));
        assert!(action_matches(
            "codepipeline:Put*",
            "codepipeline:PutApprovalResult"
        ));
        assert!(action_matches(
            "code*:*Approval*",
            "codepipeline:PutApprovalResult"
        ));
        assert!(action_matches("s3:Get?bject", "s3:GetObject"));
        assert!(action_matches("*", "iam:PassRole"));
        assert!(!action_matches(
            "codepipeline:Get*",
            "codepipeline:PutApprovalResult"
        ));
        assert!(!action_matches("s3:*", "s3express:CreateSession"));
    }

    #[test]
    fn arn_segments() {
        let pat = "arn:aws:codepipeline:us-east-1:111111111111:*/*/ApprovalA";
        assert!(arn_matches(
            pat,
            "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA"
        ));
        assert!(!arn_matches(
            pat,
            "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalB"
        ));
        // `*` in the region segment must not swallow the account segment.
        assert!(!arn_matches(
            "arn:aws:codepipeline:*:webapp/ProdGate/ApprovalA",
            "arn:aws:codepipeline:us-east-1:111111111111:webapp/ProdGate/ApprovalA"
        ));
        assert!(!arn_matches(
            "arn:aws:codepipeline:us-*:webapp",
            "arn:aws:codepipeline:us-east-1:111111111111:webapp"
        ));
        assert!(arn_matches(
            "arn:aws:codepipeline:*:111111111111:webapp",
            "arn:aws:codepipeline:us-east-1:111111111111:webapp"
        ));
        assert!(arn_matches(
            "arn:aws:codepipeline:*:*:*",
            "arn:aws:codepipeline:us-east-1:111111111111:webapp/Prod:Gate"
        ));
        // Resource part: `*` crosses `/` and `:`.
        assert!(arn_matches(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b:c"
        ));
        assert!(!arn_matches(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket2/a"
        ));
        assert!(!arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        // Case-sensitive.
        assert!(!arn_matches(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/a"
        ));
        assert!(arn_matches("*", "anything at all"));
        assert!(arn_matches(
            "arn:aws:iam::*",
            "arn:aws:iam::111111111111:role/x"
        ));
        // Account `?` wildcards do not cross segments.
        assert!(!arn_matches("arn:aws:s3:::?", "arn:aws:s3::111111111111:x"));
    }

    #[test]
    fn variables_substituted_and_literal() {
        let ctx = Context::exact()
            .with("aws:username", "alice")
            .with("aws:PrincipalTag/team", "a*b");
        let mut u = Vec::new();
        let r = "arn:aws:s3:::bucket/${aws:username}/*";
        assert_eq!(
            resource_matches(r, "arn:aws:s3:::bucket/alice/x", &ctx, true, &mut u),
            Tri::True
        );
        assert_eq!(
            resource_matches(r, "arn:aws:s3:::bucket/bob/x", &ctx, true, &mut u),
            Tri::False
        );
        // Substituted values are literal: `a*b` does not act as a wildcard.
        let t = "arn:aws:s3:::b/${aws:PrincipalTag/team}";
        assert_eq!(
            resource_matches(t, "arn:aws:s3:::b/a*b", &ctx, true, &mut u),
            Tri::True
        );
        assert_eq!(
            resource_matches(t, "arn:aws:s3:::b/aXXb", &ctx, true, &mut u),
            Tri::False
        );
        // ${*} is a literal star.
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${*}",
                "arn:aws:s3:::b/*",
                &ctx,
                true,
                &mut u
            ),
            Tri::True
        );
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${*}",
                "arn:aws:s3:::b/x",
                &ctx,
                true,
                &mut u
            ),
            Tri::False
        );
        assert_eq!(
            substitute("a${?}b${$}", &ctx, true),
            Subst::Tokens(vec![
                Tok::Lit('a'),
                Tok::Lit('?'),
                Tok::Lit('b'),
                Tok::Lit('$')
            ])
        );
    }

    #[test]
    fn missing_variable_does_not_match_unless_default() {
        let ctx = Context::exact();
        let mut u = Vec::new();
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${aws:username}",
                "arn:aws:s3:::b/",
                &ctx,
                true,
                &mut u
            ),
            Tri::False
        );
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*",
                "arn:aws:s3:::b/shared/x",
                &ctx,
                true,
                &mut u
            ),
            Tri::True
        );
        // Audit mode: unknown key -> unknown, and the key is reported.
        let audit = Context::audit();
        assert_eq!(
            resource_matches(
                "arn:aws:s3:::b/${aws:SourceIdentity}",
                "arn:aws:s3:::b/x",
                &audit,
                true,
                &mut u
            ),
            Tri::Unknown
        );
        assert_eq!(u, vec!["aws:SourceIdentity".to_string()]);
    }

    #[test]
    fn version_2008_does_not_substitute() {
        let ctx = Context::exact().with("aws:username", "alice");
        let mut u = Vec::new();
        let r = "arn:aws:s3:::bucket/${aws:username}";
        assert_eq!(
            resource_matches(r, "arn:aws:s3:::bucket/alice", &ctx, false, &mut u),
            Tri::False
        );
        assert_eq!(
            resource_matches(
                r,
                "arn:aws:s3:::bucket/${aws:username}",
                &ctx,
                false,
                &mut u
            ),
            Tri::True
        );
    }
}
