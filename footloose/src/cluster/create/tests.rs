//! `create`, `delete`, the janitor, adopt-on-conflict, interrupts and the
//! network race on the in-memory backend: each interleaving that a real
//! engine gives only by chance is injected at the call where it happens.

use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use footloose_config::Config;
use tokio_util::sync::CancellationToken;

use super::{create, CreateRequest, Readiness};
use crate::backend::memory::{refusal, Event, MemoryBackend};
use crate::backend::{ContainerStatus, ImageInfo};
use crate::engine::{Engine, Route};
use crate::error::{EngineFailure, Error};
use crate::labels::{self, Lifetime};
use crate::machine::MachineError;
use crate::ownership::{Ownership, Verdict};
use crate::process::Identity;
use crate::record::{MachineRecord, RECORD_VERSION};
use crate::ClusterBuilder;

const YAML: &str = "cluster: {name: c, privateKey: key}\nmachines:\n- count: 2\n  spec: {image: footloose/debian12, name: node%d, networks: [front]}\n";

/// An engine with footloose's image present (taking keys by environment
/// unless `copied_keys`), a key directory, and a request for `yaml`.
struct Fixture {
    memory: MemoryBackend,
    engine: Engine,
    request: CreateRequest,
    _dir: tempfile::TempDir,
}

fn fixture(yaml: &str, copied_keys: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryBackend::docker_like();
    let labels = if copied_keys {
        HashMap::new()
    } else {
        HashMap::from([("io.footloose.keys".to_owned(), "env".to_owned())])
    };
    memory.with(|s| {
        s.images.insert(
            "footloose/debian12".to_owned(),
            ImageInfo {
                id: "img".to_owned(),
                labels,
            },
        )
    });
    let config = Config::from_yaml(yaml, "footloose.yaml").unwrap();
    let mut request = ClusterBuilder::new(config)
        .config_path(&dir.path().join("footloose.yaml"))
        .persistent()
        .request()
        .unwrap();
    request.readiness = Readiness::Assumed;
    Fixture {
        engine: Engine::of(Arc::new(memory.clone())),
        memory,
        request,
        _dir: dir,
    }
}

fn names(f: &Fixture) -> Vec<String> {
    f.memory.with(|s| s.containers.keys().cloned().collect())
}

fn creates(f: &Fixture) -> usize {
    f.memory.with(|s| {
        s.calls
            .iter()
            .filter(|c| c.starts_with("create c-"))
            .count()
    })
}

/// The labels of a machine `c-<hostname>` made by another footloose
/// process (`owner`) with the client key of fingerprint `key`.
fn made_elsewhere(hostname: &str, owner: Identity, key: &str) -> HashMap<String, String> {
    made_in("c", hostname, owner, key)
}

/// The same for a machine of `cluster`.
fn made_in(cluster: &str, hostname: &str, owner: Identity, key: &str) -> HashMap<String, String> {
    let mut ownership = Ownership::new(cluster, Lifetime::Cli, None, None);
    ownership.owner = owner;
    MachineRecord {
        version: RECORD_VERSION,
        ownership,
        hostname: hostname.to_owned(),
        order: 0,
        host_key: Some("ssh-ed25519 THEIRS".to_owned()),
        key_fingerprint: Some(key.to_owned()),
        made_from: Some("/elsewhere/footloose.yaml".to_owned()),
        spec: None,
        groups: vec![],
        ansible: Default::default(),
    }
    .to_labels()
}

/// Our key's fingerprint, making the key first.
fn our_key(f: &Fixture) -> String {
    crate::keys::ClientKey::load_or_generate(&f.request.key_path)
        .unwrap()
        .fingerprint()
}

fn dead_owner() -> Identity {
    let mut owner = Identity::current();
    owner.start_time += 1;
    owner
}

/// Runs `create` with Ctrl-C pressed at `event` (the engine carries that
/// call out all the same), asserts that it was interrupted, and waits
/// until the engine has finished what it was asked.
async fn interrupted_at(f: &mut Fixture, event: Event) {
    let token = CancellationToken::new();
    f.request.cancel = Some(token.clone());
    f.memory.on(move |seen, _| {
        if *seen == event {
            token.cancel();
        }
    });
    let err = create(&f.engine, &f.request).await.unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    f.memory.idle().await;
}

