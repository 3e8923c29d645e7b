//! Helpers shared by the end-to-end tests.

use footloose::engine::Engine;

/// Fails with a clear message when no Docker engine answers: these tests
/// need one and must not pass without it.
pub fn require_docker() -> Engine {
    footloose::runtime::block_on(Engine::connect())
        .unwrap_or_else(|err| panic!("these tests need a running Docker engine: {err}"))
}

/// The names of the containers labelled with `cluster`.
pub fn containers_of(cluster: &str) -> Vec<String> {
    let engine = require_docker();
    footloose::runtime::block_on(async move {
        let status = footloose::status(&engine, Some(cluster)).await.unwrap();
        status.into_iter().map(|m| m.container).collect()
    })
}

/// Waits up to `seconds` for every container of `cluster` to be gone;
/// returns whether they went.
pub fn wait_until_gone(cluster: &str, seconds: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if containers_of(cluster).is_empty() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
