//! Running a [`Playbook`] against a cluster: the `ansible-playbook`
//! command line, Ansible's search paths for the role under test and the
//! requirements, the checks around the role under test, and the failure
//! or idempotence report.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::output::{stream, PlaybookRun, Stream};
use super::Playbook;
use crate::ansible::error::{AnsibleError, PlaybookFailure};
use crate::ansible::recap::{parse_changed, parse_recap, Recap};
use crate::ansible::roles;
use crate::ansible::under_test;
use crate::error::Result;
use crate::Cluster;

/// The program run; `FOOTLOOSE_ANSIBLE_PLAYBOOK` names another.
const PROGRAM: &str = "ansible-playbook";

impl Playbook {
    /// Runs the playbook against `cluster` and fails unless it exits 0,
    /// with an [`AnsibleError::Playbook`] that names each failed task, its host and
    /// message, the end of the output, and the systemd units failed on
    /// those hosts with their journals.
    pub fn run(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let (run, links) = self.run_with_links(cluster)?;
        if run.success() {
            return Ok(run);
        }
        let mut failure = PlaybookFailure::new(
            self.path.clone(),
            run.exit_code,
            summary(&run.recap),
            &run.stdout,
            &run.output,
        );
        failure.missing_role = under_test::missing_role(&run.output, &self.roles, links.as_deref());
        failure.collect_units(cluster);
        Err(AnsibleError::Playbook(Box::new(failure)).into())
    }

    /// Runs the playbook against `cluster` and returns what happened,
    /// whatever its exit code. Fails only when it cannot run at all (or
    /// its requirements cannot be installed).
    ///
    /// When a role under test was given ([`role`](Self::role)), it also
    /// fails ([`AnsibleError::Role`]) if another role by one of its names would
    /// run in its place (one in `roles/` beside the playbook, which Ansible
    /// looks in first), or if a role by its short name but called by
    /// another name ran instead (from `~/.ansible/roles`, say).
    pub fn run_unchecked(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        Ok(self.run_with_links(cluster)?.0)
    }

    /// [`run_unchecked`](Self::run_unchecked), and the directory of the
    /// role links.
    fn run_with_links(&self, cluster: &Cluster) -> Result<(PlaybookRun, Option<PathBuf>)> {
        under_test::check_before(&self.roles, &self.path)?;
        let inventory_path =
            crate::ansible::inventory::inventory_path(&self.settings, cluster.name());
        let inventory = cluster.write_ansible_inventory(inventory_path)?;
        let program: OsString = match &self.program {
            Some(program) => program.clone().into(),
            None => self
                .settings
                .ansible_playbook
                .clone()
                .unwrap_or_else(|| PROGRAM.into()),
        };
        let mut command = self.command(&program, &inventory);
        let links = self.search_paths(&mut command)?;
        tracing::debug!("Running {command:?}");
        let prefix = format!(
            "[playbook {}] ",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let quiet = self.quiet.unwrap_or(self.settings.ansible_quiet);
        if !quiet {
            for role in &self.roles {
                println!("{prefix}{}", under_test::describe(role));
            }
        }
        let out = stream(&mut command, |from, line| {
            // Ansible's blank separator lines say nothing once prefixed.
            if quiet || line.trim().is_empty() {
                return;
            }
            match from {
                Stream::Stdout => println!("{prefix}{line}"),
                Stream::Stderr => eprintln!("{prefix}{line}"),
            }
        })
        .map_err(|e| crate::ansible::tool::not_started(&program, e))?;
        if !self.roles.is_empty() {
            let theirs = roles::their_search_path(roles::ROLES_PATH, &self.env, &self.settings);
            let theirs: Vec<PathBuf> = std::env::split_paths(&theirs).collect();
            under_test::check_after(&self.roles, &self.path, &out.stdout, &theirs)?;
        }
        let run = PlaybookRun {
            exit_code: out.exit_code,
            recap: parse_recap(&out.stdout),
            changed_tasks: parse_changed(&out.stdout),
            stdout: out.stdout,
            stderr: out.stderr,
            output: out.output,
        };
        Ok((run, links))
    }

    /// Puts the role links and installed requirements first in Ansible's
    /// search paths; returns the directory of the role links.
    fn search_paths(&self, command: &mut Command) -> Result<Option<PathBuf>> {
        if self.roles.is_empty() && self.requirements.is_empty() {
            return Ok(None);
        }
        let mut role_dirs = Vec::new();
        let mut collection_dirs = Vec::new();
        let links = match self.roles.is_empty() {
            true => None,
            false => Some(roles::link_roles(&self.roles, &self.settings)?),
        };
        role_dirs.extend(links.clone());
        for requirements in &self.requirements {
            let installed = crate::ansible::requirements::install(
                requirements,
                self.galaxy.as_deref(),
                &self.settings,
            )?;
            role_dirs.push(installed.roles);
            collection_dirs.push(installed.collections);
        }
        let path = roles::ROLES_PATH;
        command.env(
            path.variable,
            roles::search_path(&role_dirs, path, &self.env, &self.settings),
        );
        if !collection_dirs.is_empty() {
            let path = roles::COLLECTIONS_PATH;
            command.env(
                path.variable,
                roles::search_path(&collection_dirs, path, &self.env, &self.settings),
            );
        }
        Ok(links)
    }

    /// Runs the playbook against `cluster` once more and fails, naming
    /// every task that changed and on which host, unless nothing changed:
    /// the idempotence check, after a first converging run.
    pub fn assert_idempotent(&self, cluster: &Cluster) -> Result<PlaybookRun> {
        let run = self.run(cluster)?;
        if run.changed() == 0 {
            return Ok(run);
        }
        Err(AnsibleError::NotIdempotent {
            playbook: self.path.clone(),
            changed: run.changed_tasks.iter().map(ToString::to_string).collect(),
        }
        .into())
    }

    fn command(&self, program: &OsString, inventory: &Path) -> Command {
        let mut command = Command::new(program);
        command.arg("-i").arg(inventory);
        if let Some(limit) = &self.limit {
            command.args(["--limit", limit]);
        }
        if !self.tags.is_empty() {
            command.args(["--tags", &self.tags.join(",")]);
        }
        if !self.skip_tags.is_empty() {
            command.args(["--skip-tags", &self.skip_tags.join(",")]);
        }
        if self.check {
            command.arg("--check");
        }
        if self.diff {
            command.arg("--diff");
        }
        if !self.extra_vars.is_empty() {
            let vars = serde_json::Value::Object(self.extra_vars.clone());
            command.arg("--extra-vars").arg(vars.to_string());
        }
        command.args(&self.args).arg(&self.path);
        // The output is read back: plain text from the default callback.
        command
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("ANSIBLE_STDOUT_CALLBACK", "default")
            .env("ANSIBLE_HOST_KEY_CHECKING", "True")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
            // Each line as it is printed, not in blocks: it is streamed.
            .env("PYTHONUNBUFFERED", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// `node0 failed=1, node1 unreachable=1`: the hosts that went wrong.
fn summary(recap: &BTreeMap<String, Recap>) -> String {
    let bad: Vec<String> = recap
        .iter()
        .filter(|(_, r)| r.failed > 0 || r.unreachable > 0)
        .map(|(host, r)| format!("{host} failed={} unreachable={}", r.failed, r.unreachable))
        .collect();
    if recap.is_empty() {
        "no PLAY RECAP (the playbook did not run)".to_owned()
    } else if bad.is_empty() {
        "every host ok".to_owned()
    } else {
        bad.join(", ")
    }
}
