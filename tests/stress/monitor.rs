//! What is seen outside the operations' return values: GLib warnings and criticals (from any
//! thread, any domain), panics (ours run in-process: the plugin is registered statically), and
//! which operation the current sequence is at, so that a report names the seed even when GLib
//! aborts the process right after the log handler returns (`G_DEBUG=fatal_warnings`).

use std::io::Write;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use gst::glib;

struct Progress {
    seed: u64,
    plan_text: String,
    operation: Option<usize>,
    /// When the sequence last moved on to another operation (or began).
    moved_on: Instant,
    findings: Vec<String>,
}

static PROGRESS: Mutex<Option<Progress>> = Mutex::new(None);

/// Whether GLib aborts on warnings and criticals (`G_DEBUG=fatal_warnings`) in this process.
pub fn glib_fatal() -> bool {
    std::env::var("G_DEBUG").is_ok_and(|debug| {
        debug.contains("fatal-warnings")
            || debug.contains("fatal_warnings")
            || debug.contains("fatal-criticals")
            || debug.contains("fatal_criticals")
    })
}

/// The replay line printed with every failure.
pub fn replay_hint(seed: u64) -> String {
    format!(
        "replay: PUSHSOURCE_STRESS_SEED={seed} G_DEBUG=fatal_warnings cargo test --test stress -- --nocapture"
    )
}

fn lock() -> std::sync::MutexGuard<'static, Option<Progress>> {
    PROGRESS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs the log handler and the panic hook, once. With `keep_going`, GLib's fatal mask is
/// cleared so that a critical is recorded and the run goes on; otherwise GLib aborts after the
/// handler has written the report.
pub fn install(keep_going: bool) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if keep_going {
            glib::log_set_always_fatal(glib::LogLevels::LEVEL_ERROR);
        }
        let fatal = glib_fatal() && !keep_going;
        glib::log_set_default_handler(move |domain, level, message| {
            let serious = matches!(
                level,
                glib::LogLevel::Error | glib::LogLevel::Critical | glib::LogLevel::Warning
            );
            if !serious {
                glib::log_default_handler(domain, level, Some(message));
                return;
            }
            let finding = format!("{level:?} from {}: {message}", domain.unwrap_or("?"));
            record(&finding, fatal);
        });
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let finding = format!("panic in thread {:?}: {info}", thread.name().unwrap_or("?"));
            // The test threads' own assertions (the failure report itself) are not findings.
            let test_thread = thread.name().is_some_and(|name| {
                [
                    "random_sequences",
                    "a_seed",
                    "known_defects",
                    "plans_stay",
                    "the_stamp_check",
                ]
                .iter()
                .any(|t| name.starts_with(t))
            });
            if !test_thread {
                record(&finding, false);
            }
            default_hook(info);
        }));
    });
}

fn record(finding: &str, about_to_abort: bool) {
    let mut progress = lock();
    match progress.as_mut() {
        Some(progress) => {
            let at = match progress.operation {
                Some(index) => format!("op #{index:02}"),
                None => "setup or cleanup".to_string(),
            };
            let finding = format!("{finding} (at {at})");
            if about_to_abort {
                // Written directly (not through the test harness's capture): GLib aborts the
                // process as soon as this handler returns.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nstress: seed {} FAILED: {finding}\n{}{}\n(GLib aborts now: G_DEBUG=fatal_warnings)",
                    progress.seed,
                    progress.plan_text,
                    replay_hint(progress.seed)
                );
            }
            progress.findings.push(finding);
        }
        None => {
            if about_to_abort {
                let _ = writeln!(std::io::stderr(), "stress: outside any sequence: {finding}");
            }
        }
    }
}

pub fn begin(seed: u64, plan_text: String) {
    *lock() = Some(Progress {
        seed,
        plan_text,
        operation: None,
        moved_on: Instant::now(),
        findings: Vec::new(),
    });
}

pub fn at_operation(index: Option<usize>) {
    if let Some(progress) = lock().as_mut() {
        progress.operation = index;
        progress.moved_on = Instant::now();
    }
}

/// How long the current sequence has been at its current operation.
pub fn time_at_operation() -> Duration {
    lock()
        .as_ref()
        .map_or(Duration::ZERO, |progress| progress.moved_on.elapsed())
}

pub fn current_operation() -> Option<usize> {
    lock().as_ref().and_then(|progress| progress.operation)
}

/// The findings so far of the current sequence.
pub fn findings() -> Vec<String> {
    lock()
        .as_ref()
        .map(|progress| progress.findings.clone())
        .unwrap_or_default()
}

/// Ends the sequence: findings from a pipeline left behind (a hang in keep-going mode) are not
/// charged to the next one.
pub fn end() -> Vec<String> {
    lock()
        .take()
        .map(|progress| progress.findings)
        .unwrap_or_default()
}
