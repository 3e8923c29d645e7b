//! footloose's container plan as an Incus instance, and an Incus instance
//! as footloose's [`ContainerInfo`].
//!
//! What a Docker container gets from its create request, an Incus system
//! container gets from its config and devices:
//!
//! - labels are `user.*` config keys ([`keys`](super::keys));
//! - published ports are `proxy` devices, listening on the engine's host
//!   and connecting to the port inside the machine (so sshd is reached
//!   before, and whatever, the machine's own network does);
//! - PID 1's environment is `environment.*` keys;
//! - PID 1 is the image's init: Incus starts `/sbin/init`, in a user
//!   namespace of the container's own, with the cgroup tree, `/run` and
//!   `/tmp` as systemd wants them, so the plan's tmpfs mounts, cgroup
//!   binds, capabilities and seccomp options (Docker's ways to the same
//!   end) are not asked for;
//! - `/sys` is mounted read-only, as systemd's container interface says
//!   (Docker does so too). Incus mounts it writable, and then
//!   systemd-networkd waits for udev (absent in a container) to announce
//!   each link and never configures the network;
//! - volumes are custom storage volumes and bind mounts `disk` devices.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::keys;
use crate::backend::model::{ContainerInfo, ContainerStatus, PublishedPort};
use crate::container_spec::{ContainerPlan, MountPlan};

/// What Incus says of a never-started instance's `last_used_at`.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// The `raw.lxc` every machine gets: `/sys` read-only (see the module
/// documentation).
pub(super) const RAW_LXC: &str = "lxc.mount.auto = sys:ro";

/// Reads `null` as the type's default: Incus writes `null` for an empty
/// map or an absent state (an instance being created or deleted).
pub(super) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An instance as `GET /1.0/instances?recursion=2` reports it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Instance {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) status: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) config: HashMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) expanded_devices: HashMap<String, HashMap<String, String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) last_used_at: String,
    #[serde(default)]
    pub(super) state: Option<State>,
}

/// An instance's live state.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct State {
    #[serde(default)]
    pub(super) network: Option<HashMap<String, Nic>>,
}

/// One network interface inside an instance.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Nic {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) addresses: Vec<Address>,
}

/// One address of an interface.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Address {
    #[serde(default)]
    pub(super) family: String,
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) scope: String,
}

impl Instance {
    /// footloose's view of it.
    pub(super) fn info(&self) -> ContainerInfo {
        // A machine that reboots is `Stopped` for a moment while Incus
        // starts it again; only a poweroff (or a stop) records the power
        // as off.
        let rebooting = self.status == "Stopped"
            && self
                .config
                .get("volatile.last_state.power")
                .map(String::as_str)
                == Some("RUNNING");
        let status = match self.status.as_str() {
            _ if rebooting => Some(ContainerStatus::Restarting),
            "Running" | "Stopping" => Some(ContainerStatus::Running),
            "Stopped" if self.last_used_at.is_empty() || self.last_used_at == NEVER => {
                Some(ContainerStatus::Created)
            }
            "Stopped" => Some(ContainerStatus::Exited),
            "Frozen" | "Freezing" => Some(ContainerStatus::Paused),
            "Starting" | "Thawed" => Some(ContainerStatus::Restarting),
            "Error" | "Aborting" => Some(ContainerStatus::Dead),
            _ => None,
        };
        let mut networks = BTreeMap::new();
        let mut ports = Vec::new();
        let mut nics: Vec<_> = self.expanded_devices.iter().collect();
        nics.sort_by(|a, b| a.0.cmp(b.0));
        for (device, config) in nics {
            match config.get("type").map(String::as_str) {
                Some("nic") => {
                    let Some(network) = config.get("network").or_else(|| config.get("parent"))
                    else {
                        continue;
                    };
                    let inside = config.get("name").unwrap_or(device);
                    networks.insert(network.clone(), self.ipv4_of(inside));
                }
                Some("proxy") => ports.extend(published(config)),
                _ => {}
            }
        }
        ContainerInfo {
            id: self.name.clone(),
            name: self.name.clone(),
            image: self.config.get(keys::IMAGE).cloned().unwrap_or_default(),
            command: "/sbin/init".to_owned(),
            status,
            // As the guest contract has it: a machine that reboots exits
            // with the reboot code, and the engine starts it again.
            exit_code: rebooting.then_some(crate::guest::REBOOT_EXIT_CODE),
            error: None,
            started_at: (!self.last_used_at.is_empty() && self.last_used_at != NEVER)
                .then(|| self.last_used_at.clone()),
            labels: keys::labels(&self.config),
            network_mode: String::new(),
            networks,
            ports,
        }
    }

