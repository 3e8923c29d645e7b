//! The Docker Engine API backend: the one module that speaks bollard. It
//! turns footloose's plans into API requests and the API's answers (and
//! refusals) into footloose's types and errors.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary,
    EndpointSettings, HostConfig, HostConfigCgroupnsModeEnum, Mount, MountType, MountVolumeOptions,
    NetworkConnectRequest, NetworkCreateRequest, NetworkingConfig, PortBinding,
    SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptions, RemoveVolumeOptions,
    StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::{ClientVersion, Docker};
use futures_util::{Stream, StreamExt, TryStreamExt};

use super::model::{
    CgroupDriver, CgroupVersion, ContainerInfo, ContainerStatus, Flavour, HostFacts, NetworkInfo,
};
use crate::container_spec::{CgroupNamespace, ContainerPlan, MountPlan};
use crate::error::{EngineFailure, Error, Result};
use crate::machine::PublishedPort;

/// How long one API call may take (image builds stream for longer).
const API_TIMEOUT_SECS: u64 = 300;

/// A connection to a Docker-API engine.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    docker: Docker,
}

/// An engine error from a bollard error: its kind and the engine's own
/// words once, without bollard's "status code" preamble.
fn error(action: impl Into<String>, error: bollard::errors::Error) -> Error {
    let (kind, message) = match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            let kind = match status_code {
                404 => EngineFailure::NotFound,
                409 => EngineFailure::Conflict,
                403 => EngineFailure::Forbidden,
                304 => EngineFailure::NotModified,
                _ => EngineFailure::Other,
            };
            (kind, message.trim().to_owned())
        }
        other => (EngineFailure::Other, other.to_string()),
    };
    Error::Engine {
        action: action.into(),
        kind,
        message,
    }
}

/// `Ok(None)` for "no such object", the value otherwise.
fn found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

fn label_filter(selector: &[String]) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), selector.to_vec())])
}

/// The API version both sides speak: the engine's (`"1.41"`), or
/// bollard's own when the engine's is newer or unreadable.
fn agreed_version(server: Option<&str>) -> ClientVersion {
    let ours = bollard::API_DEFAULT_VERSION;
    let theirs = server.and_then(|v| {
        let (major, minor) = v.split_once('.')?;
        Some(ClientVersion {
            major_version: major.parse().ok()?,
            minor_version: minor.parse().ok()?,
        })
    });
    match theirs {
        Some(theirs)
            if (theirs.major_version, theirs.minor_version)
                < (ours.major_version, ours.minor_version) =>
        {
            theirs
        }
        _ => ClientVersion {
            major_version: ours.major_version,
            minor_version: ours.minor_version,
        },
    }
}

