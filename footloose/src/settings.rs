//! Settings read once from the environment (placeholder: the engine's
//! part; the full module lands from the settings branch).

use std::ffi::OsString;
use std::path::PathBuf;

/// Where the engine is and how it is reached, as the environment says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineSettings {
    /// `DOCKER_HOST`; empty counts as unset.
    pub docker_host: Option<String>,
    /// `DOCKER_CONTEXT`; empty counts as unset.
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the Docker CLI's configuration directory.
    pub docker_config: Option<PathBuf>,
    /// `DOCKER_TLS_VERIFY` is set (any value).
    pub tls_verify: bool,
    /// `DOCKER_CERT_PATH`.
    pub cert_path: Option<PathBuf>,
    /// `FOOTLOOSE_REACH`, as written; empty counts as unset.
    pub reach: Option<String>,
    /// `USER`, else `LOGNAME`.
    pub user: Option<String>,
}

impl EngineSettings {
    /// Reads the engine's settings from `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> EngineSettings {
        let text = |name: &str| {
            var(name)
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.is_empty())
        };
        EngineSettings {
            docker_host: text("DOCKER_HOST"),
            docker_context: text("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            reach: text("FOOTLOOSE_REACH"),
            user: text("USER").or_else(|| text("LOGNAME")),
        }
    }

    /// Reads the engine's settings from this process's environment.
    pub fn from_env() -> EngineSettings {
        EngineSettings::from_vars(|name| std::env::var_os(name))
    }
}
