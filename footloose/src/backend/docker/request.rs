//! footloose's container plan as the Docker API's create request.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigCgroupnsModeEnum, Mount,
    MountType, MountVolumeOptions, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};

use crate::container_spec::{CgroupNamespace, ContainerPlan, MountPlan};

/// The endpoint of a machine on a user network: reachable by its hostname.
pub(super) fn endpoint(alias: &str) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(vec![alias.to_owned()]),
        ..Default::default()
    }
}

/// The create request for `plan`.
pub(super) fn create_body(plan: &ContainerPlan) -> ContainerCreateBody {
    let mut exposed_ports = Vec::new();
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &plan.ports {
        let key = format!("{}/{}", port.container_port, port.protocol);
        if !exposed_ports.contains(&key) {
            exposed_ports.push(key.clone());
        }
        port_bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.clone()),
                host_port: Some(port.host_port.map(|p| p.to_string()).unwrap_or_default()),
            });
    }
    let mounts = plan
        .mounts
        .iter()
        .map(|mount| match mount {
            MountPlan::Volume {
                name,
                target,
                read_only,
                labels,
            } => Mount {
                target: Some(target.clone()),
                source: name.clone(),
                typ: Some(MountType::VOLUME),
                read_only: Some(*read_only),
                volume_options: Some(MountVolumeOptions {
                    labels: Some(labels.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            MountPlan::Bind {
                source,
                target,
                read_only,
            } => Mount {
                target: Some(target.clone()),
                source: Some(source.clone()),
                typ: Some(MountType::BIND),
                read_only: Some(*read_only),
                ..Default::default()
            },
        })
        .collect();
    let non_empty = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
    let mut security_opt = plan.security_opt.clone();
    if plan.allow_user_namespaces {
        security_opt.push(super::seccomp::security_opt().to_owned());
    }
    let host_config = HostConfig {
        port_bindings: Some(port_bindings),
        tmpfs: Some(plan.tmpfs.clone().into_iter().collect()),
        binds: non_empty(&plan.binds),
        mounts: Some(mounts),
        cgroupns_mode: Some(match plan.cgroupns {
            CgroupNamespace::Host => HostConfigCgroupnsModeEnum::HOST,
            CgroupNamespace::Private => HostConfigCgroupnsModeEnum::PRIVATE,
        }),
        privileged: Some(plan.privileged),
        cap_add: non_empty(&plan.cap_add),
        cap_drop: non_empty(&plan.cap_drop),
        security_opt: non_empty(&security_opt),
        network_mode: plan.network.clone(),
        nano_cpus: plan.nano_cpus,
        memory: plan.memory_bytes,
        // MemorySwap is memory and swap together: equal to Memory, the
        // machine has no swap to spill into beyond its limit.
        memory_swap: plan.memory_bytes,
        restart_policy: plan.restart_on_failure.then_some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::ON_FAILURE),
            maximum_retry_count: None,
        }),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(plan.image.clone()),
        hostname: Some(plan.hostname.clone()),
        cmd: Some(plan.cmd.clone()),
        tty: Some(true),
        env: Some(plan.env.clone()),
        labels: Some(plan.labels.clone()),
        exposed_ports: Some(exposed_ports),
        stop_signal: Some(plan.stop_signal.clone()),
        host_config: Some(host_config),
        networking_config: plan.network.as_ref().map(|network| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network.clone(), endpoint(&plan.hostname))])),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_becomes_the_create_request() {
        let plan = ContainerPlan {
            name: "c-node0".into(),
            image: "footloose/debian12".into(),
            hostname: "node0".into(),
            cmd: vec!["/sbin/init".into()],
            env: vec!["container=docker".into()],
            labels: HashMap::from([("io.footloose.cluster".into(), "c".into())]),
            ports: vec![crate::container_spec::PortPublish {
                container_port: 22,
                protocol: "tcp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: None,
            }],
            tmpfs: [("/run".to_owned(), "rw".to_owned())].into(),
            binds: vec!["/sys/fs/cgroup:/sys/fs/cgroup:ro".into()],
            mounts: vec![MountPlan::Volume {
                name: None,
                target: "/var/lib/docker".into(),
                read_only: false,
                labels: HashMap::from([("io.footloose.cluster".into(), "c".into())]),
            }],
            cgroupns: CgroupNamespace::Host,
            privileged: false,
            cap_add: vec![],
            cap_drop: vec![],
            security_opt: vec![],
            allow_user_namespaces: false,
            network: Some("net-id".into()),
            extra_networks: vec![],
            stop_signal: "SIGRTMIN+3".into(),
            nano_cpus: None,
            memory_bytes: None,
            restart_on_failure: true,
        };
        let body = create_body(&plan);
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(body.tty, Some(true));
        assert_eq!(body.exposed_ports, Some(vec!["22/tcp".to_owned()]));
        let ssh = host.port_bindings.as_ref().unwrap()["22/tcp"]
            .as_ref()
            .unwrap();
        assert_eq!(ssh[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ssh[0].host_port.as_deref(), Some(""));
        assert_eq!(host.cgroupns_mode, Some(HostConfigCgroupnsModeEnum::HOST));
        assert_eq!(host.cap_add, None);
        assert_eq!(host.security_opt, None, "the engine's default profile");
        assert_eq!(host.network_mode.as_deref(), Some("net-id"));
        let restart = host.restart_policy.as_ref().unwrap();
        assert_eq!(restart.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(restart.maximum_retry_count, None);
        assert_eq!(
            (host.nano_cpus, host.memory, host.memory_swap),
            (None, None, None),
            "no limits unless the spec asks"
        );
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints["net-id"].aliases, Some(vec!["node0".to_owned()]));
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        assert!(mounts[0].volume_options.as_ref().unwrap().labels.is_some());

        let relaxed = ContainerPlan {
            security_opt: vec!["no-new-privileges".into()],
            allow_user_namespaces: true,
            ..plan
        };
        let opts = create_body(&relaxed)
            .host_config
            .unwrap()
            .security_opt
            .unwrap();
        assert_eq!(opts[0], "no-new-privileges");
        assert!(opts[1].starts_with("seccomp={"), "{}", &opts[1][..20]);
        assert_eq!(opts.len(), 2);

        let limited = ContainerPlan {
            nano_cpus: Some(500_000_000),
            memory_bytes: Some(268_435_456),
            ..relaxed
        };
        let host = create_body(&limited).host_config.unwrap();
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.memory, Some(268_435_456));
        assert_eq!(host.memory_swap, Some(268_435_456), "no swap beyond it");
        assert_eq!(host.cpu_quota, None, "NanoCpus, not a quota of our own");
    }
}
