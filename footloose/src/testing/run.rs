//! What a `#[footloose::cluster]` test runs: create the cluster, run the
//! body, remove the cluster whatever happened, and let the test's own
//! panic message through.

use std::fmt::Debug;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

pub use crate::settings::KeepPolicy;
use crate::{Cluster, ClusterBuilder, Config, Settings};

/// What a test body may return: `()` or `Result<(), E: Debug>`.
///
/// ```
/// use footloose::testing::TestResult;
///
/// assert!(().into_outcome().is_ok());
/// let failed = Err::<(), _>("no nginx").into_outcome().unwrap_err();
/// assert_eq!(failed.to_string(), "test returned an error: \"no nginx\"");
/// ```
#[diagnostic::on_unimplemented(
    message = "a footloose test returns `()` or `Result<(), E>` with `E: Debug`, not `{Self}`",
    label = "this return type"
)]
pub trait TestResult {
    /// `Err` when the test failed by returning an error.
    fn into_outcome(self) -> Result<(), TestFailure>;
}

/// A test body returned an error: the test fails with it, printed as
/// `{:?}` prints it (as `cargo test` prints a failing test's error).
///
/// ```
/// use footloose::testing::TestResult;
///
/// let failure = Err::<(), _>(std::io::Error::other("no route")).into_outcome().unwrap_err();
/// assert!(failure.error.contains("no route"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("test returned an error: {error}")]
#[non_exhaustive]
pub struct TestFailure {
    /// The error, as `{:?}` prints it.
    pub error: String,
}

impl TestResult for () {
    fn into_outcome(self) -> Result<(), TestFailure> {
        Ok(())
    }
}

impl<E: Debug> TestResult for Result<(), E> {
    fn into_outcome(self) -> Result<(), TestFailure> {
        self.map_err(|e| TestFailure {
            error: format!("{e:?}"),
        })
    }
}

/// Reads `FOOTLOOSE_KEEP`: `on-failure` (or `failure`), `always` (or `1`,
/// `true`); anything else keeps nothing. The same as
/// [`Settings::from_env`]`().keep`.
pub fn keep_policy() -> KeepPolicy {
    Settings::from_env().keep
}

/// A test as the attribute describes it.
#[derive(Debug, Clone, Copy)]
pub struct TestSpec {
    /// The test function's name.
    pub test_name: &'static str,
    /// The config file's absolute path.
    pub config_path: &'static str,
    /// The config file's text, embedded at compile time.
    pub config_text: &'static str,
    /// The image replacing every machine's, for `images = [...]`.
    pub image: Option<&'static str>,
    /// Whether the cluster is shared by the process's tests.
    pub shared: bool,
    /// `ready_timeout = "…"`: how long the machines have to become ready
    /// (the builder's default when `None`).
    pub ready_timeout: Option<Duration>,
    /// `keep_on_failure`: keep the cluster when the test fails, as
    /// `FOOTLOOSE_KEEP=on-failure` does for every test. Never with `shared`
    /// (the attribute refuses the combination).
    pub keep_on_failure: bool,
    /// `pool = N`: take the cluster from a pool of `N` booted clusters
    /// kept warm in the background ([`ClusterBuilder::pool`]); `Some(0)`
    /// turns pooling off for this test. `None` when the attribute says
    /// nothing: `FOOTLOOSE_POOL` decides. Never with `shared` (the
    /// attribute refuses the combination).
    pub pool: Option<usize>,
}

impl TestSpec {
    /// What is kept of this test's cluster: `FOOTLOOSE_KEEP` (of
    /// `settings`), or at least the failed ones when the attribute says
    /// `keep_on_failure`.
    fn keep(&self, settings: &Settings) -> KeepPolicy {
        match settings.keep {
            KeepPolicy::Never if self.keep_on_failure => KeepPolicy::OnFailure,
            policy => policy,
        }
    }

