//! Docker CLI contexts (`docker context use NAME`): when `DOCKER_HOST` is
//! not set, the context named by `DOCKER_CONTEXT`, else the
//! `currentContext` of the CLI's `config.json`, says where the engine is.
//! Its endpoint is in `contexts/meta/<sha256 of the name>/meta.json` under
//! the CLI's configuration directory (`DOCKER_CONFIG`, else `~/.docker`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::settings::EngineSettings;

/// The name of the context that stands for "no context".
const DEFAULT_CONTEXT: &str = "default";

/// Why the current context names no endpoint footloose can use.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ContextError {
    /// A file of the CLI's configuration is not the JSON it should be.
    #[error("cannot read {}", path.display())]
    Unparsable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The chosen context has no metadata file.
    #[error("the Docker context {name} is chosen but {} cannot be read ({error}); `docker context ls` lists the contexts", path.display())]
    Missing {
        name: String,
        path: PathBuf,
        error: std::io::Error,
    },
    /// The context's metadata names no docker endpoint.
    #[error("the Docker context {name} names no docker endpoint")]
    NoEndpoint { name: String },
    /// The context connects with TLS, which footloose takes only from
    /// the environment.
    #[error("the Docker context {name} uses TLS, which footloose reads only from the environment: set DOCKER_HOST={host}, DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH")]
    Tls { name: String, host: String },
}

/// The endpoint of the current context, with the context's name; `None`
/// when no context other than the default is chosen.
pub(crate) fn current_endpoint(
    settings: &EngineSettings,
) -> Result<Option<(String, String)>, ContextError> {
    let dir = config_dir(settings);
    let name = match &settings.docker_context {
        Some(name) => name.clone(),
        None => match current_context(&dir.join("config.json"))? {
            Some(name) => name,
            None => return Ok(None),
        },
    };
    if name == DEFAULT_CONTEXT {
        return Ok(None);
    }
    endpoint_of(&dir, &name).map(|host| Some((name, host)))
}

/// The Docker CLI's configuration directory.
fn config_dir(settings: &EngineSettings) -> PathBuf {
    match &settings.docker_config {
        Some(dir) => dir.clone(),
        None => settings
            .home
            .as_deref()
            .unwrap_or(Path::new("/"))
            .join(".docker"),
    }
}

/// `currentContext` of the CLI's `config.json`, if any.
fn current_context(config: &Path) -> Result<Option<String>, ContextError> {
    #[derive(Deserialize)]
    struct CliConfig {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let Ok(text) = std::fs::read_to_string(config) else {
        return Ok(None);
    };
    let parsed: CliConfig =
        serde_json::from_str(&text).map_err(|source| ContextError::Unparsable {
            path: config.to_owned(),
            source,
        })?;
    Ok(parsed.current_context.filter(|c| !c.is_empty()))
}

/// The docker endpoint of the context `name`; TLS contexts are refused.
fn endpoint_of(dir: &Path, name: &str) -> Result<String, ContextError> {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "Endpoints")]
        endpoints: Endpoints,
    }
    #[derive(Deserialize)]
    struct Endpoints {
        docker: Option<DockerEndpoint>,
    }
    #[derive(Deserialize)]
    struct DockerEndpoint {
        #[serde(rename = "Host")]
        host: String,
    }
    let id = hex(&Sha256::digest(name.as_bytes()));
    let meta = dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|error| ContextError::Missing {
        name: name.to_owned(),
        path: meta.clone(),
        error,
    })?;
    let parsed: Meta = serde_json::from_str(&text).map_err(|source| ContextError::Unparsable {
        path: meta.clone(),
        source,
    })?;
    let host = parsed
        .endpoints
        .docker
        .map(|d| d.host)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ContextError::NoEndpoint {
            name: name.to_owned(),
        })?;
    if dir.join("contexts/tls").join(&id).exists() {
        return Err(ContextError::Tls {
            name: name.to_owned(),
            host,
        });
    }
    Ok(host)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CLI configuration directory with a context `name` at `host`.
    fn with_context(name: &str, host: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let id = hex(&Sha256::digest(name.as_bytes()));
        let meta = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            format!(r#"{{"auths":{{}},"currentContext":"{name}"}}"#),
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_contexts_endpoint_is_found_by_the_hash_of_its_name() {
        let dir = with_context("build-box", "ssh://ops@build-box");
        assert_eq!(
            current_context(&dir.path().join("config.json")).unwrap(),
            Some("build-box".to_owned())
        );
        assert_eq!(
            endpoint_of(dir.path(), "build-box").unwrap(),
            "ssh://ops@build-box"
        );
        // The well-known id of the name "default" in the CLI's store.
        assert_eq!(
            hex(&Sha256::digest(b"default")),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }

    #[test]
    fn a_missing_or_tls_context_is_a_clear_error() {
        let dir = with_context("remote", "tcp://10.0.0.5:2376");
        let missing = endpoint_of(dir.path(), "elsewhere")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("docker context ls"), "{missing}");
        let id = hex(&Sha256::digest(b"remote"));
        std::fs::create_dir_all(dir.path().join("contexts/tls").join(id)).unwrap();
        let tls = endpoint_of(dir.path(), "remote").unwrap_err();
        assert!(matches!(&tls, ContextError::Tls { name, .. } if name == "remote"));
        assert!(tls.to_string().contains("DOCKER_TLS_VERIFY"), "{tls}");
    }

    #[test]
    fn an_unparsable_file_is_named_and_its_cause_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, "{not json").unwrap();
        let err = current_context(&config).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot read {}", config.display()));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn no_config_means_no_context() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            current_context(&dir.path().join("config.json")).unwrap(),
            None
        );
    }
}