/// Another `create` call of this very process (same pid, another call,
/// the same key) makes and starts `c-<hostname>` just before this one asks
/// for it, on `network` when given.
fn another_call_wins(f: &Fixture, hostname: &str, network: Option<&str>) {
    let name = format!("c-{hostname}");
    let theirs = made_elsewhere(hostname, Identity::current(), &our_key(f));
    let network = network.map(str::to_owned);
    f.memory.on(move |event, state| {
        if *event == Event::CreateContainer(name.clone()) && !state.containers.contains_key(&name) {
            state.add_container(&name, ContainerStatus::Running, theirs.clone());
            if let Some(network) = &network {
                let c = state.containers.get_mut(&name).unwrap();
                c.info.networks.insert(network.clone(), None);
            }
        }
    });
}

#[tokio::test]
async fn a_new_cluster_is_made_with_its_records_and_keys_in_the_environment() {
    let f = fixture(YAML, false);
    let cluster = create(&f.engine, &f.request).await.unwrap();
    assert_eq!(cluster.machines().len(), 2);
    assert_eq!(names(&f), ["c-node0", "c-node1"]);
    let key = our_key(&f);
    f.memory.with(|s| {
        for (order, name) in ["c-node0", "c-node1"].iter().enumerate() {
            let container = &s.containers[*name];
            assert_eq!(container.info.status, Some(ContainerStatus::Running));
            let record = MachineRecord::from_labels(&container.info.labels).unwrap();
            assert_eq!(record.order, order as u32);
            assert_eq!(record.key_fingerprint.as_deref(), Some(key.as_str()));
            assert_eq!(record.ownership.owner, Identity::current());
            let plan = container.plan.as_ref().unwrap();
            assert!(plan
                .env
                .iter()
                .any(|e| e.starts_with("FOOTLOOSE_HOST_KEY=")));
            assert!(container.uploads.is_empty(), "keys went by environment");
            assert!(container.info.networks.contains_key("front"));
        }
        assert_eq!(s.networks.len(), 1);
    });
}

#[tokio::test]
async fn the_specs_resources_reach_the_engine_and_the_record_keeps_them() {
    let yaml = "cluster: {name: c, privateKey: key}\nmachines:\n- spec: {image: footloose/debian12, name: node%d, resources: {cpus: 0.5, memory: 256Mi}}\n";
    let f = fixture(yaml, false);
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        let container = &s.containers["c-node0"];
        let plan = container.plan.as_ref().unwrap();
        assert_eq!(plan.nano_cpus, Some(500_000_000));
        assert_eq!(plan.memory_bytes, Some(268_435_456));
        assert_eq!(container.uploads, ["/"], "the CPU accounting drop-in");
        let upload = s.calls.iter().position(|c| c == "upload c-node0");
        let start = s.calls.iter().position(|c| c == "start c-node0");
        assert!(upload < start, "{:?}", s.calls);
        let record = MachineRecord::from_labels(&container.info.labels).unwrap();
        let resources = record.spec.unwrap().resources;
        assert_eq!(resources.cpus, Some(0.5));
        assert_eq!(resources.memory.as_deref(), Some("256Mi"));
    });
}

#[tokio::test]
async fn images_without_the_keys_label_get_the_key_files_copied_before_start() {
    let f = fixture(YAML, true);
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        let container = &s.containers["c-node0"];
        assert_eq!(container.uploads, ["/"]);
        let plan = container.plan.as_ref().unwrap();
        assert!(!plan
            .env
            .iter()
            .any(|e| e.starts_with("FOOTLOOSE_HOST_KEY=")));
        let upload = s.calls.iter().position(|c| c == "upload c-node0");
        let start = s.calls.iter().position(|c| c == "start c-node0");
        assert!(upload < start, "{:?}", s.calls);
    });
}

