//! What footloose knows about a machine, as one typed record written to
//! and read from its container's labels by one pair of functions.
//!
//! Every reader of machines (`show`, `start`, `delete`, the inventory, the
//! janitor, `create` adopting a machine another process made) reads a
//! [`MachineRecord`]; nothing else reads a machine's labels by key.
//!
//! ## Versions
//! A record carries its version in `io.footloose.record`. Version 1 is
//! the first one written with that label; machines made by a footloose
//! from before it carry the same labels without it and read as version
//! 0, the same layout. A record newer than this footloose knows is refused
//! with [`RecordError::Newer`], which names both versions, rather than
//! read half-way.

use std::collections::{BTreeMap, HashMap};

use footloose_config::{AnsibleVars, MachineSpec};

use crate::labels;
use crate::ownership::Ownership;

/// The record version this footloose writes and the newest it reads.
pub const RECORD_VERSION: u32 = 1;

/// Why a container's labels are not a record this footloose can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// It lacks the labels every footloose machine has.
    #[error("it is not a footloose machine (no {0} label)")]
    Missing(&'static str),
    /// A newer footloose made it.
    #[error("it was made by a newer footloose (record version {found}; this one reads up to {supported}): upgrade footloose to manage it")]
    Newer {
        /// The version its labels carry.
        found: u32,
        /// The newest version this footloose reads.
        supported: u32,
    },
    /// A label is there but its value cannot be read.
    #[error("its label {label} is unreadable: {reason}")]
    Unreadable {
        /// The label.
        label: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
}

/// Everything footloose records about one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MachineRecord {
    /// The version the record was written in (see the module docs).
    pub version: u32,
    /// Which cluster owns it, made by which process and call, until when.
    pub(crate) ownership: Ownership,
    /// Its hostname.
    pub hostname: String,
    /// Its index in the configuration, for stable ordering.
    pub order: u32,
    /// Its ssh host public key, in OpenSSH format, pinned at creation.
    pub host_key: Option<String>,
    /// The SHA-256 fingerprint of the client key it trusts.
    pub key_fingerprint: Option<String>,
    /// Where it was made from: a config file, or the built-in default.
    pub made_from: Option<String>,
    /// Its spec as the config wrote it.
    pub spec: Option<MachineSpec>,
    /// The extra Ansible groups of its `machines:` entry.
    pub groups: Vec<String>,
    /// The Ansible variables the config gives it and its groups.
    pub ansible: MachineVars,
}

/// The Ansible variables a configuration gives one machine: its
/// `machines:` entry's `ansible.vars`, and the top-level
/// `ansible.groupVars` of the groups it is in. The inventory writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct MachineVars {
    /// Its host variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host: AnsibleVars,
    /// The variables of its groups, by group (`all` among them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, AnsibleVars>,
}

impl MachineVars {
    /// The variables of `instance`, as the config gives them.
    pub(crate) fn of(instance: &footloose_config::MachineInstance) -> MachineVars {
        MachineVars {
            host: instance.ansible_vars.clone(),
            groups: instance.group_vars.clone(),
        }
    }

    fn is_empty(&self) -> bool {
        self.host.is_empty() && self.groups.is_empty()
    }
}

impl MachineRecord {
    /// The cluster it belongs to.
    pub fn cluster(&self) -> &str {
        &self.ownership.cluster
    }

    /// Whether it lives until deleted or until its test process ends.
    pub fn lifetime(&self) -> crate::labels::Lifetime {
        self.ownership.lifetime
    }

    /// The image its config asked for, when the record says.
    pub fn image(&self) -> Option<&str> {
        self.spec.as_ref().map(|s| s.image.as_str())
    }

    /// The labels that say all of this (the ownership ones included), in
    /// the layout of [`RECORD_VERSION`], whatever version it was read in.
    pub fn to_labels(&self) -> HashMap<String, String> {
        let mut map = self.ownership.to_labels();
        map.insert(labels::RECORD.into(), RECORD_VERSION.to_string());
        map.insert(labels::HOSTNAME.into(), self.hostname.clone());
        map.insert(labels::ORDER.into(), self.order.to_string());
        let optional = [
            (labels::HOST_KEY, &self.host_key),
            (labels::KEY_FINGERPRINT, &self.key_fingerprint),
            (labels::CONFIG, &self.made_from),
        ];
        for (label, value) in optional {
            if let Some(value) = value {
                map.insert(label.into(), value.clone());
            }
        }
        if let Some(spec) = &self.spec {
            // A spec always serialises: it is plain data.
            map.insert(
                labels::SPEC.into(),
                serde_json::to_string(spec).unwrap_or_default(),
            );
        }
        if !self.groups.is_empty() {
            map.insert(labels::GROUPS.into(), self.groups.join(","));
        }
        if !self.ansible.is_empty() {
            // Plain JSON values: they always serialise.
            map.insert(
                labels::ANSIBLE_VARS.into(),
                serde_json::to_string(&self.ansible).unwrap_or_default(),
            );
        }
        map
    }

