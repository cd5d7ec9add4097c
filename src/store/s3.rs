//! A store in an S3 bucket the user owns: `s3://bucket/prefix/<run-id>/<file>`. Every object is written with
//! `If-None-Match: *` (S3 refuses to replace an existing key), and when the bucket has Object Lock enabled, in
//! compliance mode until the bucket's default retention (365 days when the bucket has no default rule), so not
//! even the bucket's owner can delete or overwrite a stored run before then.
//!
//! Writes only to the store's bucket, with the caller's credentials (standard chain); never to an audited
//! account, never used by collection.

use std::sync::Mutex;

use aws_config::{meta::region::RegionProviderChain, BehaviorVersion, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};
use chrono::{DateTime, Duration, Utc};

use super::{StoreError, StoreOptions};
use crate::collect::session::error_text;

/// The retention of a stored object in a bucket with Object Lock enabled but no default rule.
const DEFAULT_RETENTION_DAYS: i64 = 365;

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    /// Compliance-mode retention for the objects of this publish (None: the bucket has no Object Lock).
    retain_until: Mutex<Option<DateTime<Utc>>>,
}

impl S3Store {
    pub async fn new(bucket: &str, prefix: &str, options: &StoreOptions) -> S3Store {
        let region = RegionProviderChain::default_provider().or_else(Region::new("us-east-1"));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        let path_style = config.endpoint_url().is_some();
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(path_style)
                .build(),
        );
        S3Store {
            client,
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            retain_until: Mutex::new(None),
        }
    }

    fn name(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn read_error(&self, key: &str, message: String) -> StoreError {
        StoreError::Read {
            store: self.name(),
            key: key.to_owned(),
            message,
        }
    }

    /// Reads the bucket's Object Lock configuration before a publish: with Object Lock enabled, every object
    /// is written in compliance mode. A configuration that cannot be read is an error (the run would otherwise
    /// be stored without the retention the bucket promises).
    pub async fn prepare(&self) -> Result<Option<String>, StoreError> {
        let answer = self
            .client
            .get_object_lock_configuration()
            .bucket(&self.bucket)
            .send()
            .await;
        let config = match answer {
            Ok(out) => out.object_lock_configuration,
            Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => None,
            Err(e) => return Err(self.read_error("(GetObjectLockConfiguration)", error_text(&e))),
        };
        let enabled = config
            .as_ref()
            .and_then(|c| c.object_lock_enabled.as_ref())
            .is_some_and(|e| *e == ObjectLockEnabled::Enabled);
        let until = enabled.then(|| {
            let rule = config
                .as_ref()
                .and_then(|c| c.rule.as_ref())
                .and_then(|r| r.default_retention.as_ref());
            let days = rule
                .and_then(|r| {
                    r.days
                        .map(i64::from)
                        .or(r.years.map(|y| i64::from(y) * 365))
                })
                .unwrap_or(DEFAULT_RETENTION_DAYS);
            Utc::now() + Duration::days(days)
        });
        if let Ok(mut slot) = self.retain_until.lock() {
            *slot = until;
        }
        Ok(until.map(|u| format!("COMPLIANCE until {}", u.format("%Y-%m-%dT%H:%M:%SZ"))))
    }

    pub async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(bytes));
        let until = self.retain_until.lock().ok().and_then(|u| *u);
        if let Some(until) = until {
            put = put
                .object_lock_mode(ObjectLockMode::Compliance)
                .object_lock_retain_until_date(crate::collect::to_smithy(until));
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed") | Some("ConditionalRequestConflict")
                ) =>
            {
                Err(StoreError::Exists {
                    store: self.name(),
                    key: key.to_owned(),
                })
            }
            Err(e) => Err(StoreError::Write {
                store: self.name(),
                key: key.to_owned(),
                message: error_text(&e),
            }),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let answer = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if matches!(e.code(), Some("NoSuchKey") | Some("NotFound")) => return Ok(None),
            Err(e) => return Err(self.read_error(key, error_text(&e))),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| self.read_error(key, e.to_string()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let answer = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(e.code(), Some("NotFound") | Some("NoSuchKey"))
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.read_error(key, error_text(&e))),
        }
    }

    pub async fn folders(&self) -> Result<Vec<String>, StoreError> {
        let base = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&base)
            .delimiter("/")
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.read_error(&base, error_text(&e)))?;
            for common in page.common_prefixes() {
                if let Some(name) = common
                    .prefix()
                    .and_then(|p| p.strip_prefix(&base))
                    .map(|p| p.trim_end_matches('/'))
                    .filter(|p| !p.is_empty())
                {
                    out.push(name.to_owned());
                }
            }
        }
        Ok(out)
    }
}
