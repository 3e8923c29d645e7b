//! The `footloose` command line.

mod cli;
mod commands;
mod context;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::init(cli.verbose);
    let result = run(cli);
    progress::finish();
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The one read of the environment's settings: every command takes
    // them from the context.
    let settings = footloose::Settings::from_env();
    let context = context::Context::new(cli.config.clone(), cli.cluster.clone(), settings);
    match cli.command {
        Command::Config(ConfigCommand::Create(args)) => commands::config::create(&context, &args),
        Command::Config(ConfigCommand::Validate) => commands::config::validate(&context),
        Command::Create(args) => commands::lifecycle::create(&context, &args),
        Command::Delete => commands::lifecycle::delete(&context),
        Command::Start(args) => commands::lifecycle::start(&context, &args),
        Command::Stop(args) => commands::lifecycle::stop(&context, &args),
        Command::Prune(args) => commands::lifecycle::prune(&context, &args),
        Command::Ssh(args) => commands::ssh::run(&context, &args),
        Command::Show(args) => commands::show::run(&context, &args),
        Command::Image(command) => commands::image::run(&context, command),
        Command::Pool(command) => commands::pool::run(&context, command),
    }
}
