//! Topping a pool up in the background: a refiller process that outlives
//! the test that started it, one per pool at a time.
//!
//! A test that takes a cluster starts a refiller and goes on: the boots of
//! its successors overlap the tests, also under `cargo nextest`, where
//! each test is a process that ends long before a boot would. The
//! refiller is the test binary run again with `FOOTLOOSE_POOL_REFILL`
//! set, which its start-up hook turns into the refiller instead of the
//! test harness (the watchdog's mechanism); it starts a watchdog of its
//! own, so that a refiller killed mid-boot leaves its half-made clusters
//! to that watchdog, and past it to their lease. A binary without the
//! hooks refills in a task of its own process instead.
//!
//! Only one refiller works on a pool: it holds the lock record
//! `pool-KEY-refiller` (a volume, claimed as clusters are; labelled as a
//! cluster of its own whose owner is the refiller, so that its watchdog,
//! the janitor or the lease remove a dead refiller's lock). A refiller
//! started while another holds the lock ends at once; the holder surveys
//! the pool again after it lets go, for claims made meanwhile.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::fill::fill;
use super::pace::{Eager, Gate, IdleCore};
use crate::cluster::records::{self, claim_labels, record_name, won};
use crate::cluster::ClusterBuilder;
use crate::engine::Engine;
use crate::error::Result;
use crate::labels::Lifetime;
use crate::ownership::{Ownership, Verdict};
use crate::settings::PoolPace;
use crate::{Config, Settings};

/// The variable that makes a test binary a refiller: the [`Order`], as
/// JSON.
pub const REFILL_ENV: &str = "FOOTLOOSE_POOL_REFILL";

/// How long a refiller's lock holds when nobody can see its owner.
const LOCK_LEASE: Duration = Duration::from_secs(10 * 60);

/// How long a refiller waits before it surveys the pool. The test that
/// started it has just taken a cluster and is running its first
/// commands, which a boot on the same cores would slow down (measured on
/// 2 cores: a first `exec` of 60 ms took 80-100 ms beside a boot); and
/// tests that start together (`cargo nextest -j N`) take theirs within
/// this time, so that one survey sees all their takes. Not longer: in a
/// suite that uses the pool up, every moment the refiller waits is a
/// test that boots its own cluster.
const REFILL_DELAY: Duration = Duration::from_millis(100);

/// The scheduling priority (`nice`) a refiller process runs at: its
/// boots are background work, the tests' commands are not.
const REFILLER_NICENESS: i32 = 10;

/// What a refiller is asked: the builder of the test's clusters, and the
/// pool to keep at `size`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Order {
    config: Config,
    config_path: Option<PathBuf>,
    config_dir: PathBuf,
    key_path: PathBuf,
    ready_timeout_ms: u64,
    publish_address: Option<std::net::IpAddr>,
    key: String,
    size: usize,
}

impl Order {
    /// The order to keep `key` at `size` clusters of `builder`'s.
    pub(crate) fn new(builder: &ClusterBuilder, key: &str, size: usize) -> Order {
        let settings = builder.settings_or_env();
        Order {
            config: builder.config.clone(),
            config_path: builder.config_path.clone(),
            config_dir: builder.config_dir.clone(),
            key_path: builder.key_path_in(&settings),
            ready_timeout_ms: builder.ready_timeout.as_millis() as u64,
            publish_address: builder.publish_address,
            key: key.to_owned(),
            size,
        }
    }

    /// The builder the order was made from (its settings: this process's
    /// environment).
    fn builder(&self) -> ClusterBuilder {
        let mut builder = ClusterBuilder::new(self.config.clone())
            .private_key(&self.key_path)
            .ready_timeout(Duration::from_millis(self.ready_timeout_ms))
            .private_networks(true);
        builder.config_dir = self.config_dir.clone();
        builder.config_path = self.config_path.clone();
        if let Some(address) = self.publish_address {
            builder = builder.publish_address(address);
        }
        builder
    }
}

/// Has the pool of `order` topped up in the background: by a refiller
/// process when this binary has footloose's hooks, else by a task of this
/// process. Failures are logged, never the test's.
pub(crate) fn request(order: Order) {
    // A refiller started on this host less than REFILL_DELAY ago has not
    // surveyed the pool yet, so it will see this take: tests that take
    // together under `cargo nextest -j N` start one refiller, not N that
    // each connect to the engine to find the lock held. (Two at once are
    // safe: the second finds the lock held.)
    let stamp = Settings::from_env()
        .lock_dir()
        .join(format!("pool-{}.spawned", order.key));
    if !crate::stamp::due(&stamp, REFILL_DELAY, SystemTime::now()) {
        return;
    }
    if crate::testing::watchdog::hooked() {
        // Started from a thread of its own: starting a process blocks the
        // caller until the child has exec'd, and the test goes on meanwhile
        // (the exit hook waits for the start, see `wait_for_starts`).
        let starting = std::thread::spawn(move || {
            if let Err(err) = spawn(&order) {
                tracing::warn!("Cannot start the pool's refiller: {err}");
            }
        });
        STARTING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(starting);
        return;
    }
    crate::runtime::spawn_detached(async move {
        if let Err(err) = refill(&order, &Settings::from_env()).await {
            tracing::warn!(
                "Refilling pool {}: {}",
                order.key,
                crate::error::chain(&err)
            );
        }
    });
}

