//! SIGINT and SIGTERM, the way a command that creates things should take
//! them: the first one asks the work to stop and clean up, a second one
//! ends the process at once.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// The exit code of a process ended by SIGINT.
pub const SIGINT_EXIT: i32 = 130;
/// The exit code of a process ended by SIGTERM.
pub const SIGTERM_EXIT: i32 = 143;

/// Watches for SIGINT and SIGTERM on a thread of its own. The first one
/// calls `on_first` with the exit code it stands for (130 or 143) on a
/// blocking thread; it may clean up and exit. Any further one ends the
/// process at once with that code, without running exit handlers.
pub fn on_interrupt(on_first: impl FnOnce(i32) + Send + 'static) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("footloose-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                let code = next(&mut interrupt, &mut terminate).await;
                tokio::task::spawn_blocking(move || on_first(code));
                let code = next(&mut interrupt, &mut terminate).await;
                // SAFETY: _exit ends the process without touching any state.
                unsafe { libc::_exit(code) }
            })
        })?;
    Ok(())
}

/// The exit code of the next SIGINT or SIGTERM.
async fn next(interrupt: &mut Signal, terminate: &mut Signal) -> i32 {
    tokio::select! {
        _ = interrupt.recv() => SIGINT_EXIT,
        _ = terminate.recv() => SIGTERM_EXIT,
    }
}
