//! `pool fill`, `pool ls` and `pool drain`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use footloose::pool::PooledCluster;

use super::engine;
use crate::cli::{ListFormat, PoolCommand, PoolFillArgs};
use crate::context::Context;

/// The pool size `pool fill` keeps when neither `--size` nor
/// `FOOTLOOSE_POOL` says.
const DEFAULT_FILL: usize = 4;

pub fn run(context: &Context, command: PoolCommand) -> anyhow::Result<ExitCode> {
    match command {
        PoolCommand::Fill(args) => fill(context, &args),
        PoolCommand::Ls { output } => list(context, output),
        PoolCommand::Drain { key } => drain(context, key.as_deref()),
    }
}

fn fill(context: &Context, args: &PoolFillArgs) -> anyhow::Result<ExitCode> {
    let mut builder = context.load_as_tests_do()?;
    if let Some(image) = &args.image {
        builder = builder.image(image);
    }
    let size = match args.size {
        Some(size) => size,
        None => context.settings().pool.clone()?.unwrap_or(DEFAULT_FILL),
    };
    let started = Instant::now();
    let filled =
        footloose::runtime::block_on(footloose::pool::fill(&builder, size)).with_context(|| {
            format!(
                "cannot fill the pool of {}",
                context.config_path().display()
            )
        })?;
    crate::progress::say(format!(
        "Pool {}: {} cluster(s) ready ({} booted in {:.1}s)",
        filled.key,
        filled.ready,
        filled.made.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

fn list(context: &Context, output: ListFormat) -> anyhow::Result<ExitCode> {
    let engine = engine(context.settings())?;
    let (pooled, refillers) = footloose::runtime::block_on(async {
        tokio::try_join!(
            footloose::pool::list(&engine),
            footloose::pool::refillers(&engine)
        )
    })
    .context("cannot list the pools")?;
    match output {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(&as_json(&pooled))?),
        ListFormat::Table => {
            print_table(&pooled);
            for refiller in refillers {
                println!(
                    "pool {} is being topped up by pid {} on {}",
                    refiller.key, refiller.pid, refiller.host
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn as_json(pooled: &[PooledCluster]) -> serde_json::Value {
    pooled
        .iter()
        .map(|p| {
            serde_json::json!({
                "key": p.key,
                "cluster": p.cluster,
                "state": p.state.to_string(),
                "machines": p.machines,
                "leaseExpires": p.lease_expires,
            })
        })
        .collect()
}

fn print_table(pooled: &[PooledCluster]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    println!(
        "{:<18} {:<32} {:<8} {:>8}  LEASE",
        "POOL", "CLUSTER", "STATE", "MACHINES"
    );
    for p in pooled {
        let lease = match p.lease_expires {
            Some(at) if at > now => format!("{}m left", (at - now).div_ceil(60)),
            Some(_) => "expired".to_owned(),
            None => "-".to_owned(),
        };
        println!(
            "{:<18} {:<32} {:<8} {:>8}  {lease}",
            p.key, p.cluster, p.state, p.machines
        );
    }
}

fn drain(context: &Context, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let engine = engine(context.settings())?;
    let removed = footloose::runtime::block_on(footloose::pool::drain(&engine, key))
        .context("cannot drain the pools")?;
    crate::progress::say(format!(
        "Drained {} pooled cluster(s){}",
        removed.len(),
        key.map(|k| format!(" of pool {k}")).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}
