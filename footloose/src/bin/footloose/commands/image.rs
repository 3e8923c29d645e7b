//! `footloose image build` and `footloose image ls`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _};
use footloose::image::{self, BuildOutcome, IMAGES};

use super::engine;
use crate::cli::ImageCommand;

pub fn run(command: ImageCommand) -> anyhow::Result<ExitCode> {
    let engine = engine()?;
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
                let outcome =
                    footloose::runtime::block_on(image::build(&engine, &definition, force))
                        .with_context(|| format!("cannot build {}", definition.reference()))?;
                let verb = match outcome {
                    BuildOutcome::Present => "already present",
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
            println!("{:<20}  {:<9}  PRESENT", "IMAGE", "SUITE");
            for definition in IMAGES {
                let present =
                    footloose::runtime::block_on(image::exists(&engine, &definition.reference()))?;
                println!(
                    "{:<20}  {:<9}  {}",
                    definition.reference(),
                    definition.suite,
                    if present { "yes" } else { "no" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
