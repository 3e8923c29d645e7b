//! Connecting to a Docker-API engine: the API version both sides speak,
//! and the host's facts read from `/version` and `/info`.

use bollard::models::{SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum};
use std::path::Path;

use bollard::{ClientVersion, Docker};

use crate::host::{Capabilities, CgroupDriver, CgroupVersion, Flavour, HostFacts};

/// How long one API call may take (image builds stream for longer).
pub(super) const API_TIMEOUT_SECS: u64 = 300;

/// Why a Docker-API engine did not answer: the client's own error, whose
/// message (and source) it is.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct ConnectError(#[from] bollard::errors::Error);

/// Connects to the engine at `endpoint` (written as `DOCKER_HOST` is),
/// agrees on an API version and reads the host's facts. With `tls`, the
/// directory of the client's `key.pem`, `cert.pem` and `ca.pem`, the
/// connection is made as the `docker` CLI makes it with
/// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`: TLS, the engine's
/// certificate checked against `ca.pem`, this client known by its own.
pub(super) async fn connect(
    endpoint: &str,
    tls: Option<&Path>,
) -> Result<(Docker, HostFacts), ConnectError> {
    let open = |version: &ClientVersion| match tls {
        Some(dir) => Docker::connect_with_ssl(
            endpoint,
            &dir.join("key.pem"),
            &dir.join("cert.pem"),
            &dir.join("ca.pem"),
            API_TIMEOUT_SECS,
            version,
        ),
        None if endpoint.starts_with("unix://") => {
            Docker::connect_with_unix(endpoint, API_TIMEOUT_SECS, version)
        }
        None => Docker::connect_with_http(endpoint, API_TIMEOUT_SECS, version),
    };
    // One `/version` both agrees on the API version and says which
    // engine this is; `/info` gives the host's facts. Each costs dockerd
    // several milliseconds (20.10 runs `runc --version` and `docker-init
    // --version` for both), so they are asked at once: every test process
    // connects, and this is on the way to its first command.
    let timeout = std::time::Duration::from_secs(API_TIMEOUT_SECS);
    let first = open(bollard::API_DEFAULT_VERSION)?.with_timeout(timeout);
    let (version, early_info) = tokio::join!(first.version(), first.info());
    let version = version?;
    let agreed = agreed_version(version.api_version.as_deref());
    let docker = open(&agreed)?.with_timeout(timeout);
    let info = match early_info {
        Ok(info) => info,
        // Asked in bollard's own API version, which an older engine may
        // refuse (bollard 0.21 sends paths without a version, which every
        // engine takes): asked again in the agreed one.
        Err(_) => docker.info().await?,
    };
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
    let apparmor = info
        .security_options
        .iter()
        .flatten()
        .any(|opt| opt == "name=apparmor" || opt.starts_with("name=apparmor,"));
    let facts = HostFacts {
        cgroup,
        driver,
        flavour,
        apparmor,
        capabilities: capabilities(flavour),
    };
    Ok((docker, facts))
}

/// What each engine that speaks the Docker API can do.
fn capabilities(flavour: Flavour) -> Capabilities {
    match flavour {
        // Docker lets two racing creators make two networks of one name
        // (seen on 20.10), and starts any command as it is told; its
        // default seccomp profile refuses `unshare(CLONE_NEWUSER)`.
        // (Incus never answers the Docker API.)
        Flavour::Docker | Flavour::Incus => Capabilities {
            systemd_mode: false,
            duplicate_network_names: true,
            default_network: "bridge",
            user_namespaces_by_default: false,
        },
        // Podman's names are unique, and it runs `/sbin/init` in its
        // systemd mode (see `container_spec`); its default seccomp profile
        // (containers-common's) allows `unshare`, `clone` and `mount`.
        Flavour::Podman => Capabilities {
            systemd_mode: true,
            duplicate_network_names: false,
            default_network: "podman",
            user_namespaces_by_default: true,
        },
    }
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