#[tokio::test]
async fn creating_again_keeps_running_machines_and_starts_stopped_ones() {
    let f = fixture(YAML, false);
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        s.containers.get_mut("c-node1").unwrap().info.status = Some(ContainerStatus::Exited);
    });
    let before = creates(&f);
    create(&f.engine, &f.request).await.unwrap();
    assert_eq!(creates(&f), before, "nothing is created twice");
    f.memory.with(|s| {
        assert_eq!(
            s.containers["c-node1"].info.status,
            Some(ContainerStatus::Running)
        );
        assert_eq!(s.networks.len(), 1);
    });
}

#[tokio::test]
async fn a_creator_that_loses_the_race_for_a_name_adopts_the_winners_machine() {
    let f = fixture(YAML, false);
    another_call_wins(&f, "node0", None);
    let cluster = create(&f.engine, &f.request).await.unwrap();
    assert_eq!(cluster.machines().len(), 2);
    f.memory.with(|s| {
        let record = MachineRecord::from_labels(&s.containers["c-node0"].info.labels).unwrap();
        assert_eq!(record.host_key.as_deref(), Some("ssh-ed25519 THEIRS"));
        assert!(s.containers["c-node0"].plan.is_none(), "theirs, not ours");
    });
}

#[tokio::test]
async fn undo_after_a_failure_removes_only_what_this_call_made() {
    let f = fixture(YAML, false);
    // It wins c-node0 and puts it on our network.
    another_call_wins(&f, "node0", Some("front"));
    f.memory.with(|s| {
        for _ in 0..2 {
            let err = refusal(EngineFailure::Other, "starting c-node1");
            s.failures
                .push((Event::StartContainer("c-node1".into()), err));
        }
    });
    let err = create(&f.engine, &f.request).await.unwrap_err();
    assert!(matches!(err, Error::Start { .. }), "{err}");
    // Ours (c-node1) is gone, theirs stays, and so does the network
    // their machine is on.
    assert_eq!(names(&f), ["c-node0"]);
    f.memory
        .with(|s| assert_eq!(s.networks.len(), 1, "{:?}", s.calls));
}

#[tokio::test]
async fn an_interrupt_after_losing_a_name_leaves_the_winners_machine() {
    let mut f = fixture(YAML, false);
    // Another call takes c-node1 just before ours, and Ctrl-C comes while
    // the engine refuses ours.
    another_call_wins(&f, "node1", None);
    interrupted_at(&mut f, Event::CreateContainer("c-node1".into())).await;
    assert_eq!(names(&f), ["c-node1"]);
    f.memory
        .with(|s| assert!(s.containers["c-node1"].plan.is_none()));
}

#[tokio::test]
async fn an_interrupt_mid_create_removes_what_this_call_made_and_nothing_else() {
    let mut f = fixture(YAML, false);
    f.memory.with(|s| {
        s.add_container(
            "other-node0",
            ContainerStatus::Running,
            made_in("other", "node0", Identity::current(), "SHA256:x"),
        )
    });
    interrupted_at(&mut f, Event::StartContainer("c-node1".into())).await;
    assert_eq!(names(&f), ["other-node0"]);
    f.memory
        .with(|s| assert!(s.networks.is_empty(), "{:?}", s.networks));
}

#[tokio::test]
async fn an_interrupt_while_machines_are_being_created_leaves_none_of_them() {
    // On no network of their own: nothing else stops a late create.
    let yaml = "cluster: {name: c, privateKey: key}\nmachines:\n- count: 2\n  spec: {image: footloose/debian12, name: node%d}\n";
    let mut f = fixture(yaml, false);
    // Ctrl-C arrives while the engine is creating c-node1: it finishes
    // the request after the client has stopped waiting.
    interrupted_at(&mut f, Event::CreateContainer("c-node1".into())).await;
    f.memory
        .with(|s| assert!(s.calls.contains(&"create c-node1".to_owned())));
    assert!(names(&f).is_empty(), "{:?}", names(&f));
}

#[tokio::test]
async fn an_interrupt_while_the_network_is_being_created_leaves_no_network() {
    let mut f = fixture(YAML, false);
    // The engine makes the network, but the answer comes after Ctrl-C.
    interrupted_at(&mut f, Event::CreateNetwork("front".into())).await;
    f.memory.with(|s| {
        assert!(s.calls.contains(&"create network front".to_owned()));
        assert!(s.networks.is_empty(), "{:?}", s.networks);
    });
    assert!(names(&f).is_empty());
}

