//! One module per group of commands.

pub mod config;
pub mod image;
pub mod lifecycle;
pub mod pool;
pub mod show;
pub mod ssh;

use footloose::engine::Engine;

/// Connects from synchronous code to the engine `settings` choose (of
/// `FOOTLOOSE_BACKEND`, else Docker's).
pub fn engine(settings: &footloose::Settings) -> anyhow::Result<Engine> {
    let backend = settings.engine.backend_for(None)?;
    Ok(footloose::runtime::block_on(Engine::connect_with(
        backend,
        &settings.engine,
    ))?)
}

/// Connects to the engine the cluster of `builder` runs on (its config's
/// `backend:`).
pub fn engine_of(builder: &footloose::ClusterBuilder) -> anyhow::Result<Engine> {
    let builder = builder.clone();
    Ok(footloose::runtime::block_on(async move {
        builder.connect().await
    })?)
}
