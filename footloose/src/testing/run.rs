//! What a `#[footloose::cluster]` test runs: create the cluster, run the
//! body, remove the cluster whatever happened, and let the test's own
//! panic message through.

use std::fmt::Debug;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::{Cluster, ClusterBuilder, Config};

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

/// What `FOOTLOOSE_KEEP` asks for.
///
/// ```
/// use footloose::testing::{keep_policy, KeepPolicy};
///
/// if keep_policy() == KeepPolicy::OnFailure {
///     eprintln!("the clusters of failing tests are kept");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepPolicy {
    /// Remove the cluster after every test (the default).
    Never,
    /// Keep the clusters of failed tests (`FOOTLOOSE_KEEP=on-failure`).
    OnFailure,
    /// Keep every cluster (`FOOTLOOSE_KEEP=always`).
    Always,
}

/// Reads `FOOTLOOSE_KEEP`.
pub fn keep_policy() -> KeepPolicy {
    match std::env::var("FOOTLOOSE_KEEP").as_deref() {
        Ok("on-failure") => KeepPolicy::OnFailure,
        Ok("always") | Ok("1") | Ok("true") => KeepPolicy::Always,
        _ => KeepPolicy::Never,
    }
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
}

impl TestSpec {
    fn builder(&self) -> crate::Result<ClusterBuilder> {
        let config = Config::from_yaml(self.config_text, self.config_path)?;
        let mut builder = ClusterBuilder::new(config)
            .config_path(std::path::Path::new(self.config_path))
            .name(&sanitise(self.test_name))
            .unique_name();
        if let Some(image) = self.image {
            builder = builder.image(image);
        }
        if keep_policy() != KeepPolicy::Never {
            // A cluster that may be kept must survive the watchdog.
            builder = builder.persistent();
        }
        Ok(builder)
    }
}

/// Runs a synchronous test body on a fresh (or the shared) cluster.
pub fn run_test<R: TestResult>(spec: TestSpec, body: impl FnOnce(&Cluster) -> R) {
    if spec.shared {
        let key = format!("{}#{}", spec.config_path, spec.image.unwrap_or(""));
        let cluster = crate::testing::shared::get_or_create(&key, || spec.builder())
            .unwrap_or_else(|err| panic!("footloose: cannot create the shared cluster: {err}"));
        if let Err(failure) = body(&cluster).into_outcome() {
            panic!("{failure}");
        }
        return;
    }
    let guard = spec
        .builder()
        .and_then(ClusterBuilder::start)
        .unwrap_or_else(|err| {
            panic!(
                "footloose: cannot create the test's cluster: {}",
                crate::error::chain(&err)
            )
        });
    let outcome = catch_unwind(AssertUnwindSafe(|| body(&guard).into_outcome()));
    let failed = !matches!(outcome, Ok(Ok(())));
    let keep = match keep_policy() {
        KeepPolicy::Always => true,
        KeepPolicy::OnFailure => failed,
        KeepPolicy::Never => false,
    };
    if keep {
        let cluster = guard.keep();
        eprintln!(
            "footloose: kept cluster {name} (FOOTLOOSE_KEEP); reach a machine with\n  footloose -c {config} ssh --cluster {name} root@{host}\nand remove it with\n  footloose prune --cluster {name}",
            name = cluster.name(),
            config = spec.config_path,
            host = cluster.machines().first().map(|m| m.hostname()).unwrap_or("node0"),
        );
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

    #[test]
    fn test_names_become_cluster_names() {
        assert_eq!(sanitise("boots::debian11"), "boots--debian11");
        assert_eq!(sanitise("__x__"), "x");
    }
}
