//! `footloose show`.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use footloose::MachineStatus;

use super::engine_of;
use crate::cli::{Format, ShowArgs};
use crate::context::Context;

pub fn run(context: &Context, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let builder = context.load()?.builder;
    let cluster = builder.config().cluster.name.clone();
    let engine = engine_of(&builder)?;
    if let Format::Ansible = args.output {
        if !args.hostnames.is_empty() {
            bail!("`show -o ansible` writes the whole cluster: name no hostnames (use `--limit` in Ansible)");
        }
        let inventory = footloose::runtime::block_on(footloose::ansible::inventory_with(
            &engine,
            &cluster,
            &builder.key_path(),
            context.settings(),
        ))
        .with_context(|| format!("cannot write the Ansible inventory of cluster {cluster}"))?;
        print!("{inventory}");
        return Ok(ExitCode::SUCCESS);
    }
    let machines = footloose::runtime::block_on(footloose::status(&engine, Some(&cluster)))?;
    for name in &args.hostnames {
        if !machines.iter().any(|m| &m.hostname == name) {
            let known = machines.iter().map(|m| m.hostname.as_str());
            return Err(footloose::Error::no_such_machine(&cluster, name, known).into());
        }
    }
    let shown: Vec<&MachineStatus> = machines
        .iter()
        .filter(|m| args.hostnames.is_empty() || args.hostnames.contains(&m.hostname))
        .collect();
    if let Format::Json = args.output {
        let json = serde_json::json!({ "machines": shown });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_table(&shown);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(machines: &[&MachineStatus]) {
    let header = ["NAME", "HOSTNAME", "PORTS", "IP", "IMAGE", "CMD", "STATE"];
    let rows: Vec<[String; 7]> = machines
        .iter()
        .map(|m| {
            [
                m.container.clone(),
                m.hostname.clone(),
                m.ports
                    .iter()
                    .map(|p| format!("{}->{}", p.host, p.guest))
                    .collect::<Vec<_>>()
                    .join(","),
                m.ip.clone().unwrap_or_default(),
                m.image.clone(),
                m.cmd.clone(),
                m.state.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