impl Client {
    /// Connects as the `docker` CLI would (DOCKER_HOST, else the local
    /// socket), agrees on an API version and reads the host's facts.
    ///
    /// `endpoint` is written as `DOCKER_HOST` is; `None` connects as the
    /// `docker` CLI would (`DOCKER_HOST` and its TLS settings, else the
    /// local socket).
    pub(crate) async fn connect(
        endpoint: Option<&str>,
    ) -> std::result::Result<(Client, HostFacts), String> {
        // One `/version` both agrees on the API version and says which
        // engine this is (each call costs dockerd several milliseconds).
        let plain = match endpoint {
            Some(endpoint) => Some(endpoint.to_owned()),
            None if std::env::var_os("DOCKER_TLS_VERIFY").is_some() => None,
            None => Some(
                std::env::var("DOCKER_HOST")
                    .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned()),
            ),
        };
        let (docker, version) = match plain {
            Some(endpoint) => {
                let open = |version: &ClientVersion| {
                    if endpoint.starts_with("unix://") {
                        Docker::connect_with_unix(&endpoint, API_TIMEOUT_SECS, version)
                    } else {
                        Docker::connect_with_http(&endpoint, API_TIMEOUT_SECS, version)
                    }
                };
                let first = open(bollard::API_DEFAULT_VERSION).map_err(|e| e.to_string())?;
                let version = first
                    .with_timeout(std::time::Duration::from_secs(API_TIMEOUT_SECS))
                    .version()
                    .await
                    .map_err(|e| e.to_string())?;
                let agreed = agreed_version(version.api_version.as_deref());
                (open(&agreed).map_err(|e| e.to_string())?, version)
            }
            None => {
                let docker = Docker::connect_with_defaults()
                    .map_err(|e| e.to_string())?
                    .negotiate_version()
                    .await
                    .map_err(|e| e.to_string())?;
                let version = docker.version().await.map_err(|e| e.to_string())?;
                (docker, version)
            }
        };
        let docker = docker.with_timeout(std::time::Duration::from_secs(API_TIMEOUT_SECS));
        let info = docker.info().await.map_err(|e| e.to_string())?;
        let cgroup = match info.cgroup_version {
            Some(SystemInfoCgroupVersionEnum::_2) => CgroupVersion::V2,
            _ => CgroupVersion::V1,
        };
        let driver = match info.cgroup_driver {
            Some(SystemInfoCgroupDriverEnum::SYSTEMD) => CgroupDriver::Systemd,
            _ => CgroupDriver::Cgroupfs,
        };
        let podman = version
            .components
            .iter()
            .flatten()
            .any(|c| c.name.starts_with("Podman"));
        let flavour = if podman {
            Flavour::Podman
        } else {
            Flavour::Docker
        };
        Ok((
            Client { docker },
            HostFacts {
                cgroup,
                driver,
                flavour,
            },
        ))
    }

    // Containers.

    pub(crate) async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        found(
            self.docker
                .inspect_container(name, None)
                .await
                .map(|info| from_inspect(&info))
                .map_err(|e| error(format!("inspecting container {name}"), e)),
        )
    }

    pub(crate) async fn containers(&self, selector: &[String]) -> Result<Vec<ContainerInfo>> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(selector))
            .build();
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| error("listing containers", e))?;
        Ok(list.iter().map(from_summary).collect())
    }

    pub(crate) async fn containers_on_network(&self, id: &str) -> Result<usize> {
        let filters = HashMap::from([("network".to_owned(), vec![id.to_owned()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        self.docker
            .list_containers(Some(options))
            .await
            .map(|list| list.len())
            .map_err(|e| error(format!("listing the containers on network {id}"), e))
    }

    pub(crate) async fn create_container(&self, plan: &ContainerPlan) -> Result<()> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&plan.name)
            .build();
        self.docker
            .create_container(Some(options), create_body(plan))
            .await
            .map(|_| ())
            .map_err(|e| error(format!("creating container {}", plan.name), e))
    }

    pub(crate) async fn start_container(&self, name: &str) -> Result<()> {
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| error(format!("starting {name}"), e))
    }

    pub(crate) async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<()> {
        let options = StopContainerOptionsBuilder::default().t(grace_secs).build();
        self.docker
            .stop_container(name, Some(options))
            .await
            .map_err(|e| error(format!("stopping {name}"), e))
    }

    pub(crate) async fn remove_container(&self, name: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        self.docker
            .remove_container(name, Some(options))
            .await
            .map_err(|e| error(format!("removing container {name}"), e))
    }

    pub(crate) async fn upload(&self, name: &str, path: &str, tar: Vec<u8>) -> Result<()> {
        let options = UploadToContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .upload_to_container(name, Some(options), bollard::body_full(tar.into()))
            .await
            .map_err(|e| error(format!("copying files into {name}"), e))
    }

    pub(crate) async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: &str,
    ) -> Result<()> {
        let request = NetworkConnectRequest {
            container: container.to_owned(),
            endpoint_config: Some(endpoint(alias)),
        };
        self.docker
            .connect_network(network, request)
            .await
            .map_err(|e| error(format!("connecting {container} to {network}"), e))
    }

    pub(crate) async fn logs_tail(&self, name: &str, lines: usize) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(name, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        text
    }

    // Networks.

    pub(crate) async fn create_network(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<String> {
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".to_owned()),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        self.docker
            .create_network(request)
            .await
            .map(|created| created.id)
            .map_err(|e| error(format!("creating network {name}"), e))
    }

    pub(crate) async fn networks(
        &self,
        filters: HashMap<String, Vec<String>>,
    ) -> Result<Vec<NetworkInfo>> {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(|e| error("listing networks", e))?;
        Ok(list
            .into_iter()
            .filter_map(|n| {
                Some(NetworkInfo {
                    id: n.id?,
                    name: n.name?,
                    created: n.created.map(|c| c.to_string()).unwrap_or_default(),
                    labels: n.labels.unwrap_or_default(),
                })
            })
            .collect())
    }

    pub(crate) async fn networks_labelled(&self, selector: &[String]) -> Result<Vec<NetworkInfo>> {
        self.networks(label_filter(selector)).await
    }

    pub(crate) async fn networks_named(&self, name: &str) -> Result<Vec<NetworkInfo>> {
        let filters = HashMap::from([("name".to_owned(), vec![name.to_owned()])]);
        let mut list = self.networks(filters).await?;
        list.retain(|n| n.name == name);
        Ok(list)
    }

    pub(crate) async fn remove_network(&self, id: &str) -> Result<()> {
        self.docker
            .remove_network(id)
            .await
            .map_err(|e| error(format!("removing network {id}"), e))
    }

    // Volumes.

    pub(crate) async fn volumes(&self, selector: &[String]) -> Result<Vec<String>> {
        let options = ListVolumesOptionsBuilder::default()
            .filters(&label_filter(selector))
            .build();
        let list = self
            .docker
            .list_volumes(Some(options))
            .await
            .map_err(|e| error("listing volumes", e))?;
        Ok(list.volumes.into_iter().flatten().map(|v| v.name).collect())
    }

    pub(crate) async fn remove_volume(&self, name: &str) -> Result<()> {
        self.docker
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await
            .map_err(|e| error(format!("removing volume {name}"), e))
    }

    // Images.

    pub(crate) async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        found(
            self.docker
                .inspect_image(reference)
                .await
                .map(|image| image.id.unwrap_or_default())
                .map_err(|e| error(format!("inspecting image {reference}"), e)),
        )
    }

    pub(crate) async fn image_labels(
        &self,
        reference: &str,
    ) -> Result<Option<HashMap<String, String>>> {
        found(
            self.docker
                .inspect_image(reference)
                .await
                .map(|image| image.config.and_then(|c| c.labels).unwrap_or_default())
                .map_err(|e| error(format!("inspecting image {reference}"), e)),
        )
    }

    pub(crate) async fn pull_image(&self, reference: &str) -> Result<()> {
        let options = CreateImageOptionsBuilder::default()
            .from_image(reference)
            .build();
        self.docker
            .create_image(Some(options), None, None)
            .try_for_each(|_| async { Ok(()) })
            .await
            .map_err(|e| error(format!("pulling {reference}"), e))
    }

    pub(crate) async fn import_image(
        &self,
        rootfs: impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
        reference: &str,
        changes: Vec<String>,
    ) -> Result<()> {
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(reference)
            .changes(changes)
            .build();
        self.docker
            .create_image(Some(options), Some(bollard::body_try_stream(rootfs)), None)
            .try_collect::<Vec<_>>()
            .await
            .map(|_| ())
            .map_err(|e| error(format!("importing {reference}"), e))
    }

    /// Builds `dockerfile` of the tar `context` as `tag`, handing every
    /// line of build output to `on_line`.
    pub(crate) async fn build_image(
        &self,
        context: Vec<u8>,
        dockerfile: &str,
        tag: &str,
        build_args: &HashMap<&str, &str>,
        labels: &HashMap<&str, &str>,
        mut on_line: impl FnMut(&str),
    ) -> Result<()> {
        let options = BuildImageOptionsBuilder::default()
            .dockerfile(dockerfile)
            .t(tag)
            .buildargs(build_args)
            .labels(labels)
            .rm(true)
            .forcerm(true)
            .build();
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| error(format!("building {tag}"), e))?;
            if let Some(line) = info.stream {
                on_line(&line);
            }
        }
        Ok(())
    }

    pub(crate) async fn remove_image(&self, id: &str) -> Result<()> {
        self.docker
            .remove_image(id, None::<RemoveImageOptions>, None)
            .await
            .map(|_| ())
            .map_err(|e| error(format!("removing image {id}"), e))
    }
}