    /// Why a cluster is kept, for the message.
    fn kept_because(&self, settings: &Settings) -> &'static str {
        if self.keep_on_failure && settings.keep == KeepPolicy::Never {
            "keep_on_failure"
        } else {
            "FOOTLOOSE_KEEP"
        }
    }

    /// The builder of the test's cluster, with the harness's `settings`.
    fn builder(&self, settings: &Settings) -> crate::Result<ClusterBuilder> {
        let config = Config::from_yaml(self.config_text, self.config_path)?;
        let mut builder = ClusterBuilder::new(config)
            .settings(settings.clone())
            .config_path(std::path::Path::new(self.config_path))
            .name(&sanitise(self.test_name))
            .unique_name();
        if let Some(image) = self.image {
            builder = builder.image(image);
        }
        if let Some(timeout) = self.ready_timeout {
            builder = builder.ready_timeout(timeout);
        }
        if let Some(size) = self.pool {
            builder = builder.pool(size);
        }
        if self.keep(settings) != KeepPolicy::Never {
            // A cluster that may be kept must survive the watchdog.
            builder = builder.persistent();
            if !self.shared {
                // A cluster that failed to come up is kept too.
                builder = builder.keep_on_failure(true);
            }
        }
        Ok(builder)
    }

    /// What the test's output says of a kept cluster: its name, and how to
    /// reach and delete it.
    fn kept_message(
        &self,
        settings: &Settings,
        cluster: &str,
        host: Option<&str>,
        what: &str,
    ) -> String {
        let config = self.config_path;
        let reach = match host {
            Some(host) => format!(
                "reach a machine with\n  footloose -c {config} --cluster {cluster} ssh root@{host}\n"
            ),
            None => format!(
                "see its machines with\n  footloose -c {config} --cluster {cluster} show\n"
            ),
        };
        format!(
            "footloose: kept {what}cluster {cluster} ({because}); {reach}and delete it with\n  footloose -c {config} --cluster {cluster} delete",
            because = self.kept_because(settings),
        )
    }
}

/// Runs a synchronous test body on a fresh (or the shared) cluster, with
/// the settings of the environment, read once here.
///
/// Its failures are reported at the caller's location, which the attribute
/// places on the test function: a failing test's panic names the test's
/// file and line, not this one's.
#[track_caller]
pub fn run_test<R: TestResult>(spec: TestSpec, body: impl FnOnce(&Cluster) -> R) {
    let settings = Settings::from_env();
    if spec.shared {
        let key = format!("{}#{}", spec.config_path, spec.image.unwrap_or(""));
        let make = || spec.builder(&settings);
        let cluster = match crate::testing::shared::get_or_create(&key, &settings, make) {
            Ok(cluster) => cluster,
            Err(err) => panic!("footloose: cannot create the shared cluster: {err}"),
        };
        if let Err(failure) = body(&cluster).into_outcome() {
            panic!("{failure}");
        }
        return;
    }
    let builder = match spec.builder(&settings) {
        Ok(builder) => builder,
        Err(err) => panic!(
            "footloose: cannot create the test's cluster: {}",
            crate::error::chain(&err)
        ),
    };
    let name = builder.config().cluster.name.clone();
    let guard = match builder.start() {
        Ok(guard) => guard,
        Err(err) if spec.keep(&settings) == KeepPolicy::Never => panic!(
            "footloose: cannot create the test's cluster: {}",
            crate::error::chain(&err)
        ),
        Err(err) => panic!(
            "footloose: cannot create the test's cluster: {}\n{}",
            crate::error::chain(&err),
            spec.kept_message(&settings, &name, None, "what was made of ")
        ),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| body(&guard).into_outcome()));
    let failed = !matches!(outcome, Ok(Ok(())));
    let keep = match spec.keep(&settings) {
        KeepPolicy::Always => true,
        KeepPolicy::OnFailure => failed,
        KeepPolicy::Never => false,
    };
    if keep {
        let cluster = guard.keep();
        let host = cluster.machines().first().map(|m| m.hostname());
        eprintln!("{}", spec.kept_message(&settings, cluster.name(), host, ""));
    } else {
        super::reaper::remove_later(guard.keep());
    }
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => panic!("{failure}"),
        Err(panic) => resume_unwind(panic),
    }
}

