//! The Docker API's answers about containers, read into footloose's types.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary, EndpointSettings,
};

use crate::backend::model::{ContainerInfo, ContainerStatus, PublishedPort};

fn status_of(text: &str) -> Option<ContainerStatus> {
    Some(match text {
        "created" => ContainerStatus::Created,
        "running" => ContainerStatus::Running,
        "paused" => ContainerStatus::Paused,
        "restarting" => ContainerStatus::Restarting,
        "removing" => ContainerStatus::Removing,
        "exited" => ContainerStatus::Exited,
        "dead" => ContainerStatus::Dead,
        _ => return None,
    })
}

fn networks_of(
    networks: Option<&HashMap<String, EndpointSettings>>,
) -> BTreeMap<String, Option<IpAddr>> {
    networks
        .into_iter()
        .flatten()
        .map(|(name, endpoint)| {
            let ip = endpoint
                .ip_address
                .as_deref()
                .and_then(|ip| ip.parse().ok());
            (name.clone(), ip)
        })
        .collect()
}

fn sorted(mut ports: Vec<PublishedPort>) -> Vec<PublishedPort> {
    ports.sort_by(|a, b| (a.guest, a.host, &a.address).cmp(&(b.guest, b.host, &b.address)));
    ports.dedup();
    ports
}

pub(super) fn from_summary(summary: &ContainerSummary) -> ContainerInfo {
    let ports = summary
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            Some(PublishedPort {
                guest: p.private_port,
                host: p.public_port?,
                address: p.ip.clone().unwrap_or_default(),
                protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            })
        })
        .collect();
    ContainerInfo {
        id: summary.id.clone().unwrap_or_default(),
        name: summary
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
        image: summary.image.clone().unwrap_or_default(),
        command: summary.command.clone().unwrap_or_default(),
        status: summary.state.as_ref().and_then(|s| status_of(s.as_ref())),
        exit_code: None,
        error: None,
        started_at: None,
        labels: summary.labels.clone().unwrap_or_default(),
        network_mode: summary
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_default(),
        networks: networks_of(
            summary
                .network_settings
                .as_ref()
                .and_then(|n| n.networks.as_ref()),
        ),
        ports: sorted(ports),
    }
}

pub(super) fn from_inspect(info: &ContainerInspectResponse) -> ContainerInfo {
    let settings = info.network_settings.as_ref();
    let mut ports = Vec::new();
    for (key, list) in settings
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
    {
        let (guest, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        let Ok(guest) = guest.parse::<u16>() else {
            continue;
        };
        for binding in list.iter().flatten() {
            let Some(host) = binding.host_port.as_deref().and_then(|p| p.parse().ok()) else {
                continue;
            };
            ports.push(PublishedPort {
                guest,
                host,
                address: binding.host_ip.clone().unwrap_or_default(),
                protocol: protocol.to_owned(),
            });
        }
    }
    let state = info.state.as_ref();
    let config = info.config.as_ref();
    let command: Vec<String> = info
        .path
        .iter()
        .chain(info.args.iter().flatten())
        .cloned()
        .collect();
    ContainerInfo {
        id: info.id.clone().unwrap_or_default(),
        name: info
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        image: config.and_then(|c| c.image.clone()).unwrap_or_default(),
        command: command.join(" "),
        status: state.and_then(|s| s.status).and_then(|s| match s {
            ContainerStateStatusEnum::EMPTY => None,
            other => status_of(other.as_ref()),
        }),
        exit_code: state.and_then(|s| s.exit_code),
        error: state
            .and_then(|s| s.error.clone())
            .filter(|e| !e.is_empty()),
        started_at: state.and_then(|s| s.started_at.clone()),
        labels: config.and_then(|c| c.labels.clone()).unwrap_or_default(),
        network_mode: info
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_default(),
        networks: networks_of(settings.and_then(|s| s.networks.as_ref())),
        ports: sorted(ports),
    }
}
