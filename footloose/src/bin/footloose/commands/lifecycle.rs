//! `create`, `delete`, `start`, `stop` and `prune`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{engine, engine_of};
use crate::cli::{CreateArgs, MachineArgs, PruneArgs};
use crate::context::{Context, DEFAULT_CONFIG_FILE};

pub fn create(context: &Context, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let loaded = context.load()?;
    if !loaded.from_file {
        tracing::info!(
            "No {DEFAULT_CONFIG_FILE} here: using the default cluster (1 machine, {}, key {}); `footloose config create` writes a file to edit",
            footloose::config::DEFAULT_IMAGE,
            footloose::config::DEFAULT_PRIVATE_KEY
        );
    }
    let interrupted = CancellationToken::new();
    let mut builder = loaded.builder;
    if let Some(address) = args.publish_address {
        builder = builder.publish_address(address);
    }
    let builder = builder
        .ready_timeout(Duration::from_secs(args.timeout))
        .keep_on_failure(args.keep)
        .cancel_on(interrupted.clone());
    let name = builder.config().cluster.name.clone();
    let started = Instant::now();
    {
        let interrupted = interrupted.clone();
        footloose::interrupt::on_interrupt(move |_| interrupted.cancel())
            .context("cannot watch for Ctrl-C")?;
    }
    let cluster = match builder.create() {
        Err(footloose::Error::Interrupted) => {
            crate::progress::say(if args.keep {
                format!("Interrupted: kept what this run had made of cluster {name} (--keep)")
            } else {
                format!("Interrupted: removed what this run had made of cluster {name}")
            });
            return Ok(ExitCode::from(footloose::interrupt::SIGINT_EXIT as u8));
        }
        other => other.with_context(|| format!("cannot create cluster {name}"))?,
    };
    cluster
        .write_known_hosts()
        .with_context(|| format!("cannot write the known_hosts of cluster {name}"))?;
    let first = cluster.machines().first().map(|m| m.hostname().to_owned());
    crate::progress::say(format!(
        "Cluster {name} is ready: {} machine(s) in {:.1}s.{}",
        cluster.machines().len(),
        started.elapsed().as_secs_f64(),
        first
            .map(|host| format!(" Log in with `footloose ssh root@{host}`."))
            .unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn delete(context: &Context) -> anyhow::Result<ExitCode> {
    let builder = context.load()?.builder;
    let name = builder.config().cluster.name.clone();
    let engine = engine_of(&builder)?;
    let settings = context.settings();
    let removed = footloose::runtime::block_on(footloose::delete_with(&engine, &name, settings))
        .with_context(|| format!("cannot delete cluster {name}"))?;
    for container in &removed.containers {
        tracing::info!("Deleted machine: {container}");
    }
    crate::progress::say(format!(
        "Deleted cluster {name}: {} machine(s), {} network(s), {} volume(s)",
        removed.containers.len(),
        removed.networks.len(),
        removed.volumes.len()
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn start(context: &Context, args: &MachineArgs) -> anyhow::Result<ExitCode> {
    let builder = context.load()?.builder;
    let name = builder.config().cluster.name.clone();
    let engine = engine_of(&builder)?;
    let machines = footloose::runtime::block_on(footloose::start(
        &engine,
        &name,
        &args.hostnames,
        &builder.key_path(),
        Duration::from_secs(args.timeout),
    ))
    .with_context(|| format!("cannot start machines of cluster {name}"))?;
    super::ssh::write_known_hosts(&engine, &name, context.settings())?;
    crate::progress::say(format!(
        "{} machine(s) of {name} running and ready",
        machines.len()
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn stop(context: &Context, args: &MachineArgs) -> anyhow::Result<ExitCode> {
    let builder = context.load()?.builder;
    let name = builder.config().cluster.name.clone();
    let engine = engine_of(&builder)?;
    let stopped = footloose::runtime::block_on(footloose::stop(&engine, &name, &args.hostnames))
        .with_context(|| format!("cannot stop machines of cluster {name}"))?;
    crate::progress::say(format!("Stopped {} machine(s) of {name}", stopped.len()));
    Ok(ExitCode::SUCCESS)
}

pub fn prune(context: &Context, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let engine = engine(context.settings())?;
    if args.expired {
        let settings = context.settings();
        let removed =
            footloose::runtime::block_on(footloose::prune_abandoned_with(&engine, settings))
                .context("cannot prune abandoned test clusters")?;
        for (cluster, verdict) in &removed {
            let why = match verdict {
                footloose::Verdict::LeaseExpired => "its lease ran out",
                _ => "its test process is gone",
            };
            tracing::info!("Removed test cluster {cluster}: {why}");
        }
        crate::progress::say(format!(
            "Removed {} abandoned test cluster(s)",
            removed.len()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let only = context.cluster_override();
    let removed =
        footloose::runtime::block_on(footloose::prune(&engine, only)).context("cannot prune")?;
    crate::progress::say(format!(
        "Removed {} machine(s), {} network(s), {} volume(s){}",
        removed.containers.len(),
        removed.networks.len(),
        removed.volumes.len(),
        only.map(|c| format!(" of cluster {c}")).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}
