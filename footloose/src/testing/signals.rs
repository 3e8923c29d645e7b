//! SIGINT and SIGTERM in a test process: remove its test clusters before
//! it dies. (SIGKILL cannot be caught: the watchdog covers it.)

use std::time::Duration;

use crate::process::Identity;
use crate::Settings;

/// How long removing the clusters may take before the process exits anyway.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Installs the handler (once per process; the caller makes sure of that).
/// On the first signal the process removes every test cluster it owns,
/// then exits with 130 (SIGINT) or 143 (SIGTERM); a second signal exits at
/// once and leaves the rest to the watchdog. `settings` say where the
/// clusters' state directories are.
pub(crate) fn remove_clusters_on_interrupt(settings: Settings) {
    let installed = crate::interrupt::on_interrupt(move |code| {
        eprintln!("footloose: interrupted: removing this process's test clusters");
        let me = Identity::current();
        let settings = settings.clone();
        let removed = crate::runtime::block_on(async move {
            tokio::time::timeout(CLEANUP_LIMIT, async {
                let mut removed = Vec::new();
                for engine in super::janitor::engines_of(&settings).await? {
                    removed.extend(crate::cluster::remove_owned_by(&engine, &me, &settings).await?);
                }
                Ok::<_, crate::Error>(removed)
            })
            .await
        });
        match removed {
            Ok(Ok(clusters)) => eprintln!("footloose: removed {} test cluster(s)", clusters.len()),
            Ok(Err(err)) => eprintln!(
                "footloose: could not remove the test clusters: {}",
                crate::error::chain(&err)
            ),
            Err(_) => eprintln!("footloose: removing the test clusters took too long"),
        }
        std::process::exit(code);
    });
    if let Err(err) = installed {
        eprintln!("footloose: cannot watch for interrupts: {err}");
    }
}
