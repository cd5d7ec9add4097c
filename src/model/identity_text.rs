//! `userIdentity` read straight from its JSON text, without a `serde_json::Value` tree: the archive scan reads one
//! per write event, and building and re-serialising a tree per event was about a tenth of an all-events scan.
//!
//! Gives exactly what [`UserIdentity::from_cloudtrail`] gives for the same object. The typed form takes only the
//! common shape (string or null fields, no duplicate keys, one line); anything else goes through the tree, so an
//! odd record is read the old way rather than differently. Pure: no I/O.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::cloudtrail::{RawJson, SessionIssuer, UserIdentity};

type Text<'a> = Option<Cow<'a, str>>;

/// The fields of `userIdentity` the model keeps; others are skipped unparsed.
#[derive(Deserialize)]
struct IdentityFields<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Text<'a>,
    #[serde(borrow, default)]
    arn: Text<'a>,
    #[serde(rename = "accountId", borrow, default)]
    account_id: Text<'a>,
    #[serde(rename = "principalId", borrow, default)]
    principal_id: Text<'a>,
    #[serde(rename = "userName", borrow, default)]
    user_name: Text<'a>,
    #[serde(rename = "accessKeyId", borrow, default)]
    access_key_id: Text<'a>,
    #[serde(rename = "sourceIdentity", borrow, default)]
    source_identity: Text<'a>,
    #[serde(rename = "invokedBy", borrow, default)]
    invoked_by: Text<'a>,
    #[serde(rename = "sessionContext", borrow, default)]
    session_context: Option<SessionContext<'a>>,
    #[serde(rename = "onBehalfOf", borrow, default)]
    on_behalf_of: Option<OnBehalfOf<'a>>,
}

/// `sessionIssuer` is read as the model's own [`SessionIssuer`], as the tree path reads it.
#[derive(Deserialize)]
struct SessionContext<'a> {
    #[serde(rename = "sessionIssuer", default)]
    session_issuer: Option<SessionIssuer>,
    #[serde(rename = "sourceIdentity", borrow, default)]
    source_identity: Text<'a>,
}

#[derive(Deserialize)]
struct OnBehalfOf<'a> {
    #[serde(rename = "userId", borrow, default)]
    user_id: Text<'a>,
    #[serde(rename = "identityStoreArn", borrow, default)]
    identity_store_arn: Text<'a>,
}

fn owned(text: Text<'_>) -> Option<String> {
    text.map(Cow::into_owned)
}

impl UserIdentity {
    /// Builds the identity from CloudTrail's `userIdentity` as serde_json read it (a field of a parsed record);
    /// `raw` keeps that text as written (CloudTrail writes compact JSON), without validating it a second time.
    pub fn from_cloudtrail_raw(raw: &RawValue) -> Result<UserIdentity, serde_json::Error> {
        let text = raw.get();
        // Raw control characters are never inside JSON strings: a line break here is spacing between tokens,
        // which the kept text must not carry (JSON Lines output writes it verbatim).
        let one_line = !text.bytes().any(|b| matches!(b, b'\n' | b'\r'));
        if one_line {
            if let Ok(fields) = serde_json::from_str::<IdentityFields<'_>>(text) {
                return Ok(fields.into_identity(RawJson::from_raw(raw.to_owned())));
            }
        }
        let value: serde_json::Value = serde_json::from_str(text)?;
        Ok(UserIdentity::from_cloudtrail(&value))
    }
}

