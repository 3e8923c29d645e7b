//! The labels footloose puts on every container, network and volume it
//! makes, and the filters that find them again. The ownership labels are
//! written and read as one typed value (`ownership::Ownership`), and a
//! machine's as one record (`record::MachineRecord`).

/// Set to `true` on everything footloose creates.
pub const MANAGED: &str = "io.footloose.managed";
/// The cluster name.
pub const CLUSTER: &str = "io.footloose.cluster";
/// The machine's hostname (containers only).
pub const HOSTNAME: &str = "io.footloose.hostname";
/// The absolute path of the config file the cluster came from.
pub const CONFIG: &str = "io.footloose.config";
/// The pid of the process that created the object.
pub const OWNER_PID: &str = "io.footloose.owner-pid";
/// The owner's start time (clock ticks since boot), so that a reused pid is
/// not mistaken for the owner.
pub const OWNER_START: &str = "io.footloose.owner-start";
/// The host's boot id when the object was made.
pub const BOOT_ID: &str = "io.footloose.boot-id";
/// The inode of the owner's pid namespace: pids of other namespaces mean
/// nothing here.
pub const OWNER_PID_NAMESPACE: &str = "io.footloose.owner-pidns";
/// The host (or container) name the owner ran on.
pub const OWNER_HOST: &str = "io.footloose.owner-host";
/// The id of the container the owner ran in, on the cluster's own engine
/// (a CI job container): once that container no longer runs, the owner is
/// provably gone, from wherever the janitor runs.
pub const OWNER_CONTAINER: &str = "io.footloose.owner-container";
/// When a test cluster's lease runs out, in seconds since the Unix epoch:
/// after it, anyone may remove the cluster (see [`crate::Verdict`]).
pub const LEASE_EXPIRES: &str = "io.footloose.lease-expires";
/// On images footloose builds: the digest of the definition they were
/// built from (see `footloose image build`).
pub const IMAGE_DEFINITION: &str = "io.footloose.definition";
/// On images footloose adapted: the reference of the image it adapted.
pub const ADAPTED_FROM: &str = "io.footloose.adapted-from";
/// On images footloose adapted: the id of the image it adapted, so that a
/// new image under the same reference is adapted again.
pub const ADAPTED_FROM_ID: &str = "io.footloose.adapted-from-id";
/// On an image, `false` asks footloose to run it as it is, not adapted:
/// footloose then copies the keys in before the machine starts, and the
/// image must bring systemd and sshd set up itself.
pub const ADAPT: &str = "io.footloose.adapt";
/// On the containers footloose makes to look inside an image it adapts
/// (never started, removed at once): the image.
pub const PROBE: &str = "io.footloose.probe";
/// The SHA-256 fingerprint of the client key the machine trusts
/// (containers only).
pub const KEY_FINGERPRINT: &str = "io.footloose.key-fingerprint";
/// The pid of the owner's watchdog process, when it has one.
pub const WATCHDOG_PID: &str = "io.footloose.watchdog-pid";
/// The watchdog's start time, as for [`OWNER_START`].
pub const WATCHDOG_START: &str = "io.footloose.watchdog-start";
/// `cli` for clusters that live until deleted, `test` for clusters that die
/// with their owner process.
pub const LIFETIME: &str = "io.footloose.lifetime";
/// The machine's ssh host public key, in OpenSSH format (containers only).
pub const HOST_KEY: &str = "io.footloose.host-key";
/// The machine's spec as JSON (containers only).
pub const SPEC: &str = "io.footloose.spec";
/// The extra Ansible groups of the machine's `machines:` entry, comma
/// separated (containers only).
pub const GROUPS: &str = "io.footloose.groups";
/// The Ansible variables the config gives the machine and its groups, as
/// JSON (containers only; see `record::MachineVars`).
pub const ANSIBLE_VARS: &str = "io.footloose.ansible-vars";
/// The machine's index in the configuration, for stable ordering.
pub const ORDER: &str = "io.footloose.order";
/// The id of the `create` call that made the object: what an interrupted
/// or failed `create` removes is exactly what carries its own id.
pub const CREATION: &str = "io.footloose.creation";
/// The version of the machine's record (containers only; see
/// `record::MachineRecord`).
pub const RECORD: &str = "io.footloose.record";

/// The pool a cluster was made for: the pool key (see `crate::pool`), on
/// its containers and networks and on its pool records.
pub const POOL: &str = "io.footloose.pool";
/// What a pool record says of its cluster: `ready` (booted, waiting for a
/// test) or `claim` (taken by a test; the claimer's ownership). Volumes
/// only.
pub const POOL_RECORD: &str = "io.footloose.pool-record";

/// How long a cluster lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lifetime {
    /// Until `footloose delete`: made by the command line.
    Cli,
    /// Until its owner process ends: made by a test.
    Test,
    /// Until a test takes it or its lease runs out: a pooled cluster,
    /// booted and waiting (written on its `ready` record only).
    Pool,
}

impl Lifetime {
    /// The label value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Lifetime::Cli => "cli",
            Lifetime::Test => "test",
            Lifetime::Pool => "pool",
        }
    }
}

/// The labels that select footloose's objects, of one cluster or of all
/// (`key=value`, or a bare key: any value). An object of no cluster is not
/// footloose's: a container a user ran from an image footloose built
/// inherits the image's `io.footloose.managed` label, and is left alone.
pub fn selector(cluster: Option<&str>) -> Vec<String> {
    let mut labels = vec![format!("{MANAGED}=true")];
    match cluster {
        Some(cluster) => labels.push(format!("{CLUSTER}={cluster}")),
        None => labels.push(CLUSTER.to_owned()),
    }
    labels
}
