//! A process that outlives a test process to remove its clusters.
//!
//! The first test cluster of a process starts the watchdog: the process's
//! own executable, run again with `FOOTLOOSE_WATCHDOG_FOR` set, which the
//! binary's start-up hook (run before `main`, see [`super::hooks`]) turns
//! into the watchdog instead of the test harness. A binary without the
//! hook gets no watchdog: run again, it would run its `main`. The watchdog
//! holds the read end of a pipe whose write end only the parent has. When
//! the parent ends, however it ends (SIGKILL included), the pipe closes,
//! and the watchdog removes every test cluster labelled with the parent's
//! identity, then exits. It runs in its own process group so that a Ctrl-C
//! meant for `cargo test` does not stop it first.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, SystemTime};

use crate::process::Identity;
use crate::Settings;

/// The variable that makes a process a watchdog: `pid:start_time` of the
/// process to watch (its parent, so of the same boot, pid namespace and
/// host).
pub const WATCHDOG_ENV: &str = crate::settings::FOOTLOOSE_WATCHDOG_FOR;

/// Starts this process's watchdog (unless `settings` say
/// `FOOTLOOSE_WATCHDOG=off`) once per process (with the first caller's
/// settings), and returns the watchdog's identity. Failures are reported
/// on stderr, not fatal: the clusters are still removed by their guards.
pub fn ensure_started(settings: &Settings) -> Option<Identity> {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        super::signals::remove_clusters_on_interrupt(settings.clone());
        if !settings.watchdog {
            tracing::debug!("FOOTLOOSE_WATCHDOG=off: no watchdog for this process");
        } else if !hooked() {
            eprintln!(
                "footloose: no cleanup watchdog: this binary lacks footloose's test hooks (#[footloose::cluster] installs them, footloose::test_hooks!() elsewhere)"
            );
        } else if let Err(err) = spawn() {
            eprintln!("footloose: could not start the cleanup watchdog: {err}");
        }
    });
    identity()
}

/// How often test processes sweep for abandoned clusters, at most: the
/// first test process after this much time since the last sweep started
/// on this host (of this user: the stamp is in the lock directory) runs
/// one. A sweep per test process would cost every test an engine
/// connection and listings on every engine that answers, for clusters
/// that are rarely there.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Starts a sweep of abandoned test clusters beside the test (see
/// [`super::janitor`]), once per process, unless one started on this host
/// within [`SWEEP_EVERY`] (by the stamp `janitor.stamp` in the lock
/// directory; two sweeps at once are safe, a removal is claimed first). Called once the test's cluster is made, so
/// that the sweep's engine calls do not slow its making; nothing waits
/// for the sweep, and one cut short by the process's end is finished by a
/// later process's.
pub fn sweep_soon(settings: &Settings) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stamp = settings.lock_dir().join("janitor.stamp");
        if !crate::stamp::due(&stamp, SWEEP_EVERY, SystemTime::now()) {
            return;
        }
        let settings = settings.clone();
        crate::runtime::spawn_detached(async move {
            let swept = async {
                for engine in super::janitor::engines_of(&settings).await? {
                    super::janitor::sweep(&engine, &settings).await?;
                }
                Ok::<_, crate::Error>(())
            };
            if let Err(err) = swept.await {
                eprintln!(
                    "footloose: could not sweep abandoned clusters: {}",
                    crate::error::chain(&err)
                );
            }
        });
    });
}

static WATCHDOG: OnceLock<Identity> = OnceLock::new();

/// This process's watchdog, once started.
pub fn identity() -> Option<Identity> {
    WATCHDOG.get().cloned()
}

fn spawn() -> std::io::Result<()> {
    let me = Identity::current();
    let mut child = Command::new(std::env::current_exe()?)
        .env(WATCHDOG_ENV, format!("{}:{}", me.pid, me.start_time))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    if let Some(watchdog) = Identity::of(child.id()) {
        let _ = WATCHDOG.set(watchdog);
    }
    // The write end stays open until this process ends: never write, never close.
    std::mem::forget(child.stdin.take());
    // The watchdog is reaped by init once this process is gone.
    std::mem::forget(child);
    Ok(())
}

fn parse_owner(value: &str) -> Option<Identity> {
    let (pid, start_time) = value.split_once(':')?;
    Some(Identity {
        pid: pid.parse().ok()?,
        start_time: start_time.parse().ok()?,
        ..Identity::current()
    })
}

/// Waits for the parent to end, then removes its test clusters (their
/// state directories where `settings` put them).
fn watch(owner: Identity, settings: &Settings) {
    let mut stdin = std::io::stdin();
    let mut buffer = [0u8; 64];
    while matches!(stdin.read(&mut buffer), Ok(n) if n > 0) {}
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        for engine in super::janitor::engines_of(settings)
            .await
            .unwrap_or_default()
        {
            let _ = crate::cluster::remove_owned_by(&engine, &owner, settings).await;
        }
    });
}

/// Whether the binary's start-up hook ran. The watchdog is this very
/// executable run again, and only a binary with the hook becomes one
/// instead of running its `main` a second time: without it, no watchdog is
/// started.
static HOOKED: AtomicBool = AtomicBool::new(false);

/// Whether this binary has the start-up hook.
pub(crate) fn hooked() -> bool {
    HOOKED.load(Ordering::SeqCst)
}

/// Before `main` (the start-up hook): records that the binary has the
/// hook, and becomes the watchdog when asked to, never returning to the
/// program's own `main` in that case. The start of the process is an
/// edge: the settings are read here, for the watchdog.
pub(crate) fn at_start() {
    HOOKED.store(true, Ordering::SeqCst);
    become_watchdog_when_asked(&Settings::from_env());
}

/// Watches the process `FOOTLOOSE_WATCHDOG_FOR` names, then exits.
fn become_watchdog_when_asked(settings: &Settings) {
    if let Some(owner) = settings.watchdog_for.as_deref().and_then(parse_owner) {
        watch(owner, settings);
        std::process::exit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_owner;

    #[test]
    fn parses_the_owner_variable() {
        let owner = parse_owner("12:345").unwrap();
        assert_eq!((owner.pid, owner.start_time), (12, 345));
        assert_eq!(
            owner.pid_namespace,
            crate::process::Identity::current().pid_namespace
        );
        assert!(parse_owner("garbage").is_none());
    }
}
