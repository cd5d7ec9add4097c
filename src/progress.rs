//! Run progress on standard error, chosen once by the command line ([`init`]): `indicatif` bars per phase and
//! per account on a terminal, plain lines when standard error is not a terminal (a scheduler's log), JSON lines
//! with `--log-format json`, nothing with `--quiet` (or when [`init`] was never called: library users and tests).
//!
//! It only writes to standard error, never to standard output (which carries reports and JSON), and it must
//! never decide anything: what it shows changes no result and no exit code.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Nothing (`--quiet`, or no [`init`]).
    Off,
    /// Bars: standard error is a terminal.
    Bars,
    /// One plain line per event.
    Lines,
    /// One JSON object per line (`--log-format json`).
    Json,
}

static DISPLAY: OnceLock<Display> = OnceLock::new();

/// Chooses the display for the process: off when `quiet`, JSON lines when `json`, else bars on a terminal and
/// plain lines otherwise. Only the first call counts.
pub fn init(quiet: bool, json: bool) {
    let display = if quiet {
        Display::Off
    } else if json {
        Display::Json
    } else if std::io::stderr().is_terminal() {
        Display::Bars
    } else {
        Display::Lines
    };
    let _ = DISPLAY.set(display);
}

/// The display [`init`] chose ([`Display::Off`] before it).
pub fn display() -> Display {
    DISPLAY.get().copied().unwrap_or(Display::Off)
}

/// Writes one event line: `gateaudit: <text>` as plain text, or `{"event": kind, "message": text, ...fields}`.
/// Shown in every display but [`Display::Off`] (bars print it above themselves).
pub fn event(kind: &str, text: &str, fields: serde_json::Value) {
    let line = match display() {
        Display::Off => return,
        Display::Json => {
            let mut object = serde_json::json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "event": kind,
                "message": text,
            });
            if let (Some(o), serde_json::Value::Object(extra)) = (object.as_object_mut(), fields) {
                o.extend(extra);
            }
            object.to_string()
        }
        Display::Bars | Display::Lines => format!("gateaudit: {text}"),
    };
    match bars() {
        Some(multi) => {
            let _ = multi.println(&line);
        }
        None => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}

fn bars() -> Option<&'static MultiProgress> {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    (display() == Display::Bars).then(|| {
        MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5)))
    })
}

/// A phase of the run (collection of N accounts, checks, reports): a bar of its own on a terminal, a line when it
/// starts and when it ends elsewhere.
pub struct Phase {
    name: String,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Phase {
    /// Starts phase `name` of `total` units (accounts; 0 for a phase without units).
    pub fn start(name: &str, total: u64) -> Phase {
        let bar = bars().map(|multi| {
            let bar = multi.add(ProgressBar::new(total));
            let template = if total > 0 {
                "{prefix:>12} {bar:30} {pos}/{len} [{elapsed}] {msg}"
            } else {
                "{prefix:>12} {spinner} [{elapsed}] {msg}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(name.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if bar.is_none() {
            let what = if total > 0 {
                format!("{name}: {total} to do")
            } else {
                format!("{name}: started")
            };
            event(
                "phase",
                &what,
                serde_json::json!({"phase": name, "total": total}),
            );
        }
        Phase {
            name: name.to_owned(),
            bar,
            started: Instant::now(),
        }
    }

    /// An account of this phase starts: a spinner of its own on a terminal, showing its current step.
    pub fn account(&self, id: &str, name: &str) -> AccountProgress {
        let bar = bars().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{prefix:>12} {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(id.to_owned());
            bar.set_message(name.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        AccountProgress {
            id: id.to_owned(),
            name: name.to_owned(),
            bar,
            phase: self.bar.clone(),
            started: Instant::now(),
        }
    }

    /// Ends the phase.
    pub fn finish(self) {
        let secs = self.started.elapsed().as_secs_f64();
        match &self.bar {
            Some(bar) => bar.finish_with_message(format!("done in {secs:.1}s")),
            None => event(
                "phase",
                &format!("{}: done in {secs:.1}s", self.name),
                serde_json::json!({"phase": self.name, "seconds": secs}),
            ),
        }
    }
}

/// One account being collected.
pub struct AccountProgress {
    id: String,
    name: String,
    bar: Option<ProgressBar>,
    phase: Option<ProgressBar>,
    started: Instant,
}

impl AccountProgress {
    /// What the account is reading now (shown on a terminal only: a line per step would flood a log).
    pub fn step(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{}: {what}", self.name));
        }
    }

    /// The account is done: `steps` collection steps, of which `failed` failed or are partial.
    pub fn done(self, steps: usize, failed: usize) {
        let secs = self.started.elapsed().as_secs_f64();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(phase) = &self.phase {
            phase.inc(1);
        }
        let status = if failed == 0 {
            "complete"
        } else {
            "incomplete"
        };
        event(
            "account",
            &format!(
                "account {} ({}) {status} in {secs:.1}s: {steps} steps, {failed} failed or partial",
                crate::report::text::visible(&self.id),
                crate::report::text::visible(&self.name)
            ),
            serde_json::json!({"account": self.id, "name": self.name, "status": status, "steps": steps,
                               "failed": failed, "seconds": secs}),
        );
    }
}
