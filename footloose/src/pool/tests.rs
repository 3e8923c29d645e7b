//! Pools on the in-memory backend: the claim races a real engine gives
//! only by chance, run all at once, without sleeps.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use footloose_config::Config;
use futures_util::future::join_all;

use super::claim::{claimer, take};
use super::fill::{fill_with, Permit};
use super::pace::Gate;
use super::Filled;
use crate::backend::memory::MemoryBackend;
use crate::backend::{ImageInfo, PublishedPort};
use crate::cluster::records::{self, claim, ready_labels, record_name, survey, PoolState};
use crate::cluster::{create, CreateRequest, Readiness};
use crate::engine::Engine;
use crate::labels::Lifetime;
use crate::ownership::Ownership;
use crate::ClusterBuilder;

const KEY: &str = "0123456789abcdef";
const YAML: &str = "cluster: {name: t, privateKey: key}\nmachines:\n- count: 2\n  spec: {image: footloose/debian12, name: node%d, portMappings: [{containerPort: 22}]}\n";

struct Fixture {
    engine: Engine,
    memory: MemoryBackend,
    dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let memory = MemoryBackend::docker_like();
    memory.with(|s| {
        s.images.insert(
            "footloose/debian12".to_owned(),
            ImageInfo {
                id: "img".to_owned(),
                labels: HashMap::from([("io.footloose.keys".to_owned(), "env".to_owned())]),
            },
        )
    });
    Fixture {
        engine: Engine::of(Arc::new(memory.clone())),
        memory,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// The request of a test cluster of [`YAML`], as a test's builder makes it.
fn test_request(f: &Fixture) -> CreateRequest {
    let config = Config::from_yaml(YAML, "footloose.yaml").unwrap();
    let mut request = ClusterBuilder::new(config)
        .config_path(&f.dir.path().join("footloose.yaml"))
        .unique_name()
        .request()
        .unwrap();
    request.readiness = Readiness::Assumed;
    request
}

/// Makes `n` ready clusters of the pool [`KEY`], as a refiller does.
async fn pooled(f: &Fixture, n: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        names.push(pool_one(f, format!("pool-{i}")).await);
    }
    names
}

/// Makes the ready cluster `name` of the pool [`KEY`], as a refiller does,
/// its machines published as Docker would (their sshd on the host).
async fn pool_one(f: &Fixture, name: String) -> String {
    let mut request = test_request(f);
    request.config.cluster.name = name.clone();
    request.pool = Some(KEY.to_owned());
    create(&f.engine, &request).await.unwrap();
    f.engine
        .backend()
        .create_volume(
            &record_name(&name, records::READY),
            &ready_labels(&name, KEY, records::now_secs() + 3600),
        )
        .await
        .unwrap();
    f.memory.with(|s| {
        for (port, container) in (2200..).zip(s.containers.values_mut()) {
            container.info.ports = vec![PublishedPort {
                guest: 22,
                host: port,
                address: "127.0.0.1".to_owned(),
                protocol: "tcp".to_owned(),
            }];
        }
    });
    name
}

#[tokio::test]
async fn of_many_claims_of_one_cluster_exactly_one_wins() {
    let f = fixture();
    let cluster = pooled(&f, 1).await.remove(0);
    let request = test_request(&f);
    let claimers: Vec<Ownership> = (0..16)
        .map(|_| claimer(&f.engine, &cluster, KEY, &request))
        .collect();
    let won = join_all(claimers.iter().map(|o| claim(&f.engine, &cluster, o))).await;
    let winners = won.into_iter().filter(|w| *w.as_ref().unwrap()).count();
    assert_eq!(winners, 1);
    let state = survey(&f.engine, Some(KEY)).await.unwrap();
    assert_eq!(state[0].state, PoolState::Claimed);
}

#[tokio::test]
async fn takers_at_once_never_share_a_cluster_and_the_rest_find_none() {
    let f = fixture();
    let made: BTreeSet<String> = pooled(&f, 4).await.into_iter().collect();
    let requests: Vec<CreateRequest> = (0..10).map(|_| test_request(&f)).collect();
    let taken = join_all(requests.iter().map(|r| take(&f.engine, KEY, r))).await;
    let names: Vec<String> = taken
        .into_iter()
        .filter_map(|t| t.unwrap().0)
        .map(|c| c.name().to_owned())
        .collect();
    let distinct: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(distinct, made);
    // They raced: more claims were tried than there were clusters.
    let tried = f.memory.with(|s| {
        s.calls
            .iter()
            .filter(|c| c.starts_with("create volume") && c.ends_with("-pool-claim"))
            .count()
    });
    assert!(tried > 4, "{tried} claims tried");
}

#[tokio::test]
async fn a_taken_cluster_has_the_tests_machines_and_belongs_to_the_taker() {
    let f = fixture();
    pooled(&f, 2).await;
    let request = test_request(&f);
    let cluster = take(&f.engine, KEY, &request).await.unwrap().0.unwrap();
    let hostnames: Vec<&str> = cluster.machines().iter().map(|m| m.hostname()).collect();
    assert_eq!(hostnames, ["node0", "node1"]);
    let owners = crate::cluster::inspect_test_clusters(&f.engine)
        .await
        .unwrap();
    let taken = owners.iter().find(|o| o.cluster == cluster.name()).unwrap();
    assert_eq!(taken.lifetime, Lifetime::Test);
    assert_eq!(taken.owner, crate::process::Identity::current());
    let waiting = owners.iter().find(|o| o.cluster != cluster.name()).unwrap();
    assert_eq!(waiting.lifetime, Lifetime::Pool, "{waiting:?}");
}

#[tokio::test]
async fn an_expired_ready_cluster_is_removed_and_a_taken_one_kept() {
    let f = fixture();
    let names = pooled(&f, 2).await;
    // The second one's ready record says its lease ran out.
    let expired = record_name(&names[1], records::READY);
    f.memory.with(|s| {
        s.volumes
            .insert(expired.clone(), ready_labels(&names[1], KEY, 1));
    });
    let request = test_request(&f);
    let ownership = claimer(&f.engine, &names[0], KEY, &request);
    assert!(claim(&f.engine, &names[0], &ownership).await.unwrap());
    let removed = crate::prune_abandoned(&f.engine).await.unwrap();
    let removed: Vec<&str> = removed.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(removed, [names[1].as_str()]);
    let left = f.engine.leftovers(Some(&names[1])).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert!(!f
        .engine
        .leftovers(Some(&names[0]))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn drain_removes_what_no_test_holds() {
    let f = fixture();
    let names = pooled(&f, 3).await;
    let request = test_request(&f);
    let taken = take(&f.engine, KEY, &request).await.unwrap().0.unwrap();
    let mut drained = super::drain(&f.engine, Some(KEY)).await.unwrap();
    drained.sort();
    let mut idle: Vec<String> = names.into_iter().filter(|n| n != taken.name()).collect();
    idle.sort();
    assert_eq!(drained, idle);
    let left = survey(&f.engine, Some(KEY)).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].cluster, taken.name());
}

/// A gate that answers as scripted (then stays shut), counting the waits.
struct Scripted {
    answers: std::collections::VecDeque<bool>,
    waits: usize,
}

impl Scripted {
    fn new(answers: &[bool]) -> Scripted {
        Scripted {
            answers: answers.iter().copied().collect(),
            waits: 0,
        }
    }
}

#[async_trait::async_trait]
impl Gate for Scripted {
    async fn wait(&mut self, _within: std::time::Duration) -> bool {
        self.waits += 1;
        self.answers.pop_front().unwrap_or(false)
    }
}

/// A refiller's lock, held or taken away.
struct Held(bool);

#[async_trait::async_trait]
impl Permit for Held {
    async fn holds(&self, _engine: &Engine) -> crate::Result<bool> {
        Ok(self.0)
    }
}

/// Fills the pool [`KEY`] of `f` to `size` as a refiller holding (or not)
/// its lock would, behind a gate that answers `answers`; what the fill
/// did, and how often it waited for the gate.
async fn fill_behind(f: &Fixture, size: usize, answers: &[bool], held: bool) -> (Filled, usize) {
    let mut gate = Scripted::new(answers);
    let boot = |name: String| async { Ok(Some(pool_one(f, name).await)) };
    let filled = fill_with(&f.engine, KEY, size, Some(&Held(held)), &mut gate, boot)
        .await
        .unwrap();
    (filled, gate.waits)
}

#[tokio::test]
async fn a_paced_fill_boots_a_cluster_each_time_its_gate_opens_and_no_more() {
    let f = fixture();
    pooled(&f, 1).await;
    let (filled, waits) = fill_behind(&f, 3, &[false, true, false, false, true], true).await;
    assert_eq!((filled.made.len(), filled.ready), (2, 3), "{filled:?}");
    assert!(!filled.drained && !filled.host_busy, "{filled:?}");
    // Two boots for the five waits: a shut gate started none, and the full
    // pool asked no more.
    assert_eq!(waits, 5);
}

#[tokio::test]
async fn a_fill_whose_host_stays_busy_boots_nothing_and_gives_up() {
    let f = fixture();
    let (filled, waits) = fill_behind(&f, 2, &[], true).await;
    assert_eq!(
        (
            filled.made.len(),
            filled.ready,
            filled.drained,
            filled.host_busy
        ),
        (0, 0, false, true)
    );
    assert!(waits > 1, "it waited {waits} time(s)");
    assert!(f.engine.leftovers(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_drained_refiller_stops_while_it_waits_for_an_idle_core() {
    let f = fixture();
    let (filled, waits) = fill_behind(&f, 2, &[], false).await;
    assert!(filled.drained && !filled.host_busy, "{filled:?}");
    assert_eq!((filled.made.len(), waits), (0, 1));
}

#[tokio::test]
async fn a_failed_boot_fails_the_fill_once_the_other_boots_have_ended() {
    let f = fixture();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let boot = |name: String| {
        let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let f = &f;
        async move {
            if call == 1 {
                return Err(crate::Error::NoMachines { cluster: name });
            }
            Ok(Some(pool_one(f, name).await))
        }
    };
    let mut eager = super::pace::Eager;
    let failed = fill_with(&f.engine, KEY, 3, None, &mut eager, boot).await;
    assert!(
        matches!(failed, Err(crate::Error::NoMachines { .. })),
        "{failed:?}"
    );
    // The boot started beside the failed one was not dropped half-way.
    let ready = survey(&f.engine, Some(KEY)).await.unwrap();
    assert_eq!(ready.len(), 1, "{ready:?}");
    assert_eq!(ready[0].state, PoolState::Ready);
}
