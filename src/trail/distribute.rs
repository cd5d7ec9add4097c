//! Moves the events of a trail-archive scan into the accounts they belong to (`recipientAccountId`), merging
//! with what LookupEvents found: one event id is one event, whichever source saw it first.
//!
//! Pure data shuffling over a collected snapshot; no I/O.

use std::collections::HashSet;

use crate::model::{AccountSnapshot, TrailArchiveScan};

/// Moves archive events from every account's `trail_archives` into the matching account. Events of accounts
/// not in the snapshot stay in the scan (reported there, never lost).
pub fn distribute(accounts: &mut [AccountSnapshot]) {
    let scans: Vec<(usize, usize, TrailArchiveScan)> = accounts
        .iter_mut()
        .enumerate()
        .flat_map(|(i, a)| {
            std::mem::take(&mut a.trail_archives)
                .into_iter()
                .enumerate()
                .map(move |(j, s)| (i, j, s))
        })
        .collect();
    let mut seen_approvals: Vec<HashSet<String>> = accounts
        .iter()
        .map(|a| {
            a.approval_events
                .iter()
                .map(|e| e.event_id.clone())
                .collect()
        })
        .collect();
    let mut seen_writes: Vec<HashSet<String>> = accounts
        .iter()
        .map(|a| a.write_events.iter().map(|e| e.event_id.clone()).collect())
        .collect();
    let mut seen_sessions: Vec<HashSet<String>> = accounts
        .iter()
        .map(|a| a.role_sessions.iter().map(|e| e.event_id.clone()).collect())
        .collect();
    let index_of =
        |accounts: &[AccountSnapshot], id: &str| accounts.iter().position(|a| a.account_id == id);
    let mut kept: Vec<(usize, usize, TrailArchiveScan)> = Vec::new();
    for (owner, order, mut scan) in scans {
        let mut rest = Vec::new();
        for e in std::mem::take(&mut scan.approval_events) {
            match index_of(accounts, &e.account_id) {
                Some(i) => {
                    if seen_approvals[i].insert(e.event_id.clone()) {
                        accounts[i].approval_events.push(e);
                        scan.moved.approval_events += 1;
                    } else {
                        scan.moved.already_known += 1;
                    }
                }
                None => rest.push(e),
            }
        }
        scan.approval_events = rest;
        let mut rest = Vec::new();
        for e in std::mem::take(&mut scan.write_events) {
            match index_of(accounts, &e.account_id) {
                Some(i) => {
                    if seen_writes[i].insert(e.event_id.clone()) {
                        accounts[i].write_events.push(e);
                        scan.moved.write_events += 1;
                    } else {
                        scan.moved.already_known += 1;
                    }
                }
                None => rest.push(e),
            }
        }
        scan.write_events = rest;
        let mut rest = Vec::new();
        for e in std::mem::take(&mut scan.role_sessions) {
            match index_of(accounts, &e.account_id) {
                Some(i) => {
                    if seen_sessions[i].insert(e.event_id.clone()) {
                        accounts[i].role_sessions.push(e);
                        scan.moved.role_sessions += 1;
                    } else {
                        scan.moved.already_known += 1;
                    }
                }
                None => rest.push(e),
            }
        }
        scan.role_sessions = rest;
        kept.push((owner, order, scan));
    }
    kept.sort_by_key(|(owner, order, _)| (*owner, *order));
    for (owner, _, scan) in kept {
        accounts[owner].trail_archives.push(scan);
    }
    for a in accounts.iter_mut() {
        a.approval_events.sort_by(|x, y| {
            x.event_time
                .cmp(&y.event_time)
                .then_with(|| x.event_id.cmp(&y.event_id))
        });
        a.role_sessions.sort_by(|x, y| {
            x.event_time
                .cmp(&y.event_time)
                .then_with(|| x.event_id.cmp(&y.event_id))
        });
        a.write_events.sort_by(|x, y| {
            x.event_time
                .cmp(&y.event_time)
                .then_with(|| x.event_id.cmp(&y.event_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApprovalEvent, EventOrigin};

    fn approval(id: &str, account: &str, origin: EventOrigin) -> ApprovalEvent {
        let mut v = serde_json::json!({"eventID": id, "eventName": "PutApprovalResult", "eventTime": "2026-03-04T10:00:00Z",
            "userIdentity": {"type": "IAMUser"}, "recipientAccountId": account, "awsRegion": "us-east-1",
            "requestParameters": {"pipelineName": "p", "stageName": "s", "actionName": "a", "result": {"status": "Approved"}}});
        v["eventSource"] = "codepipeline.amazonaws.com".into();
        ApprovalEvent::from_cloudtrail(&v, origin).expect("approval")
    }

    #[test]
    fn events_go_to_their_account_once() {
        let mut accounts = vec![
            AccountSnapshot {
                account_id: "111111111111".into(),
                ..AccountSnapshot::default()
            },
            AccountSnapshot {
                account_id: "222222222222".into(),
                ..AccountSnapshot::default()
            },
        ];
        accounts[1].approval_events.push(approval(
            "dup",
            "222222222222",
            EventOrigin::LookupEvents,
        ));
        accounts[0].trail_archives.push(TrailArchiveScan {
            approval_events: vec![
                approval("dup", "222222222222", EventOrigin::TrailArchive),
                approval("new", "222222222222", EventOrigin::TrailArchive),
                approval("own", "111111111111", EventOrigin::TrailArchive),
                approval("stranger", "999999999999", EventOrigin::TrailArchive),
            ],
            ..TrailArchiveScan::default()
        });
        distribute(&mut accounts);
        assert_eq!(accounts[0].approval_events.len(), 1);
        let ids: Vec<&str> = accounts[1]
            .approval_events
            .iter()
            .map(|e| e.event_id.as_str())
            .collect();
        assert_eq!(ids, vec!["dup", "new"]);
        assert_eq!(
            accounts[0].trail_archives[0].approval_events.len(),
            1,
            "the stranger stays in the scan"
        );
        assert_eq!(
            accounts[0].trail_archives[0].moved,
            crate::model::MovedEvents {
                approval_events: 2,
                already_known: 1,
                ..Default::default()
            },
            "the scan says what it moved, so its emptied lists do not read as nothing found"
        );
    }

    fn session(id: &str, account: &str, origin: EventOrigin) -> crate::model::RoleSession {
        let v = serde_json::json!({"eventID": id, "eventName": "AssumeRole", "eventSource": "sts.amazonaws.com",
            "eventTime": "2026-03-04T10:00:00Z", "userIdentity": {"type": "AWSAccount", "accountId": "111111111111"},
            "recipientAccountId": account, "awsRegion": "us-east-1",
            "requestParameters": {"roleArn": "arn:aws:iam::444444444444:role/Deploy", "roleSessionName": "s"}});
        crate::model::RoleSession::from_cloudtrail(&v, origin).expect("session")
    }

    #[test]
    fn role_sessions_go_to_their_account_once() {
        let mut accounts = vec![AccountSnapshot {
            account_id: "444444444444".into(),
            ..AccountSnapshot::default()
        }];
        accounts[0]
            .role_sessions
            .push(session("seen", "444444444444", EventOrigin::LookupEvents));
        accounts[0].trail_archives.push(TrailArchiveScan {
            role_sessions: vec![
                session("old", "444444444444", EventOrigin::TrailArchive),
                session("seen", "444444444444", EventOrigin::TrailArchive),
                session("stranger", "999999999999", EventOrigin::TrailArchive),
            ],
            ..TrailArchiveScan::default()
        });
        distribute(&mut accounts);
        let ids: Vec<(&str, EventOrigin)> = accounts[0]
            .role_sessions
            .iter()
            .map(|e| (e.event_id.as_str(), e.origin))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("old", EventOrigin::TrailArchive),
                ("seen", EventOrigin::LookupEvents)
            ]
        );
        assert_eq!(
            accounts[0].trail_archives[0].role_sessions.len(),
            1,
            "the stranger stays"
        );
    }
}