impl IdentityFields<'_> {
    /// The same rules as `UserIdentity::from_cloudtrail`.
    fn into_identity(self, raw: RawJson) -> UserIdentity {
        let (issuer, context_source) = match self.session_context {
            Some(c) => (c.session_issuer, c.source_identity),
            None => (None, None),
        };
        let session_issuer = issuer.filter(|i| i.arn.is_some() || i.kind.is_some());
        let invoked_by = owned(self.invoked_by);
        let kind = match self.kind {
            Some(kind) => kind.into_owned(),
            None if invoked_by.is_some() => "AWSService".to_owned(),
            None => String::new(),
        };
        let (on_behalf_of_user_id, on_behalf_of_identity_store) = match self.on_behalf_of {
            Some(o) => (owned(o.user_id), owned(o.identity_store_arn)),
            None => (None, None),
        };
        UserIdentity {
            kind,
            arn: owned(self.arn),
            account_id: owned(self.account_id),
            principal_id: owned(self.principal_id),
            user_name: owned(self.user_name),
            access_key_id: owned(self.access_key_id),
            session_issuer,
            source_identity: owned(context_source).or_else(|| owned(self.source_identity)),
            on_behalf_of_user_id,
            on_behalf_of_identity_store,
            invoked_by,
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every field the typed form reads, and the shapes it hands to the tree, give what the tree gives.
    #[test]
    fn the_text_form_gives_what_the_tree_gives() {
        let cases = [
            json!({"type": "IAMUser", "principalId": "AIDA1", "arn": "arn:aws:iam::111111111111:user/alice",
                   "accountId": "111111111111", "accessKeyId": "AKIA1", "userName": "alice"}),
            json!({"type": "AssumedRole", "principalId": "AROA1:s", "arn": "arn:aws:sts::1:assumed-role/r/s",
                   "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA1",
                       "arn": "arn:aws:iam::1:role/r", "accountId": "1", "userName": "r"},
                       "attributes": {"mfaAuthenticated": "true"}, "sourceIdentity": "alice@example.com"}}),
            json!({"type": "AssumedRole", "sourceIdentity": "outer", "sessionContext": {"sessionIssuer": {}}}),
            json!({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": "only"}}}),
            json!({"type": "IdentityCenterUser", "accountId": "1",
                   "onBehalfOf": {"userId": "u-1", "identityStoreArn": "arn:aws:identitystore::1:identitystore/d-1"},
                   "credentialId": "c"}),
            json!({"accountId": "1", "invokedBy": "AWS Internal"}),
            json!({"type": null, "arn": null}),
            json!({}),
            // Shapes the typed form does not take: the tree decides.
            json!({"type": "IAMUser", "arn": 7, "userName": ["x"]}),
            json!({"type": "AssumedRole", "sessionContext": "not an object"}),
            json!({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": 1, "type": "Role"}}}),
            json!({"type": "AssumedRole", "onBehalfOf": []}),
            json!("a string"),
            json!(null),
        ];
        for case in cases {
            let text = case.to_string();
            let tree = UserIdentity::from_cloudtrail(&case);
            let pretty = serde_json::to_string_pretty(&case).expect("json");
            // As a field of a parsed record, compact and pretty-printed: the tree's identity, kept on one line.
            for record in [
                format!(r#"{{"userIdentity":{text}}}"#),
                format!("{{\"userIdentity\": {pretty}\n}}"),
            ] {
                let from_raw = identity_in(&record);
                assert_eq!(from_raw, tree, "{record}");
                assert!(!from_raw.raw.text().contains('\n'), "kept on one line");
            }
            let kept = identity_in(&format!(r#"{{"userIdentity": {text} }}"#));
            assert_eq!(kept.raw.text(), text, "the field's own text");
        }
        // A duplicate key: the tree keeps the last value, and so does the text form (through the tree).
        let duplicate =
            identity_in(r#"{"userIdentity":{"type":"IAMUser","arn":"first","arn":"second"}}"#);
        assert_eq!(duplicate.arn.as_deref(), Some("second"));
    }

    /// The identity of a record's `userIdentity` field, read as the archive scan reads it.
    fn identity_in(record: &str) -> UserIdentity {
        let fields: std::collections::HashMap<&str, &RawValue> =
            serde_json::from_str(record).expect("json");
        UserIdentity::from_cloudtrail_raw(fields["userIdentity"]).expect("identity")
    }

    #[test]
    fn the_kept_text_is_the_record_s_own() {
        let text = r#"{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/alice"}"#;
        let identity = identity_in(&format!(r#"{{"userIdentity":{text}}}"#));
        assert_eq!(identity.raw.text(), text);
    }
}
