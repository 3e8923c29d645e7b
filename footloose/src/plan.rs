//! What `create` will do, decided by a pure function from the config, the
//! key, and what the engine has: which machines to make, start, keep,
//! wait for or replace, and what to refuse. `create` carries the plan out;
//! when the engine changes under it (another process creating the same
//! cluster), it asks [`action_for`] again about the one machine.

use std::collections::BTreeMap;

use footloose_config::{Config, MachineInstance};

use crate::record::{MachineRecord, RecordError};

/// The container name of `hostname` in `cluster`.
pub fn container_name(cluster: &str, hostname: &str) -> String {
    format!("{cluster}-{hostname}")
}

/// A container that exists, as `create` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Its record, or why its labels are not one.
    pub record: Result<MachineRecord, RecordError>,
    /// Its state.
    pub state: Existing,
    /// Its creator is provably gone (same host, pid free or reused).
    pub creator_gone: bool,
}

/// The state of an existing container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// It runs.
    Running,
    /// Made but never started: its creator is still preparing it, or died.
    Unstarted,
    /// Being removed (another process deleting the cluster).
    Removing,
    /// Stopped, paused, or anything else a start brings back.
    Stopped,
}

/// What to do with one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing there: create it.
    Create,
    /// It runs: adopt it as it is.
    Keep,
    /// It is stopped: start it.
    Start,
    /// Another live process made it and has not started it: wait.
    AwaitCreator,
    /// Its creator died before starting it: remove it and create it anew.
    Replace,
}

/// Why `create` refuses to go on, before anything is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A container of that name belongs to another cluster, or to no
    /// footloose cluster at all.
    Foreign {
        /// The container.
        container: String,
    },
    /// The cluster's machines trust another client key.
    KeyMismatch {
        /// One machine that trusts the other key.
        container: String,
        /// Where that machine was made from.
        made_from: String,
        /// The fingerprint of the key it trusts.
        theirs: String,
    },
    /// A machine is being removed (another process deleting the cluster).
    BeingRemoved {
        /// The container.
        container: String,
    },
    /// A machine of the cluster has a record this footloose cannot read
    /// (made by a newer one).
    Unreadable {
        /// The container.
        container: String,
        /// Why its record cannot be read.
        reason: RecordError,
    },
}

/// One machine of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineStep {
    /// The machine as the config makes it.
    pub instance: MachineInstance,
    /// Its index in the configuration.
    pub order: u32,
    /// Its container name.
    pub container: String,
    /// What to do.
    pub action: Action,
    /// The host key an existing machine was made with.
    pub host_key: Option<String>,
}

/// Everything `create` will do, in order: images, networks, machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePlan {
    /// The cluster.
    pub cluster: String,
    /// The images the machines run, each once, in config order.
    pub images: Vec<String>,
    /// The networks the machines use, each once, in config order.
    pub networks: Vec<String>,
    /// Every machine, in config order.
    pub machines: Vec<MachineStep>,
}

impl CreatePlan {
    /// The machines that will be created.
    pub fn to_create(&self) -> impl Iterator<Item = &MachineStep> {
        self.machines
            .iter()
            .filter(|m| matches!(m.action, Action::Create | Action::Replace))
    }
}

