//! A one-line progress display (files, bytes, events) on standard error when it is a terminal; silent otherwise.
//!
//! Counters are atomics updated by the scan; a small thread redraws the line a few times a second. It never
//! writes to standard output (which may carry JSON Lines).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    fn line(&self, started: Instant) -> String {
        let mb = self.bytes.load(Ordering::Relaxed) as f64 / 1e6;
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "\r{}/{} files, {mb:.0} MB, {} events, {:.0} MB/s ",
            self.files.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            self.events.load(Ordering::Relaxed),
            mb / secs
        )
    }
}

/// The display; dropping it (or `finish`) ends the line.
pub struct Progress {
    pub counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Draws only when standard error is a terminal and `enabled`.
    pub fn start(enabled: bool) -> Progress {
        let counters = Arc::new(Counters::default());
        let thread = (enabled && std::io::stderr().is_terminal()).then(|| {
            let c = Arc::clone(&counters);
            std::thread::spawn(move || {
                let started = Instant::now();
                while !c.done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let _ = std::io::stderr().write_all(c.line(started).as_bytes());
                }
                let _ = std::io::stderr().write_all(format!("{}\n", c.line(started)).as_bytes());
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
