//! Which config file and cluster a command acts on, and the settings it
//! runs with.

use std::path::PathBuf;

use anyhow::Context as _;
use footloose::{ClusterBuilder, Config, Settings};

/// The config file name looked for when `-c` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "footloose.yaml";

/// What the command line says about the config and cluster, and the
/// environment's settings, read once when the command starts.
pub struct Context {
    explicit: Option<PathBuf>,
    cluster: Option<String>,
    settings: Settings,
}

/// A loaded (or default) configuration.
pub struct Loaded {
    pub builder: ClusterBuilder,
    /// False when no file exists and the built-in default is used.
    pub from_file: bool,
}

impl Context {
    pub fn new(explicit: Option<PathBuf>, cluster: Option<String>, settings: Settings) -> Context {
        Context {
            explicit,
            cluster,
            settings,
        }
    }

    /// The settings every command runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config file path: `-c`, `FOOTLOOSE_CONFIG`, or `footloose.yaml`.
    pub fn config_path(&self) -> PathBuf {
        self.explicit
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE))
    }

    /// The cluster name given with --cluster.
    pub fn cluster_override(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// Loads the config, into a builder with the context's settings.
    /// Without `-c` and without `footloose.yaml`, the built-in default
    /// (one `footloose/debian12` machine) is used.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let path = self.config_path();
        let (builder, from_file) = if self.explicit.is_none() && !path.exists() {
            (ClusterBuilder::new(default_config()), false)
        } else {
            let builder = ClusterBuilder::from_file(&path)
                .with_context(|| format!("cannot load the config {}", path.display()))?;
            (builder, true)
        };
        let mut builder = builder.settings(self.settings.clone()).persistent();
        if let Some(name) = &self.cluster {
            builder = builder.name(name);
        }
        Ok(Loaded { builder, from_file })
    }
}

impl Context {
    /// The builder a `#[footloose::cluster]` test makes of the config file:
    /// a test cluster, the file named by its absolute path. What pools are
    /// filled from, so that the tests' clusters and these share a pool.
    pub fn load_as_tests_do(&self) -> anyhow::Result<ClusterBuilder> {
        let path = std::path::absolute(self.config_path())
            .with_context(|| format!("cannot resolve {}", self.config_path().display()))?;
        let builder = ClusterBuilder::from_file(&path)
            .with_context(|| format!("cannot load the config {}", path.display()))?;
        Ok(builder.settings(self.settings.clone()).unique_name())
    }
}

/// The configuration used when there is no file.
pub fn default_config() -> Config {
    Config::with_replicas("cluster", footloose::config::DEFAULT_IMAGE, 1)
}
