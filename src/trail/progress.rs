//! Progress of an archive scan (files, bytes, events) on standard error: an `indicatif` bar when standard error
//! is a terminal, a plain line every few seconds (and one at the end) when it is not, nothing with `--quiet`.
//!
//! Counters are atomics updated by the scan; a small thread turns them into the display. It never writes to
//! standard output (which may carry JSON Lines).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is written when standard error is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub files_total: AtomicU64,
    pub bytes: AtomicU64,
    pub events: AtomicU64,
    done: AtomicBool,
}

impl Counters {
    pub fn file(&self, uncompressed: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(uncompressed, Ordering::Relaxed);
    }
    pub fn events(&self, n: u64) {
        self.events.fetch_add(n, Ordering::Relaxed);
    }
    /// "12 MB, 340 events, 55 MB/s": what the bar shows beside its file count.
    fn rates(&self, started: Instant) -> String {
        let mb = self.bytes.load(Ordering::Relaxed) as f64 / 1e6;
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "{mb:.0} MB, {} events, {:.0} MB/s",
            self.events.load(Ordering::Relaxed),
            mb / secs
        )
    }
    /// The plain progress line.
    pub fn line(&self, started: Instant) -> String {
        format!(
            "{}/{} files, {}",
            self.files.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            self.rates(started)
        )
    }
}

/// The display; dropping it (or `finish`) ends it.
pub struct Progress {
    pub counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise; nothing unless `enabled`.
    pub fn start(enabled: bool) -> Progress {
        let counters = Arc::new(Counters::default());
        let thread = enabled.then(|| {
            let c = Arc::clone(&counters);
            let terminal = std::io::stderr().is_terminal();
            std::thread::spawn(move || {
                if terminal {
                    draw_bar(&c)
                } else {
                    plain_lines(&c)
                }
            })
        });
        Progress { counters, thread }
    }

    pub fn finish(&mut self) {
        self.counters.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn draw_bar(c: &Counters) {
    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} files, {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    while !c.done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        bar.set_length(c.files_total.load(Ordering::Relaxed));
        bar.set_position(c.files.load(Ordering::Relaxed));
        bar.set_message(c.rates(started));
    }
    bar.set_length(c.files_total.load(Ordering::Relaxed));
    bar.set_position(c.files.load(Ordering::Relaxed));
    bar.finish_with_message(c.rates(started));
}

fn plain_lines(c: &Counters) {
    let started = Instant::now();
    let mut last = Instant::now();
    while !c.done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() >= PLAIN_EVERY {
            last = Instant::now();
            let _ = writeln!(std::io::stderr(), "progress: {}", c.line(started));
        }
    }
    let _ = writeln!(std::io::stderr(), "progress: {} (done)", c.line(started));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_line_counts_files_bytes_and_events() {
        let c = Counters::default();
        c.files_total.store(4, Ordering::Relaxed);
        c.file(2_000_000);
        c.file(1_000_000);
        c.events(7);
        let line = c.line(Instant::now());
        assert!(line.starts_with("2/4 files, 3 MB, 7 events, "), "{line}");
    }
}
