//! What a machine mounts: the tmpfs systemd wants and the config's own,
//! the config's volumes, and its bind mounts resolved to host paths.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use footloose_config::{MachineInstance, VolumeType};

/// The tmpfs mounts every machine gets: systemd expects these to be
/// memory-backed and empty at boot.
pub const BASE_TMPFS: [(&str, &str); 3] = [
    ("/run", "rw,nosuid,nodev,exec,mode=755"),
    ("/run/lock", "rw,nosuid,nodev,noexec,size=5m"),
    ("/tmp", "rw,nosuid,nodev,exec"),
];

/// A mount besides the tmpfs ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountPlan {
    /// An engine volume: named, or anonymous without `name`.
    Volume {
        /// The volume's name.
        name: Option<String>,
        /// The path inside the machine.
        target: String,
        /// Mounted read-only.
        read_only: bool,
        /// Labels for a volume the engine creates.
        labels: HashMap<String, String>,
    },
    /// A path of the engine's host.
    Bind {
        /// The host path, absolute.
        source: String,
        /// The path inside the machine.
        target: String,
        /// Mounted read-only.
        read_only: bool,
    },
}

/// The tmpfs mounts of `machine`: path and options, [`BASE_TMPFS`]
/// unless the engine's systemd mode mounts them itself, and the spec's.
pub(super) fn tmpfs(machine: &MachineInstance, systemd_mode: bool) -> BTreeMap<String, String> {
    let spec = &machine.spec;
    // Podman's systemd mode mounts these itself.
    let base_tmpfs = if systemd_mode {
        &[][..]
    } else {
        &BASE_TMPFS[..]
    };
    let mut tmpfs: BTreeMap<String, String> = base_tmpfs
        .iter()
        .map(|(path, options)| (path.to_string(), options.to_string()))
        .collect();
    for path in &spec.tmpfs {
        tmpfs.insert(path.clone(), "rw,nosuid,nodev,exec".to_owned());
    }
    tmpfs
}

/// The volumes and bind mounts of `machine`: `labels` go on the volumes
/// the engine creates; relative bind sources are resolved against
/// `config_dir` (and `~` against the settings' home).
pub(super) fn mounts(
    machine: &MachineInstance,
    labels: &HashMap<String, String>,
    config_dir: &Path,
    settings: &crate::Settings,
) -> Vec<MountPlan> {
    let spec = &machine.spec;
    spec.volumes
        .iter()
        .filter_map(|volume| match volume.kind {
            VolumeType::Volume => Some(MountPlan::Volume {
                name: volume.source.clone(),
                target: volume.destination.clone(),
                read_only: volume.read_only,
                labels: labels.clone(),
            }),
            VolumeType::Bind => Some(MountPlan::Bind {
                source: settings
                    .resolve_path(volume.source.as_deref().unwrap_or_default(), config_dir)
                    .display()
                    .to_string(),
                target: volume.destination.clone(),
                read_only: volume.read_only,
            }),
            // A kind of a newer footloose-config than this footloose knows.
            other => {
                tracing::warn!(
                    "{}: footloose does not know volumes of type {other:?}; {} is left out",
                    machine.hostname,
                    volume.destination
                );
                None
            }
        })
        .collect()
}