/// The threads starting refillers (see [`request`]).
static STARTING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Waits until every refiller this process asked for has been started:
/// the exit hook's part, so that a test that ends at once still leaves
/// its pool a refiller.
pub(crate) fn wait_for_starts() {
    let starting = std::mem::take(&mut *STARTING.lock().unwrap_or_else(|e| e.into_inner()));
    for thread in starting {
        let _ = thread.join();
    }
}

/// Starts this executable as a refiller for `order`, its output in the
/// pool's log (`footloose/pool-KEY.log` in the runtime directory).
fn spawn(order: &Order) -> std::io::Result<()> {
    let json = serde_json::to_string(order).map_err(std::io::Error::other)?;
    let log = log_file(&order.key);
    let stderr = match log.as_ref().and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    }) {
        Some(file) => Stdio::from(file),
        None => Stdio::null(),
    };
    let mut child = Command::new(std::env::current_exe()?)
        .env(REFILL_ENV, json)
        .env_remove(crate::settings::FOOTLOOSE_WATCHDOG_FOR)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()?;
    // Reaped here while this process lives, by init after.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Where a pool's refillers write what they say.
pub(crate) fn log_file(key: &str) -> Option<PathBuf> {
    let dir = Settings::from_env().lock_dir();
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join(format!("pool-{key}.log")))
}

/// How long a pool's files in the lock directory (its refillers' log, the
/// stamp of the last start) stay after their last write: far past any
/// pool's lease, so that a refiller's log is there to read after a run.
const POOL_FILES_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

/// Removes the pool files in `dir` (`pool-KEY.log`, `pool-KEY.spawned`)
/// not written for `kept` before `now`: every pool key (a test's config,
/// image or key changed) leaves its own, and nothing else would remove
/// them. Returns how many went. (A stamp removed early only lets one more
/// refiller start, which is safe.)
fn forget_stale_files(dir: &Path, kept: Duration, now: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("pool-") && (name.ends_with(".log") || name.ends_with(".spawned"))
        })
        .filter(|entry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|age| age > kept))
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

/// The start-up hook's part: when this process was started as a
/// refiller, refills and exits, never returning to the program's `main`.
pub(crate) fn become_refiller_when_asked() {
    let Ok(json) = std::env::var(REFILL_ENV) else {
        return;
    };
    std::env::remove_var(REFILL_ENV);
    // SAFETY: a plain system call on this process. Failing leaves the
    // refiller at the test's priority, which is only slower for the test.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, REFILLER_NICENESS) };
    let code = match serde_json::from_str::<Order>(&json) {
        Ok(order) => {
            let settings = Settings::from_env();
            match crate::runtime::block_on(async { refill(&order, &settings).await }) {
                Ok(()) => 0,
                Err(err) => {
                    eprintln!(
                        "footloose: refilling pool {}: {}",
                        order.key,
                        crate::error::chain(&err)
                    );
                    1
                }
            }
        }
        Err(err) => {
            eprintln!("footloose: {REFILL_ENV} is not a refill order: {err}");
            2
        }
    };
    std::process::exit(code);
}

