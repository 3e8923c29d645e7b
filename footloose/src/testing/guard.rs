//! The guard of a test cluster: [`ClusterBuilder::start`] starts the
//! process's watchdog (test glue) and hands it to the core as a label, and
//! the guard removes the cluster when dropped.

use std::ops::Deref;

use crate::error::Result;
use crate::{Cluster, ClusterBuilder, Settings};

impl ClusterBuilder {
    /// Creates the cluster and returns a guard that removes it when dropped,
    /// also when a test panics, or when the process gets SIGINT or SIGTERM.
    /// If the process is killed outright, a watchdog process removes the
    /// machines, provided the binary has footloose's test hooks:
    /// `#[footloose::cluster]` tests have them, any other binary needs
    /// [`footloose::test_hooks!()`](crate::test_hooks) (see
    /// [`ClusterBuilder`]).
    ///
    /// ```no_run
    /// let guard = footloose::ClusterBuilder::from_file("footloose.yaml")?
    ///     .unique_name()
    ///     .start()?;
    /// guard.machine("node0").exec("true")?.checked()?;
    /// // dropped here: the cluster is removed
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn start(self) -> Result<ClusterGuard> {
        let builder = self.watched()?;
        let settings = builder.settings_or_env().into_owned();
        let cluster =
            crate::runtime::block_on(
                async move { crate::pool::create_test_cluster(&builder).await },
            );
        super::watchdog::sweep_soon(&settings);
        Ok(ClusterGuard {
            cluster: Some(cluster?),
        })
    }

    /// Async twin of [`start`](Self::start).
    ///
    /// ```no_run
    /// # async fn demo() -> footloose::Result<()> {
    /// let guard = footloose::ClusterBuilder::from_file("footloose.yaml")?
    ///     .unique_name()
    ///     .start_async()
    ///     .await?;
    /// guard.machine("node0").exec_async("true").await?.checked()?;
    /// # Ok(()) }
    /// ```
    pub async fn start_async(self) -> Result<ClusterGuard> {
        let builder = self.watched()?;
        let settings = builder.settings_or_env().into_owned();
        let cluster =
            crate::runtime::spawn(async move { crate::pool::create_test_cluster(&builder).await })
                .await;
        super::watchdog::sweep_soon(&settings);
        Ok(ClusterGuard {
            cluster: Some(cluster?),
        })
    }

    /// This builder, its settings read (the environment's unless given)
    /// and the process's watchdog started as they say.
    fn watched(self) -> Result<ClusterBuilder> {
        let settings = self.settings.clone().unwrap_or_else(Settings::from_env);
        let watchdog = super::watchdog::ensure_started(&settings);
        Ok(self.settings(settings).watched_by(watchdog))
    }
}

/// A cluster that is removed when the guard is dropped.
///
/// ```no_run
/// let config = footloose::Config::with_replicas("demo", "footloose/debian12", 1);
/// {
///     let guard = footloose::ClusterBuilder::new(config).unique_name().start()?;
///     // A guard is a Cluster: its machines, its name, delete().
///     guard.machine("node0").exec("true")?.checked()?;
/// } // dropped: the cluster is removed, also when the test panicked
/// # Ok::<(), footloose::Error>(())
/// ```
#[derive(Debug)]
pub struct ClusterGuard {
    cluster: Option<Cluster>,
}

impl ClusterGuard {
    /// Keeps the cluster: the guard no longer removes it.
    ///
    /// ```no_run
    /// let config = footloose::Config::with_replicas("debug", "footloose/debian12", 1);
    /// let guard = footloose::Cluster::builder(config).start()?;
    /// let cluster = guard.keep(); // still there after this process ends
    /// println!("footloose ssh --cluster {} root@node0", cluster.name());
    /// # Ok::<(), footloose::Error>(())
    /// ```
    pub fn keep(mut self) -> Cluster {
        self.cluster.take().expect("guard holds a cluster")
    }
}

impl Deref for ClusterGuard {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        self.cluster.as_ref().expect("guard holds a cluster")
    }
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            if let Err(err) = cluster.delete() {
                eprintln!(
                    "footloose: could not remove cluster {}: {}",
                    cluster.name(),
                    crate::error::chain(&err)
                );
            }
        }
    }
}