#[tokio::test]
async fn a_machine_deleted_while_it_starts_is_reported_and_nothing_is_left() {
    let f = fixture(YAML, false);
    // Another footloose deletes the cluster just as c-node1 is started.
    let engine = f.engine.clone();
    let deleted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = deleted.clone();
    f.memory.on(move |event, state| {
        if *event == Event::StartContainer("c-node1".into()) && !flag.swap(true, SeqCst) {
            state.containers.clear();
        }
    });
    let err = create(&engine, &f.request).await.unwrap_err();
    assert!(
        matches!(&err, Error::Machine(MachineError::Vanished { machine }) if machine.starts_with("c-node")),
        "{err}"
    );
    assert!(names(&f).is_empty());
    f.memory
        .with(|s| assert!(s.networks.is_empty(), "{:?}", s.networks));
}

#[tokio::test]
async fn an_interrupt_during_a_network_race_leaves_the_other_creators_network() {
    let mut f = fixture(YAML, false);
    let token = CancellationToken::new();
    f.request.cancel = Some(token.clone());
    let theirs = Arc::new(std::sync::Mutex::new(None));
    let slot = theirs.clone();
    f.memory.on(move |event, state| {
        if *event == Event::CreateNetwork("front".into()) && slot.lock().unwrap().is_none() {
            let labels = Ownership::new("c", Lifetime::Cli, None, None)
                .made_by("another-call")
                .to_labels();
            *slot.lock().unwrap() = Some(state.add_network("front", labels));
            token.cancel();
        }
    });
    let err = create(&f.engine, &f.request).await.unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    f.memory.idle().await;
    let theirs = theirs.lock().unwrap().clone().unwrap();
    f.memory.with(|s| {
        let ids: Vec<&str> = s.networks.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, [theirs.as_str()], "ours is gone, theirs stays");
    });
}

#[tokio::test]
async fn racing_creators_of_one_network_settle_on_the_oldest() {
    let f = fixture(YAML, false);
    // Another creator makes `front` while this one's request is on its way:
    // Docker then holds two networks of one name.
    let theirs = Arc::new(std::sync::Mutex::new(None));
    let slot = theirs.clone();
    f.memory.on(move |event, state| {
        if *event == Event::CreateNetwork("front".into()) && slot.lock().unwrap().is_none() {
            let labels = HashMap::from([(labels::MANAGED.to_owned(), "true".to_owned())]);
            *slot.lock().unwrap() = Some(state.add_network("front", labels));
        }
    });
    create(&f.engine, &f.request).await.unwrap();
    let theirs = theirs.lock().unwrap().clone().unwrap();
    f.memory.with(|s| {
        let ids: Vec<&str> = s.networks.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, [theirs.as_str()], "the younger duplicate is gone");
        let plan = s.containers["c-node0"].plan.as_ref().unwrap();
        assert_eq!(plan.network.as_deref(), Some(theirs.as_str()));
    });
}

#[tokio::test]
async fn a_machine_another_live_process_is_preparing_is_awaited_then_adopted() {
    let f = fixture(YAML, false);
    let key = our_key(&f);
    f.memory.with(|s| {
        let labels = made_elsewhere("node0", Identity::current(), &key);
        s.add_container("c-node0", ContainerStatus::Created, labels)
    });
    // Its creator starts it after this process has looked twice.
    let mut looks = 0;
    f.memory.on(move |event, state| {
        if *event == Event::Inspect("c-node0".into()) {
            looks += 1;
            if looks == 2 {
                let c = state.containers.get_mut("c-node0").unwrap();
                c.info.status = Some(ContainerStatus::Running);
            }
        }
    });
    create(&f.engine, &f.request).await.unwrap();
    assert_eq!(creates(&f), 1, "only c-node1 is created");
    f.memory
        .with(|s| assert!(s.containers["c-node0"].plan.is_none()));
}