    /// Reads a record back from a container's labels.
    pub fn from_labels(map: &HashMap<String, String>) -> Result<MachineRecord, RecordError> {
        let version = match map.get(labels::RECORD) {
            None => 0,
            Some(text) => text.parse().map_err(|_| RecordError::Unreadable {
                label: labels::RECORD,
                reason: format!("{text:?} is not a version number"),
            })?,
        };
        if version > RECORD_VERSION {
            return Err(RecordError::Newer {
                found: version,
                supported: RECORD_VERSION,
            });
        }
        let ownership =
            Ownership::from_labels(map).ok_or(if map.contains_key(labels::CLUSTER) {
                RecordError::Missing(labels::LIFETIME)
            } else {
                RecordError::Missing(labels::CLUSTER)
            })?;
        let hostname = map
            .get(labels::HOSTNAME)
            .cloned()
            .ok_or(RecordError::Missing(labels::HOSTNAME))?;
        // The spec is what the config said, kept for reports: one this
        // footloose cannot parse (a field it does not know) reads as none
        // rather than making the whole machine unreadable.
        let spec = map
            .get(labels::SPEC)
            .and_then(|json| serde_json::from_str(json).ok());
        Ok(MachineRecord {
            version,
            ownership,
            hostname,
            order: map
                .get(labels::ORDER)
                .and_then(|o| o.parse().ok())
                .unwrap_or(u32::MAX),
            host_key: map.get(labels::HOST_KEY).cloned(),
            key_fingerprint: map.get(labels::KEY_FINGERPRINT).cloned(),
            made_from: map.get(labels::CONFIG).cloned(),
            spec,
            groups: map
                .get(labels::GROUPS)
                .map(|g| g.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            ansible: match map.get(labels::ANSIBLE_VARS) {
                None => MachineVars::default(),
                Some(json) => serde_json::from_str(json).map_err(|e| RecordError::Unreadable {
                    label: labels::ANSIBLE_VARS,
                    reason: e.to_string(),
                })?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Lifetime;
    use footloose_config::Config;

    pub(crate) fn record() -> MachineRecord {
        let config = Config::with_replicas("c", "footloose/debian12", 1);
        let mut spec = config.machines[0].spec.clone();
        spec.resources.cpus = Some(1.5);
        spec.resources.memory = Some("512Mi".into());
        MachineRecord {
            version: RECORD_VERSION,
            ownership: Ownership::new("c", Lifetime::Test, None, None),
            hostname: "node0".into(),
            order: 0,
            host_key: Some("ssh-ed25519 AAAA".into()),
            key_fingerprint: Some("SHA256:abc".into()),
            made_from: Some("/p/footloose.yaml".into()),
            spec: Some(spec),
            groups: vec!["web".into(), "db".into()],
            ansible: MachineVars {
                host: [("redis_port".to_owned(), serde_json::json!(6380))].into(),
                groups: [(
                    "web".to_owned(),
                    [("tiers".to_owned(), serde_json::json!(["a", "b"]))].into(),
                )]
                .into(),
            },
        }
    }

    #[test]
    fn a_record_round_trips_through_its_labels() {
        let record = record();
        let labels = record.to_labels();
        assert_eq!(labels[crate::labels::RECORD], "1");
        assert_eq!(MachineRecord::from_labels(&labels).unwrap(), record);
    }

    #[test]
    fn a_machine_of_an_older_footloose_reads_as_version_0() {
        let mut labels = record().to_labels();
        labels.remove(crate::labels::RECORD);
        let read = MachineRecord::from_labels(&labels).unwrap();
        assert_eq!(read.version, 0);
        assert_eq!(read.hostname, "node0");
        assert_eq!(read.image(), Some("footloose/debian12"));
    }

    #[test]
    fn a_newer_record_is_refused_with_both_versions() {
        let mut labels = record().to_labels();
        labels.insert(crate::labels::RECORD.into(), "7".into());
        let err = MachineRecord::from_labels(&labels).unwrap_err();
        assert_eq!(
            err,
            RecordError::Newer {
                found: 7,
                supported: RECORD_VERSION
            }
        );
        assert!(err.to_string().contains("upgrade footloose"), "{err}");
    }

    #[test]
    fn foreign_and_broken_labels_say_what_is_wrong() {
        let err = MachineRecord::from_labels(&HashMap::new()).unwrap_err();
        assert_eq!(err, RecordError::Missing(crate::labels::CLUSTER));
        let mut labels = record().to_labels();
        labels.insert(crate::labels::RECORD.into(), "one".into());
        assert!(matches!(
            MachineRecord::from_labels(&labels),
            Err(RecordError::Unreadable { label, .. }) if label == crate::labels::RECORD
        ));
        let mut labels = record().to_labels();
        labels.insert(
            crate::labels::SPEC.into(),
            "{\"image\": \"x\", \"newField\": 1}".into(),
        );
        let read = MachineRecord::from_labels(&labels).unwrap();
        assert_eq!((read.hostname.as_str(), read.spec), ("node0", None));
    }
}
