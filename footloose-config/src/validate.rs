//! Checks of what serde cannot see: values that parse but cannot work.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::model::{AnsibleVars, Backend, Config, MachineSpec, VolumeType};

/// The inventory variables footloose sets itself, to reach the machines.
const FOOTLOOSE_VARS: [&str; 6] = [
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
];

/// Label keys footloose sets itself; user labels may not use this prefix.
const RESERVED_LABEL_PREFIX: &str = "io.footloose.";

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) field: String,
    pub(crate) message: String,
}

fn problem(field: String, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

/// Every problem of `config`, in document order.
pub(crate) fn check(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !is_valid_cluster_name(&config.cluster.name) {
        problems.push(problem(
            "cluster.name".into(),
            format!(
                "`{}` is not a valid cluster name: use 1 to 40 letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                config.cluster.name
            ),
        ));
    }
    if config.cluster.private_key.trim().is_empty() {
        problems.push(problem("cluster.privateKey".into(), "must be a file path"));
    }
    if let Some(address) = &config.cluster.publish_address {
        if address.parse::<std::net::IpAddr>().is_err() {
            problems.push(problem(
                "cluster.publishAddress".into(),
                format!("`{address}` is not an IP address"),
            ));
        }
    }
    if let Some(reach) = &config.cluster.reach {
        if let Err(error) = reach.parse::<crate::Reach>() {
            problems.push(problem("cluster.reach".into(), error.to_string()));
        }
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, entry) in config.machines.iter().enumerate() {
        let base = format!("machines[{i}].spec");
        check_spec(&base, &entry.spec, entry.count, &mut problems);
        for (j, group) in entry.groups.iter().enumerate() {
            if !is_valid_group_name(group) {
                problems.push(problem(
                    format!("machines[{i}].groups[{j}]"),
                    format!("`{group}` is not an Ansible group name: use letters, digits and `_`, not starting with a digit, and not `all` or `ungrouped`"),
                ));
            }
        }
        check_vars(
            &format!("machines[{i}].ansible.vars"),
            &entry.ansible.vars,
            &mut problems,
        );
        if template_is_valid(&entry.spec.name) {
            for index in 0..entry.count {
                let hostname = entry.spec.name.replacen("%d", &index.to_string(), 1);
                let field = format!("{base}.name");
                if let Some(first) = seen.get(&hostname) {
                    problems.push(problem(
                        field,
                        format!("machine `{hostname}` is already defined by {first}"),
                    ));
                    break;
                }
                seen.insert(hostname, field);
            }
        }
    }
    check_group_vars(config, &mut problems);
    problems
}

/// The Ansible groups that `groupVars` may name, `all` first: the
/// cluster's own group is not one, as a test's cluster gets another name
/// (its machines are those of `all`).
fn groups_of(config: &Config) -> Vec<String> {
    let mut groups = vec!["all".to_owned()];
    for entry in &config.machines {
        for group in entry.ansible_groups() {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    groups
}

fn check_group_vars(config: &Config, problems: &mut Vec<Problem>) {
    if config.ansible.group_vars.is_empty() {
        return;
    }
    let groups = groups_of(config);
    for (group, vars) in &config.ansible.group_vars {
        let field = format!("ansible.groupVars.{group}");
        if !groups.contains(group) {
            problems.push(problem(
                field,
                format!(
                    "no machine is in group `{group}`: name `all`, a `machines:` entry's group (its name without `%d`) or one of its `groups` ({})",
                    groups
                        .iter()
                        .map(|g| format!("`{g}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            continue;
        }
        check_vars(&field, vars, problems);
    }
}

fn check_vars(base: &str, vars: &AnsibleVars, problems: &mut Vec<Problem>) {
    for name in vars.keys() {
        let field = format!("{base}.{name}");
        if FOOTLOOSE_VARS.contains(&name.as_str()) {
            problems.push(problem(
                field,
                format!(
                    "`{name}` is footloose's own: it sets it so that Ansible reaches the machine"
                ),
            ));
        } else if !is_valid_ansible_var(name) {
            problems.push(problem(
                field,
                format!("`{name}` is not an Ansible variable name: use letters, digits and `_`, not starting with a digit"),
            ));
        }
    }
}

fn check_spec(base: &str, spec: &MachineSpec, count: u32, problems: &mut Vec<Problem>) {
    if spec.image.trim().is_empty() {
        problems.push(problem(format!("{base}.image"), "must name an image"));
    }
    check_name_template(base, spec, count, problems);
    if spec.backend == Some(Backend::Ignite) {
        problems.push(problem(
            format!("{base}.backend"),
            "backend `ignite` is not supported: footloose runs machines as containers (use `docker` or `incus`, or leave it out)",
        ));
    }
    if let Some(cmd) = &spec.cmd {
        if cmd.trim().is_empty() {
            problems.push(problem(format!("{base}.cmd"), "must not be empty"));
        }
    }
    for (j, port) in spec.port_mappings.iter().enumerate() {
        let field = format!("{base}.portMappings[{j}]");
        if port.container_port == 0 {
            problems.push(problem(
                format!("{field}.containerPort"),
                "must be a port from 1 to 65535",
            ));
        }
        if let Some(host) = port.host_port.filter(|p| *p != 0) {
            let last = u32::from(host) + count.saturating_sub(1);
            if last > 65535 {
                problems.push(problem(
                    format!("{field}.hostPort"),
                    format!("{count} machines need host ports {host} to {last}, beyond 65535"),
                ));
            }
        }
        if let Some(address) = &port.address {
            if address.parse::<IpAddr>().is_err() {
                problems.push(problem(
                    format!("{field}.address"),
                    format!("`{address}` is not an IP address"),
                ));
            }
        }
    }
    for (j, volume) in spec.volumes.iter().enumerate() {
        let field = format!("{base}.volumes[{j}]");
        if !volume.destination.starts_with('/') {
            problems.push(problem(
                format!("{field}.destination"),
                format!("`{}` must be an absolute path", volume.destination),
            ));
        }
        match (volume.kind, volume.source.as_deref()) {
            (VolumeType::Bind, None) | (VolumeType::Bind, Some("")) => problems.push(problem(
                format!("{field}.source"),
                "a bind mount needs a host path",
            )),
            (VolumeType::Volume, Some(name)) if !is_valid_object_name(name) => {
                problems.push(problem(
                    format!("{field}.source"),
                    format!("`{name}` is not a valid volume name"),
                ))
            }
            _ => {}
        }
    }
    for (j, network) in spec.networks.iter().enumerate() {
        if !is_valid_object_name(network) {
            problems.push(problem(
                format!("{base}.networks[{j}]"),
                format!("`{network}` is not a valid network name"),
            ));
        }
    }
    for key in spec.env.keys() {
        if key.is_empty() || key.contains('=') {
            problems.push(problem(
                format!("{base}.env.{key}"),
                "an environment variable name must be non-empty and have no `=`",
            ));
        }
    }
    for key in spec.labels.keys() {
        if key.starts_with(RESERVED_LABEL_PREFIX) {
            problems.push(problem(
                format!("{base}.labels.{key}"),
                format!("labels starting with `{RESERVED_LABEL_PREFIX}` are footloose's own"),
            ));
        }
    }
    for (list, caps) in [("capAdd", &spec.cap_add), ("capDrop", &spec.cap_drop)] {
        for (j, cap) in caps.iter().enumerate() {
            let name = cap.strip_prefix("CAP_").unwrap_or(cap);
            let valid = !name.is_empty()
                && (name == "ALL" || name.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            if !valid {
                problems.push(problem(
                    format!("{base}.{list}[{j}]"),
                    format!("`{cap}` is not a capability name (such as NET_ADMIN)"),
                ));
            }
        }
    }
    for (j, option) in spec.security_opt.iter().enumerate() {
        if !option.contains(['=', ':']) && option != "no-new-privileges" {
            problems.push(problem(
                format!("{base}.securityOpt[{j}]"),
                format!("`{option}` is not a security option (such as seccomp=unconfined)"),
            ));
        }
    }
    for (j, path) in spec.tmpfs.iter().enumerate() {
        if !path.starts_with('/') {
            problems.push(problem(
                format!("{base}.tmpfs[{j}]"),
                format!("`{path}` must be an absolute path"),
            ));
        }
    }
    if let Err(error) = spec.resources.nano_cpus() {
        problems.push(problem(format!("{base}.resources.cpus"), error.to_string()));
    }
    if let Err(error) = spec.resources.memory_bytes() {
        problems.push(problem(
            format!("{base}.resources.memory"),
            error.to_string(),
        ));
    }
}

fn template_is_valid(template: &str) -> bool {
    template.matches('%').count() == 1 && template.contains("%d")
}

fn check_name_template(base: &str, spec: &MachineSpec, count: u32, problems: &mut Vec<Problem>) {
    let field = format!("{base}.name");
    let template = &spec.name;
    if !template_is_valid(template) {
        let found = template.matches("%d").count();
        let message = if found == 0 {
            format!("`{template}` needs exactly one `%d`, replaced by the machine's index (such as `node%d`)")
        } else if found > 1 {
            format!("`{template}` has {found} `%d`; it needs exactly one")
        } else {
            format!("`{template}` has a `%` other than its one `%d`")
        };
        problems.push(problem(field, message));
        return;
    }
    let widest = template.replacen("%d", &count.saturating_sub(1).to_string(), 1);
    if !is_valid_hostname(&widest) {
        problems.push(problem(
            field,
            format!("`{widest}` is not a valid hostname: use lowercase letters, digits and `-` (at most 63), not starting or ending with `-`"),
        ));
    }
}

/// True for a DNS label: 1 to 63 lowercase letters, digits and `-`, not
/// starting or ending with `-`.
///
/// ```
/// use footloose_config::is_valid_hostname;
///
/// assert!(is_valid_hostname("web-0"));
/// assert!(!is_valid_hostname("Web_0") && !is_valid_hostname("-web"));
/// ```
pub fn is_valid_hostname(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// True for a name Ansible takes as a group without rewriting it.
///
/// ```
/// use footloose_config::is_valid_group_name;
///
/// assert!(is_valid_group_name("web_servers"));
/// assert!(!is_valid_group_name("web-servers") && !is_valid_group_name("all"));
/// ```
pub fn is_valid_group_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "all"
        && name != "ungrouped"
}

/// True for a name Ansible takes as a variable: letters, digits and `_`,
/// not starting with a digit.
///
/// ```
/// use footloose_config::is_valid_ansible_var;
///
/// assert!(is_valid_ansible_var("redis_port") && is_valid_ansible_var("_x1"));
/// assert!(!is_valid_ansible_var("redis-port") && !is_valid_ansible_var("1x"));
/// ```
pub fn is_valid_ansible_var(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for a name usable as the prefix of Docker container, network and
/// volume names: 1 to 40 of `[a-zA-Z0-9_.-]`, starting with a letter or digit.
///
/// ```
/// use footloose_config::is_valid_cluster_name;
///
/// assert!(is_valid_cluster_name("ci-42.shop"));
/// assert!(!is_valid_cluster_name("-x") && !is_valid_cluster_name(&"a".repeat(41)));
/// ```
pub fn is_valid_cluster_name(name: &str) -> bool {
    name.len() <= 40 && is_valid_object_name(name)
}

fn is_valid_object_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(is_valid_hostname("node0"));
        assert!(is_valid_hostname("a-1"));
        assert!(!is_valid_hostname("Node0"));
        assert!(!is_valid_hostname("-a"));
        assert!(!is_valid_hostname("a_b"));
        assert!(!is_valid_hostname(&"a".repeat(64)));
    }

    #[test]
    fn group_names() {
        assert!(is_valid_group_name("web"));
        assert!(is_valid_group_name("_db_1"));
        assert!(!is_valid_group_name("1web"));
        assert!(!is_valid_group_name("web-servers"));
        assert!(!is_valid_group_name("all"));
        assert!(!is_valid_group_name(""));
    }

    #[test]
    fn cluster_names() {
        assert!(is_valid_cluster_name("cluster"));
        assert!(is_valid_cluster_name("my_cluster.1"));
        assert!(!is_valid_cluster_name(".hidden"));
        assert!(!is_valid_cluster_name("a b"));
        assert!(!is_valid_cluster_name(""));
    }
}
