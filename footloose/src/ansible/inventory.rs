//! The Ansible inventory of a cluster, as data first and YAML last.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::AnsibleError;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::{host_key_alias, openssh_options, MachineStatus};

/// One machine as Ansible reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InventoryHost {
    /// The inventory host name: the machine's hostname.
    pub hostname: String,
    /// The container name: the `HostKeyAlias` its pinned key is filed under.
    pub container: String,
    /// Where its sshd answers, when it runs.
    pub ssh: Option<SocketAddr>,
    /// Its groups besides `all`.
    pub groups: BTreeSet<String>,
    /// The Ansible variables the config gives it and its groups.
    pub vars: crate::MachineVars,
}

/// A cluster's inventory: every machine, its groups, and how ssh trusts it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inventory {
    /// The machines, in configuration order.
    pub hosts: Vec<InventoryHost>,
    /// The cluster's private key, absolute.
    pub private_key: PathBuf,
    /// The `known_hosts` file with the machines' pinned host keys.
    pub known_hosts: PathBuf,
    /// For an engine over ssh, `user@host:port` of its host: ssh reaches
    /// the machines through it (`ProxyJump`, with the user's own ssh
    /// configuration for that hop).
    pub jump: Option<String>,
}

impl Inventory {
    /// The inventory of `cluster`'s `machines` (from [`crate::status`]):
    /// each in the cluster's group, the group of its `machines:` entry
    /// (its name pattern without `%d`: `web%d` is `web`) and the entry's
    /// `groups`, with the variables the config gives hosts and groups.
    pub fn of(
        cluster: &str,
        machines: &[MachineStatus],
        private_key: PathBuf,
        known_hosts: PathBuf,
    ) -> Inventory {
        let hosts = machines
            .iter()
            .map(|m| {
                let mut groups = BTreeSet::from([group_name(cluster)]);
                if let Some(pattern) = m.spec.as_ref().map(|s| s.name.as_str()) {
                    groups.insert(group_name(&pattern.replacen("%d", "", 1)));
                }
                groups.extend(m.groups.iter().cloned());
                InventoryHost {
                    hostname: m.hostname.clone(),
                    container: m.container.clone(),
                    ssh: m.ssh_endpoint(),
                    groups,
                    vars: m.record.ansible.clone(),
                }
            })
            .collect();
        Inventory {
            hosts,
            private_key,
            known_hosts,
            jump: None,
        }
    }