/// Runs an async test body to completion on a new current-thread tokio
/// runtime, as `#[tokio::test]` would.
pub fn block_on_test<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start a tokio runtime for the test")
        .block_on(body)
}

/// A test path such as `boots::debian11` as a cluster name part.
fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "test".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_outcomes() {
        assert_eq!(().into_outcome(), Ok(()));
        assert_eq!(Ok::<(), String>(()).into_outcome(), Ok(()));
        let failure = Err::<(), _>("boom").into_outcome().unwrap_err();
        assert_eq!(failure.error, "\"boom\"");
        assert_eq!(failure.to_string(), "test returned an error: \"boom\"");
    }

    fn spec(keep_on_failure: bool) -> TestSpec {
        TestSpec {
            test_name: "t",
            config_path: "/work/footloose.yaml",
            config_text: "",
            image: None,
            shared: false,
            ready_timeout: None,
            keep_on_failure,
            pool: None,
        }
    }

    #[test]
    fn keep_on_failure_keeps_at_least_failed_clusters() {
        assert_ne!(spec(true).keep(&Settings::from_env()), KeepPolicy::Never);
    }

    #[test]
    fn the_attributes_options_reach_the_builder() {
        let config = "cluster:\n  name: t\n  privateKey: key\nmachines:\n- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n";
        let builder = TestSpec {
            config_text: config,
            ready_timeout: Some(Duration::from_secs(90)),
            pool: Some(3),
            ..spec(true)
        }
        .builder(&Settings::from_env())
        .unwrap();
        assert_eq!(builder.ready_timeout, Duration::from_secs(90));
        assert_eq!(builder.pool, Some(3));
        // Kept clusters outlive the watchdog, also half-made ones.
        assert_eq!(builder.lifetime, crate::labels::Lifetime::Cli);
        assert!(builder.keep_on_failure);
        let plain = TestSpec {
            config_text: config,
            ..spec(false)
        };
        if keep_policy() == KeepPolicy::Never {
            let builder = plain.builder(&Settings::from_env()).unwrap();
            let default = ClusterBuilder::new(Config::from_yaml(config, "t").unwrap());
            assert_eq!(builder.ready_timeout, default.ready_timeout);
            assert_eq!(builder.lifetime, crate::labels::Lifetime::Test);
            assert!(!builder.keep_on_failure);
        }
        // Without `pool`, the builder is left to FOOTLOOSE_POOL.
        let settings = Settings::from_env();
        let untouched = ClusterBuilder::new(Config::from_yaml(config, "t").unwrap())
            .settings(settings.clone())
            .pool;
        assert_eq!(plain.builder(&settings).unwrap().pool, untouched);
        let off = TestSpec {
            pool: Some(0),
            ..plain
        };
        assert_eq!(off.builder(&Settings::from_env()).unwrap().pool, Some(0));
    }

    #[test]
    fn a_kept_cluster_is_named_with_how_to_reach_and_delete_it() {
        let settings = Settings::from_env();
        let message = spec(true).kept_message(&settings, "t-1a2b", Some("node0"), "");
        assert!(
            message.starts_with("footloose: kept cluster t-1a2b ("),
            "{message}"
        );
        assert!(
            message.contains("footloose -c /work/footloose.yaml --cluster t-1a2b ssh root@node0"),
            "{message}"
        );
        assert!(
            message.ends_with("footloose -c /work/footloose.yaml --cluster t-1a2b delete"),
            "{message}"
        );
        let unmade = spec(true).kept_message(&settings, "t-1a2b", None, "what was made of ");
        assert!(unmade.starts_with("footloose: kept what was made of cluster t-1a2b"));
        assert!(unmade.contains("--cluster t-1a2b show"), "{unmade}");
    }

    #[test]
    fn test_names_become_cluster_names() {
        assert_eq!(sanitise("boots::debian11"), "boots--debian11");
        assert_eq!(sanitise("__x__"), "x");
    }
}
