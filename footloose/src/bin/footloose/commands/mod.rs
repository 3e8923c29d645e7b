//! One module per group of commands.

pub mod config;
pub mod image;
pub mod lifecycle;
pub mod show;
pub mod ssh;

use footloose::engine::Engine;

/// Connects to the engine from synchronous code.
pub fn engine() -> anyhow::Result<Engine> {
    Ok(footloose::runtime::block_on(Engine::connect())?)
}

/// Connects to the engine the cluster of `builder` runs on (its config's
/// `backend:`).
pub fn engine_of(builder: &footloose::ClusterBuilder) -> anyhow::Result<Engine> {
    let builder = builder.clone();
    Ok(footloose::runtime::block_on(async move {
        builder.connect().await
    })?)
}