    /// The inventory in Ansible's YAML format. ssh checks host keys
    /// strictly against [`known_hosts`](Self::known_hosts).
    pub fn to_yaml(&self) -> Result<String> {
        #[derive(Serialize)]
        struct Document<'a> {
            all: All<'a>,
        }
        #[derive(Serialize)]
        struct All<'a> {
            hosts: BTreeMap<&'a str, HostVars<'a>>,
            vars: serde_json::Map<String, serde_json::Value>,
            children: BTreeMap<&'a str, Group<'a>>,
        }
        #[derive(Serialize)]
        struct HostVars<'a> {
            // The config's first: footloose's own (which the config may
            // not set) cannot be overridden.
            #[serde(flatten)]
            config: &'a footloose_config::AnsibleVars,
            #[serde(skip_serializing_if = "Option::is_none")]
            ansible_host: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ansible_port: Option<u16>,
            ansible_ssh_extra_args: String,
        }
        #[derive(Serialize, Default)]
        struct Group<'a> {
            hosts: BTreeMap<&'a str, ()>,
            #[serde(skip_serializing_if = "Option::is_none")]
            vars: Option<&'a footloose_config::AnsibleVars>,
        }

        let mut children: BTreeMap<&str, Group> = BTreeMap::new();
        let mut all_vars: Option<&footloose_config::AnsibleVars> = None;
        for host in &self.hosts {
            for group in &host.groups {
                let entry = children.entry(group).or_default();
                entry.hosts.insert(&host.hostname, ());
                // Every machine of a group carries the same group vars
                // (one config made them): the first one's are the group's.
                if entry.vars.is_none() {
                    entry.vars = host.vars.groups.get(group);
                }
            }
            all_vars = all_vars.or(host.vars.groups.get("all"));
        }
        let document = Document {
            all: All {
                hosts: self
                    .hosts
                    .iter()
                    .map(|h| {
                        let vars = HostVars {
                            config: &h.vars.host,
                            ansible_host: h.ssh.map(|a| a.ip().to_string()),
                            ansible_port: h.ssh.map(|a| a.port()),
                            ansible_ssh_extra_args: format!("-o {}", host_key_alias(&h.container)),
                        };
                        (h.hostname.as_str(), vars)
                    })
                    .collect(),
                vars: {
                    // The config's `all` vars may set the interpreter and
                    // pipelining, not how footloose reaches the machines.
                    let mut vars = serde_json::Map::new();
                    vars.insert(
                        "ansible_python_interpreter".into(),
                        "/usr/bin/python3".into(),
                    );
                    // A module is sent down the ssh connection it runs on
                    // instead of copied first: fewer round trips a task
                    // (Molecule's scenario template sets it too). As root
                    // there is no sudo `requiretty` to trip on.
                    vars.insert("ansible_pipelining".into(), true.into());
                    vars.extend(
                        all_vars
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                    vars.insert("ansible_user".into(), "root".into());
                    vars.insert(
                        "ansible_ssh_private_key_file".into(),
                        self.private_key.display().to_string().into(),
                    );
                    vars.insert(
                        "ansible_ssh_common_args".into(),
                        openssh_options(&self.known_hosts)
                            .into_iter()
                            .chain(self.jump.as_ref().map(|jump| format!("ProxyJump={jump}")))
                            .map(|option| format!("-o {option}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                            .into(),
                    );
                    vars
                },
                children,
            },
        };
        serde_yaml::to_string(&document).map_err(|source| AnsibleError::Inventory { source }.into())
    }
}

/// `text` as an Ansible group name: every character other than a letter,
/// digit or `_` becomes `_`, trailing ones are dropped, and a leading digit
/// gets a `_` before it (`web-%d` is `web`, `my-cluster` is `my_cluster`).
pub fn group_name(text: &str) -> String {
    footloose_config::ansible_group_name(text)
}

/// The Ansible inventory of `cluster` as it runs now (YAML), with its
/// `known_hosts` written into the cluster's state directory, as the
/// environment's settings place it ([`inventory_with`] takes others).
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let yaml = footloose::ansible::inventory(engine, "demo", "cluster-key".as_ref()).await?;
/// # Ok(()) }
/// ```
pub async fn inventory(engine: &Engine, cluster: &str, key_path: &Path) -> Result<String> {
    inventory_with(engine, cluster, key_path, &crate::Settings::from_env()).await
}

/// [`inventory`], its `known_hosts` in the state directory `settings` say.
///
/// ```no_run
/// # async fn demo(engine: &footloose::engine::Engine) -> footloose::Result<()> {
/// let settings = footloose::Settings::from_env();
/// let yaml = footloose::ansible::inventory_with(engine, "demo", "cluster-key".as_ref(), &settings).await?;
/// # Ok(()) }
/// ```
pub async fn inventory_with(
    engine: &Engine,
    cluster: &str,
    key_path: &Path,
    settings: &crate::Settings,
) -> Result<String> {
    let machines = crate::status(engine, Some(cluster)).await?;
    if machines.is_empty() {
        return Err(Error::NoMachines {
            cluster: cluster.to_owned(),
        });
    }
    let known_hosts = crate::cluster::write_known_hosts(settings, cluster, &machines)?;
    let key = std::path::absolute(key_path).unwrap_or_else(|_| key_path.to_owned());
    let mut inventory = Inventory::of(cluster, &machines, key, known_hosts);
    inventory.jump = engine.ssh_jump();
    inventory.to_yaml()
}

/// Where the inventory of `cluster` is written for a playbook run.
pub(crate) fn inventory_path(settings: &crate::Settings, cluster: &str) -> PathBuf {
    settings.state_dir(cluster).join("inventory.yml")
}

impl crate::Cluster {
    /// The cluster's Ansible inventory (YAML): every machine by hostname,
    /// reached on its published ssh port with the cluster's key, its host
    /// key checked strictly against a `known_hosts` that footloose writes;
    /// groups for the cluster, each `machines:` entry and its `groups`.
    /// The `known_hosts` goes in the cluster's state directory (as its
    /// [`settings`](Self::settings) say). See [`crate::ansible`].
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let yaml = cluster.ansible_inventory()?;
    /// assert!(yaml.contains("node0"));
    /// # Ok(()) }
    /// ```
    pub fn ansible_inventory(&self) -> Result<String> {
        let (engine, name, key) = (
            self.engine.clone(),
            self.name.clone(),
            self.key_path.clone(),
        );
        let settings = self.settings.clone();
        crate::runtime::block_on(
            async move { inventory_with(&engine, &name, &key, &settings).await },
        )
    }

    /// Writes [`ansible_inventory`](Self::ansible_inventory) to `path` and
    /// returns the path.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// let inventory = cluster.write_ansible_inventory("target/inventory.yaml")?;
    /// let status = std::process::Command::new("ansible-playbook")
    ///     .arg("-i")
    ///     .arg(&inventory)
    ///     .arg("site.yml")
    ///     .status();
    /// # Ok(()) }
    /// ```
    pub fn write_ansible_inventory(&self, path: impl Into<PathBuf>) -> Result<PathBuf> {
        let path = path.into();
        let text = self.ansible_inventory()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io("cannot write", &path, e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PublishedPort;

    fn machine(hostname: &str, pattern: &str, groups: &[&str], port: u16) -> MachineStatus {
        let mut spec = crate::Config::with_replicas("c-1", "footloose/debian12", 1).machines[0]
            .spec
            .clone();
        spec.name = pattern.to_owned();
        let record = crate::MachineRecord {
            version: crate::record::RECORD_VERSION,
            ownership: crate::ownership::Ownership::new(
                "c-1",
                crate::labels::Lifetime::Cli,
                None,
                None,
            ),
            hostname: hostname.into(),
            order: 0,
            host_key: None,
            key_fingerprint: None,
            made_from: None,
            spec: Some(spec),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ansible: Default::default(),
        };
        let container = crate::engine::ContainerInfo {
            id: String::new(),
            name: format!("c-1-{hostname}"),
            image: "footloose/debian12".into(),
            command: "/sbin/init".into(),
            status: Some(crate::engine::ContainerStatus::Running),
            exit_code: None,
            error: None,
            started_at: None,
            labels: record.to_labels(),
            network_mode: "bridge".into(),
            networks: [("bridge".to_owned(), Some([172, 17, 0, 2].into()))].into(),
            ports: vec![PublishedPort {
                guest: 22,
                host: port,
                address: "127.0.0.1".into(),
                protocol: "tcp".into(),
            }],
        };
        MachineStatus::of(
            &container,
            record,
            &crate::engine::Route::Published {
                host: std::net::IpAddr::from([127, 0, 0, 1]),
            },
        )
    }

    #[test]
    fn group_names_follow_ansible_rules() {
        assert_eq!(group_name("web"), "web");
        assert_eq!(group_name("web-"), "web");
        assert_eq!(group_name("my-cluster.1"), "my_cluster_1");
        assert_eq!(group_name("1st"), "_1st");
        assert_eq!(group_name(""), "_");
    }

    #[test]
    fn hosts_are_grouped_and_reached_on_their_published_port() {
        let machines = [
            machine("web0", "web%d", &["frontend"], 32768),
            machine("web1", "web%d", &["frontend"], 32769),
            machine("db0", "db%d", &[], 32770),
        ];
        let inventory = Inventory::of(
            "c-1",
            &machines,
            "/k/cluster-key".into(),
            "/s/known_hosts".into(),
        );
        let yaml: serde_yaml::Value = serde_yaml::from_str(&inventory.to_yaml().unwrap()).unwrap();
        let all = &yaml["all"];
        assert_eq!(all["hosts"]["web1"]["ansible_host"], "127.0.0.1");
        assert_eq!(all["hosts"]["web1"]["ansible_port"], 32769);
        assert_eq!(
            all["hosts"]["db0"]["ansible_ssh_extra_args"],
            "-o HostKeyAlias=c-1-db0"
        );
        assert_eq!(all["vars"]["ansible_user"], "root");
        assert_eq!(all["vars"]["ansible_pipelining"], true);
        assert_eq!(
            all["vars"]["ansible_ssh_private_key_file"],
            "/k/cluster-key"
        );
        let common = all["vars"]["ansible_ssh_common_args"].as_str().unwrap();
        assert!(common.contains("StrictHostKeyChecking=yes"), "{common}");
        assert!(
            common.contains("UserKnownHostsFile=/s/known_hosts"),
            "{common}"
        );
        let members = |group: &str| -> Vec<String> {
            all["children"][group]["hosts"]
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(members("c_1"), ["db0", "web0", "web1"]);
        assert_eq!(members("web"), ["web0", "web1"]);
        assert_eq!(members("frontend"), ["web0", "web1"]);
        assert_eq!(members("db"), ["db0"]);
    }

    #[test]
    fn the_configs_vars_are_host_and_group_vars() {
        let mut web0 = machine("web0", "web%d", &["frontend"], 32768);
        web0.record.ansible = crate::MachineVars {
            host: [("http_port".to_owned(), serde_json::json!(8080))].into(),
            groups: [
                (
                    "frontend".to_owned(),
                    [("tier".to_owned(), serde_json::json!("front"))].into(),
                ),
                (
                    "all".to_owned(),
                    [
                        (
                            "ntp".to_owned(),
                            serde_json::json!({"server": "ntp.example"}),
                        ),
                        (
                            "ansible_python_interpreter".to_owned(),
                            serde_json::json!("/opt/py"),
                        ),
                        ("ansible_pipelining".to_owned(), serde_json::json!(false)),
                    ]
                    .into(),
                ),
            ]
            .into(),
        };
        let machines = [web0, machine("db0", "db%d", &[], 32770)];
        let inventory = Inventory::of("c-1", &machines, "/k".into(), "/s".into());
        let yaml: serde_yaml::Value = serde_yaml::from_str(&inventory.to_yaml().unwrap()).unwrap();
        let all = &yaml["all"];
        assert_eq!(all["hosts"]["web0"]["http_port"], 8080);
        assert_eq!(all["hosts"]["web0"]["ansible_port"], 32768);
        assert!(all["hosts"]["db0"].get("http_port").is_none());
        assert_eq!(all["children"]["frontend"]["vars"]["tier"], "front");
        assert!(all["children"]["db"].get("vars").is_none());
        assert_eq!(all["vars"]["ntp"]["server"], "ntp.example");
        assert_eq!(all["vars"]["ansible_python_interpreter"], "/opt/py");
        assert_eq!(all["vars"]["ansible_pipelining"], false);
        assert_eq!(all["vars"]["ansible_user"], "root");
    }
}
