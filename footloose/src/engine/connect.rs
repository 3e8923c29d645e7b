//! Connecting to an engine: finding it as the settings say (or at an
//! endpoint), then placing this process, where it runs as the engine sees
//! it and the route to the machines' sshd that follows, which the
//! config's `cluster.reach` may change unless `FOOTLOOSE_REACH` chose it.

use super::vantage::{self, Vantage};
use super::{Engine, REACH_ENV};
use crate::backend::Connection;
use crate::error::Result;
use crate::reach::{Reach, Route};
use crate::settings::EngineSettings;

impl Engine {
    /// Connects to the engine of the backend `FOOTLOOSE_BACKEND` names
    /// (Docker when unset), found as its own client would find it (for
    /// Docker: `DOCKER_HOST`, else the current Docker context, else the
    /// local socket; for Incus: the `incus` client's variables and
    /// remotes), and reads the host's facts.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// let engine = footloose::engine::Engine::connect().await?;
    /// println!("{} at {}", engine.endpoint(), engine.address());
    /// # Ok(()) }
    /// ```
    pub async fn connect() -> Result<Engine> {
        let settings = EngineSettings::from_env();
        Engine::connect_with(settings.backend_for(None)?, &settings).await
    }

    /// Connects to the engine of `backend` that `settings` choose: the
    /// settings are read once where the CLI or the test harness starts,
    /// and passed here.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::Engine;
    /// use footloose::settings::EngineSettings;
    ///
    /// let settings = EngineSettings::from_env();
    /// let engine = Engine::connect_with(footloose::config::Backend::Docker, &settings).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(
        backend: crate::config::Backend,
        settings: &EngineSettings,
    ) -> Result<Engine> {
        let connection = crate::backend::connect(backend, settings).await?;
        Ok(Engine::placed(connection, settings.reach.as_deref()).await)
    }

    /// Connects to the engine that runs machines of `backend` (the
    /// config's `backend:`), found as [`connect`](Self::connect) finds it.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::Engine;
    ///
    /// let config = footloose::Config::load("footloose.yaml".as_ref())?;
    /// let backend = config.machines[0].spec.backend.unwrap_or(footloose::config::Backend::Docker);
    /// let engine = Engine::connect_for(backend).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_for(backend: crate::config::Backend) -> Result<Engine> {
        Engine::connect_with(backend, &EngineSettings::from_env()).await
    }

    /// Connects to the engine at `endpoint`, written as `DOCKER_HOST` is:
    /// `unix:///run/podman/podman.sock`, `tcp://10.0.0.5:2375`,
    /// `ssh://ops@engine.example/run/podman/podman.sock`.
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::Engine;
    ///
    /// let podman = Engine::connect_to("unix:///run/podman/podman.sock").await?;
    /// let remote = Engine::connect_to("ssh://ops@engine.example").await?;
    /// assert!(remote.is_remote());
    /// # Ok(()) }
    /// ```
    pub async fn connect_to(endpoint: &str) -> Result<Engine> {
        let connection =
            crate::backend::connect_at(crate::config::Backend::Docker, endpoint).await?;
        let reach = EngineSettings::from_env().reach;
        Ok(Engine::placed(connection, reach.as_deref()).await)
    }

    /// The engine of `connection`, with the route from where this process
    /// runs that `reach` (`FOOTLOOSE_REACH`) asks for, or footloose's own
    /// choice. A route that cannot work is kept as [`Route::Unroutable`]:
    /// commands that reach no machine (`delete`, `show`, cleanup) still
    /// work, the others say why not.
    async fn placed(connection: Connection, reach: Option<&str>) -> Engine {
        let Connection {
            backend,
            endpoint,
            address,
            link,
        } = connection;
        let vantage = match link {
            // Through ssh, this process is never in the engine's host.
            Some(_) => Vantage::Outside,
            None => vantage::detect(backend.as_ref()).await,
        };
        let forced = reach.is_some();
        let route = match reach.map(str::parse::<Reach>).transpose() {
            Ok(reach) => {
                let reach = reach.unwrap_or_default();
                vantage::route(&reach, &vantage, address, link.is_some()).unwrap_or_else(|reason| {
                    Route::Unroutable {
                        reason: format!("{REACH_ENV}={reach}: {}", crate::error::chain(&reason)),
                    }
                })
            }
            Err(reason) => Route::Unroutable {
                reason: format!("{REACH_ENV}: {}", crate::error::chain(&reason)),
            },
        };
        if route != (Route::Published { host: address }) {
            tracing::debug!("{}: machines are reached by {route}", vantage.describe());
        }
        Engine {
            backend,
            endpoint,
            address,
            link,
            vantage,
            route,
            reach_forced: forced,
        }
    }

    /// The engine with machines reached as `reach` says (the config's
    /// `cluster.reach`), unless `FOOTLOOSE_REACH` is set, which wins. A
    /// route that cannot work is kept as [`Route::Unroutable`].
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// use footloose::engine::{Engine, Reach, Route};
    ///
    /// let engine = Engine::connect().await?.with_reach(&Reach::Network(Some("ci".into())));
    /// // Unless FOOTLOOSE_REACH says otherwise:
    /// assert_eq!(engine.route().network(), Some("ci"));
    /// # Ok(()) }
    /// ```
    pub fn with_reach(mut self, reach: &Reach) -> Engine {
        if self.reach_forced {
            return self;
        }
        self.route = vantage::route(reach, &self.vantage, self.address, self.link.is_some())
            .unwrap_or_else(|reason| Route::Unroutable {
                reason: format!("cluster.reach `{reach}`: {}", crate::error::chain(&reason)),
            });
        self
    }
}
