//! `footloose config create` and `footloose config validate`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use footloose::Config;

use crate::cli::ConfigCreateArgs;
use crate::context::Context;

pub fn create(context: &Context, args: &ConfigCreateArgs) -> anyhow::Result<ExitCode> {
    let path = context.config_path();
    let mut config = Config::with_replicas(&args.name, &args.image, args.replicas);
    config.cluster.private_key = args.key.clone();
    for set in &mut config.machines {
        set.spec.networks = args.networks.clone();
        set.spec.privileged = args.privileged;
        set.spec.cmd = args.cmd.clone();
    }
    let yaml = config.to_yaml()?;
    // What is written must be what `create` accepts.
    Config::from_yaml(&yaml, &path.display().to_string())
        .context("the options do not make a valid config")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} already exists; pass --override to replace it",
                path.display()
            )
        }
        other => other.with_context(|| format!("cannot write {}", path.display()))?,
    };
    file.write_all(yaml.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    crate::progress::say(format!(
        "Wrote {} ({} machine(s))",
        path.display(),
        args.replicas
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn validate(context: &Context) -> anyhow::Result<ExitCode> {
    let path = context.config_path();
    let config = Config::load(&path)?;
    print!("{}", config.to_yaml()?);
    crate::progress::say(format!(
        "{} is valid: cluster {}, {} machine(s)",
        path.display(),
        config.cluster.name,
        config.machines().count()
    ));
    Ok(ExitCode::SUCCESS)
}
