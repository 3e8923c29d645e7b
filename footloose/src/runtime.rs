//! footloose's own tokio runtime. All engine and ssh work runs here: the
//! blocking API blocks on it, the async API awaits tasks spawned on it, so
//! the Docker client's connections never outlive the runtime that made them
//! (a `#[tokio::test]` runtime ends with its test).

use std::future::Future;

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: Lazy<Runtime> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("footloose")
        .enable_all()
        .build()
        .expect("cannot start footloose's tokio runtime")
});

/// Runs `future` to completion on footloose's runtime, from synchronous
/// code. Safe to call from inside another runtime: it then blocks on a
/// helper thread instead of the caller's worker.
///
/// ```no_run
/// let engine = footloose::runtime::block_on(footloose::engine::Engine::connect())?;
/// let machines = footloose::runtime::block_on(footloose::status(&engine, None))?;
/// # Ok::<(), footloose::Error>(())
/// ```
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|scope| {
            scope
                .spawn(|| RUNTIME.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    } else {
        RUNTIME.block_on(future)
    }
}

/// Runs `future` on footloose's runtime and awaits it from any runtime.
///
/// ```no_run
/// # async fn demo() -> footloose::Result<()> {
/// // From any runtime (a #[tokio::test]'s ends with its test; footloose's does not).
/// let engine = footloose::runtime::spawn(footloose::engine::Engine::connect()).await?;
/// # Ok(()) }
/// ```
pub async fn spawn<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match RUNTIME.spawn(future).await {
        Ok(output) => output,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// Starts `future` on footloose's runtime and does not wait for it: work
/// that may outlast its caller, and is cut short when the process ends.
pub(crate) fn spawn_detached<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    drop(RUNTIME.spawn(future));
}
