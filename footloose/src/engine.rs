//! The connection to the Docker engine and the facts about it that shape
//! how machines are created.

use bollard::models::{SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum};
use bollard::Docker;

use crate::error::{Error, Result};

/// Which cgroup hierarchy the engine's host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// cgroup v1 (or hybrid), as on older distributions.
    V1,
    /// The unified cgroup v2 hierarchy, as on most current distributions.
    V2,
}

/// Which cgroup driver the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupDriver {
    /// The engine writes cgroups itself.
    Cgroupfs,
    /// The engine asks the host's systemd.
    Systemd,
}

/// What footloose needs to know about the engine's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFacts {
    /// The cgroup version.
    pub cgroup: CgroupVersion,
    /// The cgroup driver.
    pub driver: CgroupDriver,
}

/// A connected engine with the facts read from `docker info`.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    facts: HostFacts,
}

impl Engine {
    /// Connects as the `docker` CLI would (DOCKER_HOST, else the local
    /// socket), agrees on an API version and reads the host's facts.
    pub async fn connect() -> Result<Engine> {
        let endpoint = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned());
        let unreachable = |reason: String| Error::EngineUnreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        let docker = Docker::connect_with_defaults()
            .map_err(|e| unreachable(e.to_string()))?
            .with_timeout(std::time::Duration::from_secs(300));
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let info = docker
            .info()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let cgroup = match info.cgroup_version {
            Some(SystemInfoCgroupVersionEnum::_2) => CgroupVersion::V2,
            _ => CgroupVersion::V1,
        };
        let driver = match info.cgroup_driver {
            Some(SystemInfoCgroupDriverEnum::SYSTEMD) => CgroupDriver::Systemd,
            _ => CgroupDriver::Cgroupfs,
        };
        Ok(Engine {
            docker,
            facts: HostFacts { cgroup, driver },
        })
    }

    /// The bollard client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The host's cgroup set-up.
    pub fn facts(&self) -> HostFacts {
        self.facts
    }
}