/// Keeps the pool of `order` at its size while this refiller holds the
/// pool's lock; ends at once when another does.
pub(crate) async fn refill(order: &Order, settings: &Settings) -> Result<()> {
    tokio::time::sleep(REFILL_DELAY).await;
    forget_stale_files(&settings.lock_dir(), POOL_FILES_KEPT, SystemTime::now());
    let builder = order.builder().settings(settings.clone());
    let engine = builder.connect().await?;
    for _round in 0..3 {
        let Some(lock) = Lock::take(&engine, &order.key).await? else {
            return Ok(());
        };
        // Its watchdog only now: most refillers find the lock held and end
        // at once. (In a binary without hooks this starts none; in a test
        // process, it was started already.) It blocks on footloose's
        // runtime and on one of its own, so on a thread outside any
        // runtime (a few milliseconds: it only starts a process).
        let watched = settings.clone();
        let started = std::thread::spawn(move || {
            crate::testing::watchdog::ensure_started(&watched);
        })
        .join();
        if started.is_err() {
            tracing::warn!("The refiller's watchdog could not be started");
        }
        // Background boots wait for an idle core where the engine's load
        // can be seen from here (see `pace.rs`).
        let mut gate: Box<dyn Gate> = match settings.pool_pace {
            Ok(PoolPace::Idle) if !engine.is_remote() => Box::new(IdleCore),
            _ => Box::new(Eager),
        };
        let filled = fill(
            &engine,
            &builder,
            &order.key,
            order.size,
            Some(&lock),
            gate.as_mut(),
        )
        .await;
        lock.release(&engine).await?;
        let filled = filled?;
        if filled.drained {
            eprintln!(
                "footloose: pool {} was drained: this refiller stops",
                order.key
            );
            return Ok(());
        }
        if filled.host_busy {
            eprintln!(
                "footloose: pool {}: {} ready; the host had no idle core for 10 minutes: this refiller stops, the next take starts another",
                order.key, filled.ready
            );
            return Ok(());
        }
        eprintln!(
            "footloose: pool {}: made {} ready, {} ready now",
            order.key,
            filled.made.len(),
            filled.ready
        );
        // A test that claimed after the last survey found the lock held
        // and left its refill to this one.
        let pooled = records::survey(&engine, Some(&order.key)).await?;
        let waiting = pooled
            .iter()
            .filter(|p| p.state != records::PoolState::Claimed)
            .count();
        if waiting >= order.size {
            return Ok(());
        }
    }
    Ok(())
}

/// A refiller's hold on a pool.
struct Lock {
    cluster: String,
    /// The id in the lock record's labels.
    id: String,
}

#[async_trait::async_trait]
impl super::fill::Permit for Lock {
    /// Whether the lock record is still this refiller's (`pool drain`
    /// removes it).
    async fn holds(&self, engine: &Engine) -> Result<bool> {
        let selector = [format!("{}={}", crate::labels::CLUSTER, self.cluster)];
        Ok(engine
            .backend()
            .volumes(&selector)
            .await?
            .iter()
            .any(|v| v.labels.get(crate::labels::CREATION) == Some(&self.id)))
    }
}

impl Lock {
    /// Takes the lock of the pool `key`, removing a dead holder's first;
    /// `None` when a live refiller holds it.
    async fn take(engine: &Engine, key: &str) -> Result<Option<Lock>> {
        let cluster = format!("pool-{key}-refiller");
        let name = record_name(&cluster, records::REFILLER);
        for _attempt in 0..2 {
            let id = crate::naming::random_id();
            let ownership = Ownership::new(
                &cluster,
                Lifetime::Test,
                crate::testing::watchdog::identity().as_ref(),
                Some(LOCK_LEASE),
            )
            .made_by(&id)
            .for_pool(Some(key));
            let labels = claim_labels(&ownership, records::REFILLER);
            if won(engine, &name, &labels).await? {
                return Ok(Some(Lock { cluster, id }));
            }
            let holder = engine
                .backend()
                .volumes(&[format!("{}={cluster}", crate::labels::CLUSTER)])
                .await?
                .into_iter()
                .find_map(|v| Ownership::from_labels(&v.labels));
            match holder.map(|h| h.verdict(std::time::SystemTime::now())) {
                Some(Verdict::Keep) => return Ok(None),
                // Its refiller is gone: its lock goes, and this one tries again.
                _ => match engine.backend().remove_volume(&name).await {
                    Ok(()) => {}
                    Err(err) if err.is_not_found() => {}
                    Err(err) => return Err(err),
                },
            }
        }
        Ok(None)
    }

    /// Lets the lock go.
    async fn release(self, engine: &Engine) -> Result<()> {
        let name = record_name(&self.cluster, records::REFILLER);
        match engine.backend().remove_volume(&name).await {
            Ok(()) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{forget_stale_files, POOL_FILES_KEPT};

    #[test]
    fn pool_files_unwritten_for_a_day_are_forgotten_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let day_and_more = now - POOL_FILES_KEPT - Duration::from_secs(60);
        let write = |name: &str, modified: SystemTime| {
            let file = std::fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(modified).unwrap();
        };
        write("pool-old.log", day_and_more);
        write("pool-old.spawned", day_and_more);
        write("pool-new.log", now);
        write("janitor.stamp", day_and_more);
        write("image-debian12.lock", day_and_more);
        assert_eq!(forget_stale_files(dir.path(), POOL_FILES_KEPT, now), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["image-debian12.lock", "janitor.stamp", "pool-new.log"]
        );
    }
}
