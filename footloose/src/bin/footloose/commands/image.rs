//! `footloose image build`, `footloose image ls` and `footloose image adapt`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _};
use footloose::image::{self, BuildOutcome, IMAGES};

use super::engine;
use crate::cli::ImageCommand;
use crate::context::Context;

pub fn run(context: &Context, command: ImageCommand) -> anyhow::Result<ExitCode> {
    let settings = context.settings();
    let engine = engine(settings)?;
    match command {
        ImageCommand::Build { names, force } => {
            let mut definitions = Vec::new();
            for name in &names {
                match image::definition(name) {
                    Some(definition) => definitions.push(definition),
                    None => bail!(
                        "unknown image {name}; footloose builds {}",
                        IMAGES.iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
                    ),
                }
            }
            for definition in definitions {
                let started = Instant::now();
                let outcome = footloose::runtime::block_on(image::build_with(
                    &engine,
                    &definition,
                    force,
                    settings,
                ))
                .with_context(|| format!("cannot build {}", definition.reference()))?;
                let verb = match outcome {
                    BuildOutcome::Present => "already present",
                    BuildOutcome::Pulled => "pulled",
                    _ => "built",
                };
                crate::progress::say(format!(
                    "{}: {verb} in {:.1}s",
                    definition.reference(),
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        ImageCommand::Ls => {
            println!("{:<24}  {:<12}  {:<24}  PRESENT", "IMAGE", "FAMILY", "BASE");
            for definition in IMAGES {
                let present =
                    footloose::runtime::block_on(image::exists(&engine, &definition.reference()))?;
                println!(
                    "{:<24}  {:<12}  {:<24}  {}",
                    definition.reference(),
                    definition.family.to_string(),
                    definition.official_base(),
                    if present { "yes" } else { "no" }
                );
            }
        }
        ImageCommand::Adapt { references } => {
            for reference in &references {
                let started = Instant::now();
                let prepared =
                    footloose::runtime::block_on(image::prepare_with(&engine, reference, settings))
                        .with_context(|| format!("cannot adapt {reference}"))?;
                let what = match (prepared.outcome, prepared.reference == *reference) {
                    (_, true) => "takes footloose's keys already: used as it is".to_owned(),
                    (BuildOutcome::Adapted, false) => {
                        format!("adapted into {}", prepared.reference)
                    }
                    (_, false) => format!("adapted already: {}", prepared.reference),
                };
                crate::progress::say(format!(
                    "{reference}: {what} ({:.1}s)",
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