    /// The global IPv4 address of the interface named `inside`.
    fn ipv4_of(&self, inside: &str) -> Option<IpAddr> {
        let nic = self.state.as_ref()?.network.as_ref()?.get(inside)?;
        nic.addresses
            .iter()
            .filter(|a| a.family == "inet" && a.scope == "global")
            .find_map(|a| a.address.parse().ok())
    }
}

/// The published port of a `proxy` device (`listen=tcp:ADDR:PORT`,
/// `connect=tcp:127.0.0.1:PORT`).
fn published(config: &HashMap<String, String>) -> Option<PublishedPort> {
    let (protocol, listen) = config.get("listen")?.split_once(':')?;
    let (address, host) = listen.rsplit_once(':')?;
    let (_, connect) = config.get("connect")?.split_once(':')?;
    let (_, guest) = connect.rsplit_once(':')?;
    Some(PublishedPort {
        guest: guest.parse().ok()?,
        host: host.parse().ok()?,
        address: address.trim_matches(['[', ']']).to_owned(),
        protocol: protocol.to_owned(),
    })
}

/// Why a plan cannot become an Incus instance.
#[derive(Debug, thiserror::Error)]
pub(super) enum PlanError {
    /// A port without a host port: Incus's proxy devices need one.
    #[error("port {port}/{protocol} has no host port: Incus's proxy devices need one (give `hostPort`, or run footloose on the engine's host, where it picks a free one)")]
    NoHostPort {
        /// The port inside the machine.
        port: u16,
        /// `tcp` or `udp`.
        protocol: String,
    },
    /// An environment value Incus's config cannot hold.
    #[error("environment variable {name} has a line break, which Incus's `environment.*` keys cannot hold")]
    MultiLineEnvironment {
        /// The variable.
        name: String,
    },
}

