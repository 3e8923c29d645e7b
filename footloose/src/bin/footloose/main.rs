//! The `footloose` command line.

mod cli;
mod commands;
mod context;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let context = context::Context::new(cli.config.clone(), cli.cluster.clone());
    match cli.command {
        Command::Config(ConfigCommand::Create(args)) => commands::config::create(&context, &args),
        Command::Config(ConfigCommand::Validate) => commands::config::validate(&context),
        Command::Create(args) => commands::lifecycle::create(&context, &args),
        Command::Delete => commands::lifecycle::delete(&context),
        Command::Start(args) => commands::lifecycle::start(&context, &args),
        Command::Stop(args) => commands::lifecycle::stop(&context, &args),
        Command::Prune => commands::lifecycle::prune(&context),
        Command::Ssh(args) => commands::ssh::run(&context, &args),
        Command::Show(args) => commands::show::run(&context, &args),
        Command::Image(command) => commands::image::run(command),
    }
}

/// Progress and warnings go to stderr as `INFO message`, like the original
/// footloose; `-v` or `RUST_LOG` show more.
fn init_logging(verbose: bool) {
    let default = if verbose {
        "footloose=debug"
    } else {
        "footloose=info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
}