/// Resolves what `create` does with `config`, for a client key of
/// fingerprint `our_key` (`None`: no key yet, one will be generated),
/// given the containers that exist, by name: the cluster's, and any other
/// that holds one of its container names.
pub fn resolve(
    config: &Config,
    our_key: Option<&str>,
    existing: &BTreeMap<String, Observed>,
) -> Result<CreatePlan, Refusal> {
    let cluster = config.cluster.name.as_str();
    // Every machine of the cluster, in the config or not, must trust our
    // key: a mismatch means the name is taken by another config's cluster.
    for (container, observed) in existing {
        match record_of(cluster, container, observed) {
            Ok(record) => check_key(container, record, our_key)?,
            // Refused below if it holds one of the config's names.
            Err(Refusal::Foreign { .. }) => {}
            Err(refusal) => return Err(refusal),
        }
    }
    let machines = config
        .machines()
        .enumerate()
        .map(|(order, instance)| {
            let container = container_name(cluster, &instance.hostname);
            let found = existing.get(&container);
            let action = action_for(cluster, our_key, &container, found)?;
            Ok(MachineStep {
                instance,
                order: order as u32,
                host_key: found.and_then(Observed::host_key),
                container,
                action,
            })
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    let mut images = Vec::new();
    let mut networks = Vec::new();
    for set in &config.machines {
        if !images.contains(&set.spec.image) {
            images.push(set.spec.image.clone());
        }
        for network in &set.spec.networks {
            if !networks.contains(network) {
                networks.push(network.clone());
            }
        }
    }
    Ok(CreatePlan {
        cluster: cluster.to_owned(),
        images,
        networks,
        machines,
    })
}

/// What to do with the machine whose container is `container`, found as
/// `observed` (`None`: there is none).
pub fn action_for(
    cluster: &str,
    our_key: Option<&str>,
    container: &str,
    observed: Option<&Observed>,
) -> Result<Action, Refusal> {
    let Some(observed) = observed else {
        return Ok(Action::Create);
    };
    let record = record_of(cluster, container, observed)?;
    check_key(container, record, our_key)?;
    match observed.state {
        Existing::Running => Ok(Action::Keep),
        Existing::Stopped => Ok(Action::Start),
        Existing::Removing => Err(Refusal::BeingRemoved {
            container: container.to_owned(),
        }),
        Existing::Unstarted if observed.creator_gone => Ok(Action::Replace),
        Existing::Unstarted => Ok(Action::AwaitCreator),
    }
}

impl Observed {
    /// The host key the machine was made with, when its record says.
    pub fn host_key(&self) -> Option<String> {
        self.record.as_ref().ok()?.host_key.clone()
    }
}

/// The record of `container`, a machine of `cluster`; a refusal when it is
/// another cluster's (or nobody's), or its record cannot be read.
fn record_of<'a>(
    cluster: &str,
    container: &str,
    observed: &'a Observed,
) -> Result<&'a MachineRecord, Refusal> {
    match &observed.record {
        Ok(record) if record.cluster() == cluster => Ok(record),
        Ok(_) | Err(RecordError::Missing(crate::labels::CLUSTER)) => Err(Refusal::Foreign {
            container: container.to_owned(),
        }),
        Err(reason) => Err(Refusal::Unreadable {
            container: container.to_owned(),
            reason: reason.clone(),
        }),
    }
}