#[tokio::test]
async fn a_machine_whose_creator_died_before_starting_it_is_replaced() {
    let f = fixture(YAML, false);
    let key = our_key(&f);
    f.memory.with(|s| {
        let labels = made_elsewhere("node0", dead_owner(), &key);
        s.add_container("c-node0", ContainerStatus::Created, labels)
    });
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        let record = MachineRecord::from_labels(&s.containers["c-node0"].info.labels).unwrap();
        assert_eq!(record.ownership.owner, Identity::current());
        assert!(s.calls.contains(&"remove c-node0".to_owned()));
    });
}

#[tokio::test]
async fn a_cluster_made_with_another_key_is_refused_before_anything_is_made() {
    let f = fixture(YAML, false);
    f.memory.with(|s| {
        let labels = made_elsewhere("node9", Identity::current(), "SHA256:theirs");
        s.add_container("c-node9", ContainerStatus::Running, labels)
    });
    let err = create(&f.engine, &f.request).await.unwrap_err();
    assert!(matches!(err, Error::ClusterKeyMismatch { .. }), "{err}");
    assert_eq!(creates(&f), 0);
    assert!(!f.request.key_path.exists(), "no key is generated");
    f.memory.with(|s| assert!(s.networks.is_empty()));
}

#[tokio::test]
async fn a_name_held_by_a_stranger_is_refused_before_anything_is_made() {
    let f = fixture(YAML, false);
    f.memory.with(|s| {
        s.add_container("c-node1", ContainerStatus::Running, HashMap::new());
    });
    let err = create(&f.engine, &f.request).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("c-node1 already exists and is not part of cluster c"),
        "{err}"
    );
    assert_eq!(creates(&f), 0);
    assert!(!f.request.key_path.exists(), "no key is generated");
    f.memory.with(|s| assert!(s.networks.is_empty()));
}

#[tokio::test]
async fn delete_keeps_a_network_that_another_clusters_machine_still_uses() {
    let f = fixture(YAML, false);
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        s.add_container(
            "other-node0",
            ContainerStatus::Running,
            HashMap::from([(labels::CLUSTER.to_owned(), "other".to_owned())]),
        );
        let other = s.containers.get_mut("other-node0").unwrap();
        other.info.networks.insert("front".into(), None);
        s.volumes.insert(
            "c-data".into(),
            HashMap::from([
                (labels::MANAGED.to_owned(), "true".to_owned()),
                (labels::CLUSTER.to_owned(), "c".to_owned()),
            ]),
        );
    });
    let removed = crate::delete(&f.engine, "c").await.unwrap();
    assert_eq!(removed.containers, ["c-node0", "c-node1"]);
    assert_eq!(removed.volumes, ["c-data"]);
    assert!(removed.networks.is_empty(), "{removed:?}");
    assert_eq!(names(&f), ["other-node0"]);
    f.memory.with(|s| assert_eq!(s.networks.len(), 1));
}

#[tokio::test]
async fn the_janitor_removes_only_clusters_provably_abandoned() {
    let f = fixture(YAML, false);
    let test_cluster = |name: &str, owner: Identity, lease_expires: Option<u64>| {
        let mut ownership = Ownership::new(name, Lifetime::Test, None, None);
        ownership.owner = owner;
        ownership.lease_expires = lease_expires;
        let mut labels = ownership.to_labels();
        labels.insert(labels::HOSTNAME.into(), "node0".into());
        labels
    };
    let mut unseen = Identity::current();
    unseen.pid_namespace += 1;
    unseen.start_time += 1;
    f.memory.with(|s| {
        let add = |s: &mut crate::backend::memory::State, name: &str, labels| {
            s.add_container(&format!("{name}-node0"), ContainerStatus::Running, labels)
        };
        add(s, "live", test_cluster("live", Identity::current(), None));
        add(s, "gone", test_cluster("gone", dead_owner(), None));
        add(
            s,
            "expired",
            test_cluster("expired", unseen.clone(), Some(0)),
        );
        add(
            s,
            "leased",
            test_cluster("leased", unseen.clone(), Some(u64::MAX)),
        );
        let mut cli = Ownership::new("cli", Lifetime::Cli, None, None);
        cli.owner = dead_owner();
        add(s, "cli", cli.to_labels());
        // Owners unseen, in job containers of this engine: one still runs,
        // one was removed with its job.
        s.add_container("job-alive", ContainerStatus::Running, HashMap::new());
        let alive = s.containers["job-alive"].info.id.clone();
        let mut labels = test_cluster("in-job", unseen.clone(), Some(u64::MAX));
        labels.insert(labels::OWNER_CONTAINER.into(), alive);
        add(s, "in-job", labels);
        let mut labels = test_cluster("job-gone", unseen.clone(), Some(u64::MAX));
        labels.insert(labels::OWNER_CONTAINER.into(), "f".repeat(64));
        add(s, "job-gone", labels);
    });
    let removed = crate::prune_abandoned(&f.engine).await.unwrap();
    assert_eq!(
        removed,
        [
            ("expired".to_owned(), Verdict::LeaseExpired),
            ("gone".to_owned(), Verdict::OwnerGone),
            ("job-gone".to_owned(), Verdict::OwnerGone)
        ]
    );
    assert_eq!(
        names(&f),
        [
            "cli-node0",
            "in-job-node0",
            "job-alive",
            "leased-node0",
            "live-node0"
        ]
    );
}