/// The endpoint of a machine on a user network: reachable by its hostname.
fn endpoint(alias: &str) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(vec![alias.to_owned()]),
        ..Default::default()
    }
}

/// The create request for `plan`.
fn create_body(plan: &ContainerPlan) -> ContainerCreateBody {
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
        security_opt: non_empty(&plan.security_opt),
        network_mode: plan.network.clone(),
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

fn from_summary(summary: &ContainerSummary) -> ContainerInfo {
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
        labels: summary.labels.clone().unwrap_or_default(),
        networks: networks_of(
            summary
                .network_settings
                .as_ref()
                .and_then(|n| n.networks.as_ref()),
        ),
        ports: sorted(ports),
    }
}

fn from_inspect(info: &ContainerInspectResponse) -> ContainerInfo {
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
        labels: config.and_then(|c| c.labels.clone()).unwrap_or_default(),
        networks: networks_of(settings.and_then(|s| s.networks.as_ref())),
        ports: sorted(ports),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_classified_and_keep_only_the_engines_words() {
        let refusal = |status_code| bollard::errors::Error::DockerResponseServerError {
            status_code,
            message: "the engine's words\n".into(),
        };
        for (status, kind) in [
            (404, EngineFailure::NotFound),
            (409, EngineFailure::Conflict),
            (403, EngineFailure::Forbidden),
            (304, EngineFailure::NotModified),
            (500, EngineFailure::Other),
        ] {
            let err = error("doing it", refusal(status));
            assert_eq!(err.engine_failure(), Some(kind));
            assert_eq!(
                err.to_string(),
                "Docker engine error while doing it: the engine's words"
            );
        }
    }

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
            network: Some("net-id".into()),
            extra_networks: vec![],
            stop_signal: "SIGRTMIN+3".into(),
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
        assert_eq!(host.network_mode.as_deref(), Some("net-id"));
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints["net-id"].aliases, Some(vec!["node0".to_owned()]));
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        assert!(mounts[0].volume_options.as_ref().unwrap().labels.is_some());
    }
}
