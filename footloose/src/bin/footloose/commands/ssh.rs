//! `footloose ssh`: the system's OpenSSH client, with the cluster's key and
//! pinned host keys.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _};
use footloose::engine::Engine;
use footloose::{MachineState, MachineStatus, Settings};

use super::engine_of;
use crate::cli::SshArgs;
use crate::context::Context;

/// Writes the cluster's `known_hosts` (one line per machine, keyed by
/// container name, used with `HostKeyAlias`) into its state directory
/// (as `settings` place it) and returns its path.
pub fn write_known_hosts(
    engine: &Engine,
    cluster: &str,
    settings: &Settings,
) -> anyhow::Result<PathBuf> {
    footloose::runtime::block_on(footloose::known_hosts_with(engine, cluster, settings))
        .with_context(|| format!("cannot write the known_hosts of cluster {cluster}"))
}

pub fn run(context: &Context, args: &SshArgs) -> anyhow::Result<ExitCode> {
    let builder = context.load()?.builder;
    let cluster = builder.config().cluster.name.clone();
    let (user, hostname) = match args.target.split_once('@') {
        Some((user, host)) => (user.to_owned(), host.to_owned()),
        None => ("root".to_owned(), args.target.clone()),
    };
    let engine = engine_of(&builder)?;
    let machines = footloose::runtime::block_on(footloose::status(&engine, Some(&cluster)))?;
    let machine = find(&machines, &cluster, &hostname)?;
    if machine.state != MachineState::Running {
        bail!(
            "machine {hostname} of cluster {cluster} is not running; start it with `footloose start {hostname}`"
        );
    }
    if let footloose::engine::Route::Unroutable { reason } = engine.route() {
        bail!("cannot reach machine {hostname}: {reason}");
    }
    let endpoint = machine.ssh_endpoint().with_context(|| {
        format!(
            "machine {hostname} has no ssh port or address to reach by {}",
            engine.route()
        )
    })?;
    let reached = footloose::runtime::block_on(engine.reach(endpoint))
        .with_context(|| format!("cannot reach machine {hostname}"))?;
    let known_hosts = write_known_hosts(&engine, &cluster, context.settings())?;
    let key = builder.key_path();
    if !key.exists() {
        bail!("the cluster's private key {} does not exist", key.display());
    }
    let mut ssh = Command::new("ssh");
    ssh.arg("-i").arg(&key);
    for option in footloose::openssh_options(&known_hosts)
        .into_iter()
        .chain([footloose::host_key_alias(&machine.container)])
    {
        ssh.arg("-o").arg(option);
    }
    ssh.args(["-o", "LogLevel=ERROR"])
        .arg("-p")
        .arg(reached.port().to_string())
        .arg(format!("{user}@{}", reached.ip()));
    if engine.ssh_jump().is_none() {
        if let Some(dir) = context.settings().ssh_control_dir() {
            // The first call leaves a master connection for a minute; the
            // next ones skip the handshake and the login. The socket is
            // named after this machine instance (its container and host
            // key) too, so that a port another machine has since taken
            // never reaches an old master.
            ssh.args(["-o", "ControlMaster=auto"])
                .arg("-o")
                .arg(format!(
                    "ControlPath={}/{}-%C",
                    dir.display(),
                    instance_id(machine)
                ))
                .args(["-o", "ControlPersist=60"]);
        }
    }
    if !args.command.is_empty() {
        ssh.arg("--").args(&args.command);
    }
    crate::progress::finish();
    if engine.ssh_jump().is_none() {
        // Replaces this process: the remote exit code becomes footloose's.
        let err = ssh.exec();
        return Err(err).context("cannot run ssh (is OpenSSH's client installed?)");
    }
    // Over an ssh engine this process carries the forward, so it stays:
    // Ctrl-C belongs to the session, and ssh's exit code becomes ours.
    ignore_interrupts();
    let status = ssh
        .status()
        .context("cannot run ssh (is OpenSSH's client installed?)")?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(code as u8),
        None => ExitCode::from(255),
    })
}

/// A short digest of the machine instance: its container name and host key.
fn instance_id(machine: &MachineStatus) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(machine.container.as_bytes());
    hash.update(b"\n");
    hash.update(
        machine
            .record
            .host_key
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    );
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Leaves SIGINT and SIGQUIT to the ssh client in the foreground: this
/// process catches them and does nothing (a caught signal, unlike an
/// ignored one, is back to its default in the child after exec).
fn ignore_interrupts() {
    extern "C" fn nothing(_: libc::c_int) {}
    // SAFETY: the handler does nothing, so it is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, nothing as *const () as libc::sighandler_t);
        libc::signal(libc::SIGQUIT, nothing as *const () as libc::sighandler_t);
    }
}

fn find<'a>(
    machines: &'a [MachineStatus],
    cluster: &str,
    hostname: &str,
) -> anyhow::Result<&'a MachineStatus> {
    if machines.is_empty() {
        bail!("cluster {cluster} has no machines; create it with `footloose create`");
    }
    machines
        .iter()
        .find(|m| m.hostname == hostname)
        .ok_or_else(|| {
            let known = machines.iter().map(|m| m.hostname.as_str());
            footloose::Error::no_such_machine(cluster, hostname, known).into()
        })
}