#[tokio::test]
async fn in_a_job_container_each_machine_joins_the_jobs_network() {
    let mut f = fixture(YAML, false);
    f.memory.with(|s| s.add_network("ci", HashMap::new()));
    f.engine = f.engine.clone().routed(Route::Network {
        network: "ci".into(),
    });
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| {
        for name in ["c-node0", "c-node1"] {
            let container = &s.containers[name];
            let plan = container.plan.as_ref().unwrap();
            assert_eq!(plan.extra_networks, ["ci"], "front first, then the job's");
            assert!(container.info.networks.contains_key("ci"));
        }
        let ours: Vec<&str> = s
            .networks
            .iter()
            .filter(|n| n.labels.contains_key(labels::CLUSTER))
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(ours, ["front"], "the job's network is not footloose's");
    });
}

#[tokio::test]
async fn without_a_route_to_the_machines_nothing_is_made() {
    for route in [
        Route::Unroutable {
            reason: "this process runs in container job (network mode none)".into(),
        },
        Route::Network {
            network: "no-such-network".into(),
        },
    ] {
        let mut f = fixture(YAML, false);
        f.engine = f.engine.clone().routed(route.clone());
        let err = create(&f.engine, &f.request).await.unwrap_err();
        let Error::Machine(MachineError::NoRoute { reason }) = &err else {
            panic!("{route:?} gave {err}");
        };
        assert!(
            reason.contains("network mode none") || reason.contains("no-such-network"),
            "{reason}"
        );
        assert!(names(&f).is_empty(), "{route:?} made machines");
        f.memory
            .with(|s| assert!(s.networks.is_empty(), "{route:?} made networks"));
        assert!(
            !f.request.key_path.exists(),
            "{route:?} generated a key first"
        );
    }
}

#[tokio::test]
async fn a_container_a_user_ran_from_a_footloose_image_is_not_footloose_s() {
    let f = fixture(YAML, false);
    // Containers inherit the image's labels, `io.footloose.managed` too.
    f.memory.with(|s| {
        s.add_container(
            "users-own",
            ContainerStatus::Running,
            HashMap::from([(labels::MANAGED.to_owned(), "true".to_owned())]),
        )
    });
    assert!(f.engine.leftovers(None).await.unwrap().is_empty());
    let listed = crate::cluster::inspect::status(&f.engine, None)
        .await
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn a_machine_made_on_the_host_is_attached_when_a_job_reaches_it() {
    let mut f = fixture(YAML, false);
    create(&f.engine, &f.request).await.unwrap();
    f.memory.with(|s| s.add_network("ci", HashMap::new()));
    f.engine = f.engine.clone().routed(Route::Network {
        network: "ci".into(),
    });
    let before = creates(&f);
    create(&f.engine, &f.request).await.unwrap();
    assert_eq!(creates(&f), before, "the machines were kept");
    f.memory.with(|s| {
        for name in ["c-node0", "c-node1"] {
            assert!(
                s.containers[name].info.networks.contains_key("ci"),
                "{name}"
            );
        }
    });
}
