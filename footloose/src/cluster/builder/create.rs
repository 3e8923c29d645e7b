//! What a builder makes of what it describes: the create request it
//! resolves (the config as created, the key, the lease, the settings), the
//! engine it connects to, and the cluster it creates there.

use std::time::Duration;

use super::ClusterBuilder;
use crate::cluster::create::{create, CreateRequest, Readiness};
use crate::cluster::running::Cluster;
use crate::engine::Engine;
use crate::error::Result;
use crate::labels::Lifetime;
use crate::{Config, Settings};

impl ClusterBuilder {
    /// The config as it is created: network names scoped to the cluster
    /// when its networks are private.
    pub(crate) fn scoped_config(&self) -> Config {
        let mut config = self.config.clone();
        if self.private_networks {
            let cluster = config.cluster.name.clone();
            for set in &mut config.machines {
                for network in &mut set.spec.networks {
                    *network = crate::container_spec::private_network_name(&cluster, network);
                }
            }
        }
        config
    }

    /// The lease to label the cluster with: the builder's, else the
    /// settings' (`FOOTLOOSE_LEASE`, else 3 hours).
    pub(crate) fn effective_lease(&self, settings: &Settings) -> Result<Option<Duration>> {
        match (self.lifetime, self.lease) {
            (Lifetime::Cli, _) => Ok(None),
            (Lifetime::Test, Some(lease)) => Ok(Some(lease)),
            (Lifetime::Test, None) => Ok(Some(settings.lease_or_default()?)),
            (Lifetime::Pool, _) => Ok(Some(settings.pool_lease_or_default()?)),
        }
    }

    /// What `create` is asked to do, resolved from this builder.
    pub(crate) fn request(&self) -> Result<CreateRequest> {
        let settings = self.settings_or_env().into_owned();
        let made_from = match &self.config_path {
            Some(path) => path.display().to_string(),
            None => format!(
                "the built-in default config in {}",
                self.config_dir.display()
            ),
        };
        Ok(CreateRequest {
            config: self.scoped_config(),
            made_from,
            config_dir: self.config_dir.clone(),
            key_path: self.key_path_in(&settings),
            lifetime: self.lifetime,
            watchdog: self.watchdog.clone(),
            lease: self.effective_lease(&settings)?,
            ready_timeout: self.ready_timeout,
            keep_on_failure: self.keep_on_failure,
            cancel: self.cancel.clone(),
            publish_address: self.publish_address,
            readiness: Readiness::Ssh,
            pool: None,
            settings,
        })
    }

    /// Connects to the engine the config's machines run on: the backend
    /// their `backend:` names (Docker's API when none does), found as
    /// [`Engine::connect`] finds it, from the builder's settings
    /// ([`Settings::engine`]: `DOCKER_HOST`, the Docker context,
    /// `FOOTLOOSE_REACH`, …).
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// let builder = footloose::ClusterBuilder::from_file("footloose.yaml")?;
    /// let engine = builder.connect().await?;
    /// println!("machines are reached by {}", engine.route());
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<Engine> {
        self.connect_in(&self.settings_or_env()).await
    }

    /// [`connect`](Self::connect), to the engine `settings` choose.
    pub(crate) async fn connect_in(&self, settings: &Settings) -> Result<Engine> {
        let backend = settings.engine.backend_for(self.backend())?;
        let engine = Engine::connect_with(backend, &settings.engine).await?;
        match &self.config.cluster.reach {
            Some(reach) => {
                let reach = reach.parse().map_err(|source: crate::config::ReachError| {
                    crate::Error::Setting {
                        setting: "cluster.reach".to_owned(),
                        source: Box::new(source),
                    }
                })?;
                Ok(engine.with_reach(&reach))
            }
            None => Ok(engine),
        }
    }

    /// The backend the config's machines ask for (`backend:`), if any
    /// does; `FOOTLOOSE_BACKEND` goes over it.
    fn backend(&self) -> Option<crate::config::Backend> {
        self.config.machines.iter().find_map(|set| set.spec.backend)
    }

    /// Creates the cluster (idempotently) and waits until every machine is
    /// ready. The cluster stays until deleted: see
    /// [`start`](Self::start) for one removed on drop.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config).persistent().create()?;
    /// println!("{} is up", cluster.name());
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn create(&self) -> Result<Cluster> {
        let builder = self.clone();
        crate::runtime::block_on(async move { builder.create_here().await })
    }

    /// Async twin of [`create`](Self::create).
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 2);
    /// let cluster = footloose::ClusterBuilder::new(config).create_async().await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_async(&self) -> Result<Cluster> {
        let builder = self.clone();
        crate::runtime::spawn(async move { builder.create_here().await }).await
    }

    async fn create_here(&self) -> Result<Cluster> {
        let request = self.request()?;
        let engine = self.connect_in(&request.settings).await?;
        create(&engine, &request).await
    }

    /// The pool to take the cluster from: the builder's size, else
    /// `FOOTLOOSE_POOL`; only for a test cluster with a unique name, and
    /// `None` for a size of 0.
    pub(crate) fn pool_size(&self, settings: &Settings) -> Result<Option<usize>> {
        if self.lifetime != Lifetime::Test || !self.unique {
            return Ok(None);
        }
        let size = match self.pool {
            Some(size) => size,
            None => settings.pool.clone()?.unwrap_or(0),
        };
        if size > 0 {
            // Read by the refiller this test starts, which cannot fail the
            // test: a pace it cannot use is the test's error.
            settings.pool_pace.clone()?;
        }
        Ok((size > 0).then_some(size))
    }
}