/// The create request (`POST /1.0/instances`) for `plan`, its image known
/// to Incus as `alias`, its volumes in `pool`.
/// On a clustered daemon (`clustered`), sshd's port is never proxied: a
/// proxy listens on the member that holds the machine, which is not where
/// footloose runs; the machine is reached at its address.
pub(super) fn create_request(
    plan: &ContainerPlan,
    alias: &str,
    pool: &str,
    clustered: bool,
) -> Result<Value, PlanError> {
    let mut config = Map::new();
    for (key, value) in keys::config(&plan.labels) {
        config.insert(key, Value::String(value));
    }
    config.insert(keys::IMAGE.to_owned(), Value::String(plan.image.clone()));
    let mut raw_lxc = RAW_LXC.to_owned();
    // Incus asks PID 1 to halt with SIGPWR, which systemd does not take
    // as a poweroff: the machine's stop signal (SIGRTMIN+3) is.
    if !plan.stop_signal.is_empty() {
        raw_lxc.push_str(&format!("\nlxc.signal.halt = {}", plan.stop_signal));
    }
    if !plan.cmd.is_empty() && plan.cmd != ["/sbin/init"] {
        raw_lxc.push_str(&format!("\nlxc.init.cmd = {}", plan.cmd.join(" ")));
    }
    config.insert("raw.lxc".to_owned(), Value::String(raw_lxc));
    for (key, value) in limits(plan) {
        config.insert(key.to_owned(), Value::String(value));
    }
    for entry in &plan.env {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        if value.contains('\n') {
            return Err(PlanError::MultiLineEnvironment {
                name: name.to_owned(),
            });
        }
        config.insert(
            format!("environment.{name}"),
            Value::String(value.to_owned()),
        );
    }
    let mut devices = Map::new();
    // Without a network of its own, the machine keeps the profile's
    // interface, whatever it is (a managed network, or a bridge of the
    // host's).
    if let Some(network) = plan.network.as_deref() {
        devices.insert(
            "eth0".to_owned(),
            json!({"type": "nic", "name": "eth0", "network": super::networks::incus_name(network)}),
        );
    }
    for (index, extra) in plan.extra_networks.iter().enumerate() {
        devices.insert(
            format!("eth{}", index + 1),
            json!({"type": "nic", "name": format!("eth{}", index + 1), "network": super::networks::incus_name(extra)}),
        );
    }
    for port in &plan.ports {
        // sshd's port, left to the engine to pick (an engine footloose
        // does not run beside): the machine is reached at its address.
        let ssh = port.container_port == 22 && port.protocol == "tcp";
        if ssh && (port.host_port.is_none() || clustered) {
            continue;
        }
        let host = port.host_port.ok_or_else(|| PlanError::NoHostPort {
            port: port.container_port,
            protocol: port.protocol.clone(),
        })?;
        let address = match port.host_ip.as_str() {
            "" => "0.0.0.0".to_owned(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_owned(),
        };
        devices.insert(
            format!("port-{}-{}", port.protocol, port.container_port),
            json!({
                "type": "proxy",
                "listen": format!("{}:{address}:{host}", port.protocol),
                "connect": format!("{}:127.0.0.1:{}", port.protocol, port.container_port),
            }),
        );
    }
    for (index, mount) in plan.mounts.iter().enumerate() {
        let device = match mount {
            MountPlan::Volume {
                name: Some(name),
                target,
                read_only,
                ..
            } => {
                json!({"type": "disk", "pool": pool, "source": name, "path": target, "readonly": read_only.to_string()})
            }
            MountPlan::Volume {
                name: None,
                target,
                read_only,
                ..
            } => {
                // An anonymous volume lives and dies with the machine: a
                // volume of its own, named after it.
                json!({"type": "disk", "pool": pool, "source": anonymous_volume(&plan.name, index), "path": target, "readonly": read_only.to_string()})
            }
            MountPlan::Bind {
                source,
                target,
                read_only,
            } => {
                json!({"type": "disk", "source": source, "path": target, "readonly": read_only.to_string(), "shift": "true"})
            }
        };
        devices.insert(format!("mount{index}"), device);
    }
    Ok(json!({
        "name": plan.name,
        "type": "container",
        "source": {"type": "image", "alias": alias},
        "config": config,
        "devices": devices,
        "start": false,
    }))
}

/// The spec's `resources` as Incus's `limits.*`: as many CPUs as the
/// share rounds up to (what `nproc` shows in the machine), a hard quota of
/// the share itself, and the memory limit.
fn limits(plan: &ContainerPlan) -> Vec<(&'static str, String)> {
    let mut limits = Vec::new();
    if let Some(nano) = plan.nano_cpus {
        let count = (nano + 999_999_999) / 1_000_000_000;
        limits.push(("limits.cpu", count.max(1).to_string()));
        // Per 100 ms of time, the share's milliseconds (at least 1).
        let per_100ms = (nano / 10_000_000).max(1);
        limits.push(("limits.cpu.allowance", format!("{per_100ms}ms/100ms")));
    }
    if let Some(bytes) = plan.memory_bytes {
        limits.push(("limits.memory", format!("{bytes}B")));
    }
    limits
}

/// The name of the custom volume behind the `index`th mount of machine
/// `name`, when the config names none.
pub(super) fn anonymous_volume(name: &str, index: usize) -> String {
    format!("{name}-mount{index}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_spec::PortPublish;

    fn instance(value: Value) -> Instance {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_instance_reads_as_a_container_with_its_labels_addresses_and_ports() {
        let found = instance(json!({
            "name": "demo-node0",
            "status": "Running",
            "last_used_at": "2026-12-07T16:21:15Z",
            "config": {"user.footloose.cluster": "demo", "user.image": "footloose/debian12", "volatile.uuid": "x"},
            "expanded_devices": {
                "eth0": {"type": "nic", "network": "incusbr0", "name": "eth0"},
                "port-tcp-22": {"type": "proxy", "listen": "tcp:127.0.0.1:40022", "connect": "tcp:127.0.0.1:22"},
                "root": {"type": "disk", "path": "/", "pool": "default"}
            },
            "state": {"network": {"eth0": {"addresses": [
                {"family": "inet6", "address": "fe80::1", "scope": "link"},
                {"family": "inet", "address": "10.221.7.15", "scope": "global"}
            ]}}}
        }));
        let info = found.info();
        assert!(info.is_running());
        assert_eq!(
            info.labels.get("io.footloose.cluster").map(String::as_str),
            Some("demo")
        );
        assert_eq!(info.image, "footloose/debian12");
        assert_eq!(info.ip(), Some("10.221.7.15".parse().unwrap()));
        assert_eq!(
            info.ports,
            vec![PublishedPort {
                guest: 22,
                host: 40022,
                address: "127.0.0.1".to_owned(),
                protocol: "tcp".to_owned()
            }]
        );
    }

    #[test]
    fn an_instance_half_made_or_half_gone_reads_with_nulls_as_empty() {
        let half = instance(json!({"name": "a", "status": "Stopped", "config": null,
            "expanded_devices": null, "state": null, "last_used_at": null}));
        assert!(half.info().labels.is_empty());
        let listing: Vec<Instance> = serde_json::from_value(json!([
            {"name": "a", "config": null}, {"name": "b", "state": {"network": null}}
        ]))
        .unwrap();
        assert_eq!(listing.len(), 2);
    }

    #[test]
    fn a_never_started_instance_is_created_and_a_stopped_one_exited() {
        let created = instance(json!({"name": "a", "status": "Stopped", "last_used_at": NEVER}));
        assert_eq!(created.info().status, Some(ContainerStatus::Created));
        let stopped = instance(
            json!({"name": "a", "status": "Stopped", "last_used_at": "2026-12-07T16:21:15Z"}),
        );
        assert_eq!(stopped.info().status, Some(ContainerStatus::Exited));
        assert_eq!(stopped.info().ip(), None);
        let rebooting = instance(
            json!({"name": "a", "status": "Stopped", "last_used_at": "2026-12-07T16:21:15Z",
            "config": {"volatile.last_state.power": "RUNNING"}}),
        );
        assert_eq!(rebooting.info().status, Some(ContainerStatus::Restarting));
        assert_eq!(
            rebooting.info().exit_code,
            Some(crate::guest::REBOOT_EXIT_CODE)
        );
    }

    fn plan() -> ContainerPlan {
        ContainerPlan {
            name: "demo-node0".to_owned(),
            image: "footloose/debian12".to_owned(),
            hostname: "node0".to_owned(),
            cmd: vec!["/sbin/init".to_owned()],
            env: vec!["FOOTLOOSE_USER_MANAGER=1".to_owned()],
            labels: HashMap::from([("io.footloose.cluster".to_owned(), "demo".to_owned())]),
            ports: vec![PortPublish {
                container_port: 22,
                protocol: "tcp".to_owned(),
                host_ip: "127.0.0.1".to_owned(),
                host_port: Some(40022),
            }],
            tmpfs: Default::default(),
            binds: vec!["/sys/fs/cgroup:/sys/fs/cgroup:rw".to_owned()],
            mounts: vec![],
            cgroupns: crate::container_spec::CgroupNamespace::Private,
            privileged: false,
            cap_add: vec![],
            cap_drop: vec![],
            security_opt: vec![],
            allow_user_namespaces: false,
            network: None,
            extra_networks: vec![],
            stop_signal: "SIGRTMIN+3".to_owned(),
            nano_cpus: Some(1_500_000_000),
            memory_bytes: Some(512 << 20),
            restart_on_failure: true,
        }
    }

    #[test]
    fn a_plan_becomes_an_instance_with_keys_environment_and_a_proxy_for_each_port() {
        let request = create_request(&plan(), "footloose/debian12", "default", false).unwrap();
        assert_eq!(request["source"]["alias"], "footloose/debian12");
        assert_eq!(request["config"]["user.footloose.cluster"], "demo");
        assert_eq!(request["config"]["environment.FOOTLOOSE_USER_MANAGER"], "1");
        assert_eq!(
            request["config"]["raw.lxc"],
            format!("{RAW_LXC}\nlxc.signal.halt = SIGRTMIN+3")
        );
        // The profile's interface: no network of the machine's own.
        assert!(request["devices"].get("eth0").is_none());
        assert_eq!(
            request["devices"]["port-tcp-22"]["listen"],
            "tcp:127.0.0.1:40022"
        );
        assert_eq!(
            request["devices"]["port-tcp-22"]["connect"],
            "tcp:127.0.0.1:22"
        );
        assert_eq!(request["start"], false);
        assert_eq!(request["config"]["limits.cpu"], "2");
        assert_eq!(request["config"]["limits.cpu.allowance"], "150ms/100ms");
        assert_eq!(request["config"]["limits.memory"], "536870912B");
        // And it reads back as the ports the plan asked for.
        let back = instance(json!({"name": "demo-node0", "expanded_devices": request["devices"]}));
        assert_eq!(back.info().ports[0].host, 40022);
    }

    #[test]
    fn what_incus_cannot_hold_is_refused_with_the_reason() {
        let mut unpicked = plan();
        unpicked.ports[0].host_port = None;
        unpicked.ports[0].container_port = 80;
        let err = create_request(&unpicked, "x", "default", false).unwrap_err();
        assert!(
            err.to_string().starts_with("port 80/tcp has no host port"),
            "{err}"
        );
        // sshd's, on an engine footloose does not run beside: the machine
        // is reached at its address.
        unpicked.ports[0].container_port = 22;
        let request = create_request(&unpicked, "x", "default", false).unwrap();
        assert!(request["devices"].get("port-tcp-22").is_none());
        let mut multiline = plan();
        multiline.env.push("KEY=a\nb".to_owned());
        let err = create_request(&multiline, "x", "default", false).unwrap_err();
        assert!(err.to_string().contains("KEY"), "{err}");
    }
}