/// Refuses a machine that trusts another client key than `our_key`.
fn check_key(
    container: &str,
    record: &MachineRecord,
    our_key: Option<&str>,
) -> Result<(), Refusal> {
    match &record.key_fingerprint {
        Some(theirs) if Some(theirs.as_str()) != our_key => Err(Refusal::KeyMismatch {
            container: container.to_owned(),
            made_from: record
                .made_from
                .clone()
                .unwrap_or_else(|| "an unknown config".to_owned()),
            theirs: theirs.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Lifetime;
    use crate::ownership::Ownership;

    fn config() -> Config {
        let text = "cluster: {name: c}\nmachines:\n- count: 2\n  spec: {image: footloose/debian12, name: node%d, networks: [front]}\n- count: 1\n  spec: {image: footloose/debian13, name: db%d, networks: [front, back]}\n";
        Config::from_yaml(text, "t").unwrap()
    }

    fn observed(cluster: &str, key: Option<&str>, state: Existing) -> Observed {
        Observed {
            record: Ok(MachineRecord {
                version: crate::record::RECORD_VERSION,
                ownership: Ownership::new(cluster, Lifetime::Cli, None, None),
                hostname: "node0".into(),
                order: 0,
                host_key: Some("ssh-ed25519 AAAA".into()),
                key_fingerprint: key.map(str::to_owned),
                made_from: Some("/elsewhere/footloose.yaml".into()),
                spec: None,
                groups: vec![],
                ansible: Default::default(),
            }),
            state,
            creator_gone: false,
        }
    }

    fn actions(plan: &CreatePlan) -> Vec<(&str, Action)> {
        plan.machines
            .iter()
            .map(|m| (m.container.as_str(), m.action))
            .collect()
    }

    #[test]
    fn a_new_cluster_creates_every_machine_and_lists_images_and_networks_once() {
        let plan = resolve(&config(), None, &BTreeMap::new()).unwrap();
        assert_eq!(
            actions(&plan),
            [
                ("c-node0", Action::Create),
                ("c-node1", Action::Create),
                ("c-db0", Action::Create)
            ]
        );
        assert_eq!(plan.images, ["footloose/debian12", "footloose/debian13"]);
        assert_eq!(plan.networks, ["front", "back"]);
        assert_eq!(plan.machines[2].order, 2);
        assert_eq!(plan.to_create().count(), 3);
    }

    #[test]
    fn existing_machines_are_kept_started_awaited_or_replaced() {
        let key = Some("SHA256:ours");
        let mut existing = BTreeMap::from([
            ("c-node0".to_owned(), observed("c", key, Existing::Running)),
            ("c-node1".to_owned(), observed("c", key, Existing::Stopped)),
            ("c-db0".to_owned(), observed("c", key, Existing::Unstarted)),
        ]);
        let plan = resolve(&config(), key, &existing).unwrap();
        assert_eq!(
            actions(&plan),
            [
                ("c-node0", Action::Keep),
                ("c-node1", Action::Start),
                ("c-db0", Action::AwaitCreator)
            ]
        );
        existing.get_mut("c-db0").unwrap().creator_gone = true;
        let plan = resolve(&config(), key, &existing).unwrap();
        assert_eq!(plan.machines[2].action, Action::Replace);
        assert_eq!(plan.to_create().count(), 1);
        assert_eq!(
            plan.machines[0].host_key.as_deref(),
            Some("ssh-ed25519 AAAA")
        );
        existing.get_mut("c-db0").unwrap().state = Existing::Removing;
        assert_eq!(
            resolve(&config(), key, &existing),
            Err(Refusal::BeingRemoved {
                container: "c-db0".into()
            })
        );
    }

    #[test]
    fn a_cluster_made_with_another_key_is_refused_before_anything_is_made() {
        // Also a machine no longer in the config counts.
        let existing = BTreeMap::from([(
            "c-old9".to_owned(),
            observed("c", Some("SHA256:theirs"), Existing::Running),
        )]);
        for ours in [Some("SHA256:ours"), None] {
            assert_eq!(
                resolve(&config(), ours, &existing),
                Err(Refusal::KeyMismatch {
                    container: "c-old9".into(),
                    made_from: "/elsewhere/footloose.yaml".into(),
                    theirs: "SHA256:theirs".into(),
                })
            );
        }
    }

    #[test]
    fn a_name_held_by_another_cluster_or_a_stranger_is_refused() {
        let other = observed("other", None, Existing::Running);
        let stranger = Observed {
            record: Err(RecordError::Missing(crate::labels::CLUSTER)),
            ..other.clone()
        };
        for found in [other, stranger] {
            let existing = BTreeMap::from([("c-node1".to_owned(), found)]);
            assert_eq!(
                resolve(&config(), None, &existing),
                Err(Refusal::Foreign {
                    container: "c-node1".into()
                })
            );
        }
    }

    #[test]
    fn a_machine_of_a_newer_footloose_is_refused_with_its_reason() {
        let newer = Observed {
            record: Err(RecordError::Newer {
                found: 9,
                supported: 1,
            }),
            ..observed("c", None, Existing::Running)
        };
        // Also when it is no longer in the config.
        for name in ["c-node0", "c-old7"] {
            let existing = BTreeMap::from([(name.to_owned(), newer.clone())]);
            assert!(matches!(
                resolve(&config(), None, &existing),
                Err(Refusal::Unreadable { container, .. }) if container == name
            ));
        }
    }
}
