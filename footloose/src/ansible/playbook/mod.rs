//! A playbook and how to run it: the [`Playbook`] builder (extra vars,
//! limit, tags, check mode, environment, the role under test,
//! requirements, settings). Running it is `run.rs`'s; what a run printed
//! and did, `output.rs`'s.

mod output;
mod run;

use std::ffi::OsString;
use std::path::PathBuf;

use super::roles::Role;
use crate::Settings;

pub use output::PlaybookRun;

/// A playbook and how to run it: extra vars, limit, tags, check mode,
/// environment, the role under test and requirements. Cheap to clone, so
/// one base can be varied per run.
///
/// Its output streams to the test's output as it comes, each line after
/// `[playbook NAME]` (shown live with `--nocapture` or by nextest, and with
/// a failing test's output otherwise), unless [`quiet`](Self::quiet) or
/// `FOOTLOOSE_ANSIBLE_QUIET=1`; it is kept in [`PlaybookRun`] either way.
#[derive(Debug, Clone)]
pub struct Playbook {
    path: PathBuf,
    extra_vars: serde_json::Map<String, serde_json::Value>,
    limit: Option<String>,
    tags: Vec<String>,
    skip_tags: Vec<String>,
    check: bool,
    diff: bool,
    env: Vec<(OsString, OsString)>,
    args: Vec<OsString>,
    program: Option<PathBuf>,
    roles: Vec<Role>,
    requirements: Vec<PathBuf>,
    galaxy: Option<PathBuf>,
    quiet: Option<bool>,
    settings: Settings,
}

impl Playbook {
    /// The playbook at `path` (relative to the current directory, which is
    /// the crate's directory under `cargo test`), run with the
    /// environment's settings ([`Settings::from_env`];
    /// [`settings`](Self::settings) gives others).
    pub fn new(path: impl Into<PathBuf>) -> Playbook {
        Playbook {
            path: path.into(),
            extra_vars: serde_json::Map::new(),
            limit: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            check: false,
            diff: false,
            env: Vec::new(),
            args: Vec::new(),
            program: None,
            roles: Vec::new(),
            requirements: Vec::new(),
            galaxy: None,
            quiet: None,
            settings: Settings::from_env(),
        }
    }

    /// Runs with `settings` instead of the environment's: the programs
    /// (`FOOTLOOSE_ANSIBLE_PLAYBOOK`, `FOOTLOOSE_ANSIBLE_GALAXY`), whether
    /// it is quiet (`FOOTLOOSE_ANSIBLE_QUIET`), the search paths kept
    /// after footloose's (`ANSIBLE_ROLES_PATH`,
    /// `ANSIBLE_COLLECTIONS_PATH`), where the inventory and work
    /// directory go (`XDG_STATE_HOME`, `XDG_RUNTIME_DIR`, `HOME`).
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::Playbook;
    ///
    /// let mut settings = footloose::Settings::from_env();
    /// settings.ansible_playbook = Some(".venv/bin/ansible-playbook".into());
    /// Playbook::new("site.yml").settings(settings).run(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn settings(mut self, settings: Settings) -> Playbook {
        self.settings = settings;
        self
    }

    /// Makes `role` resolvable by its name (see [`Role`]): a link to it,
    /// named so, in a directory put first in `ANSIBLE_ROLES_PATH` (the
    /// paths set in [`env`](Self::env) or the settings' environment, else
    /// Ansible's defaults, follow it). May be repeated.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::{Playbook, Role};
    ///
    /// let converge = Playbook::new("molecule/default/converge.yml").role(Role::at(".")?);
    /// converge.run(cluster)?;
    /// converge.assert_idempotent(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn role(mut self, role: Role) -> Playbook {
        self.roles.push(role);
        self
    }

    /// Installs the roles and collections of the requirements file at
    /// `path` (a list of roles, or `roles:` and `collections:`) with
    /// `ansible-galaxy` before the first run, once per test process and
    /// file content, into a directory of this process's own, put in
    /// `ANSIBLE_ROLES_PATH` and `ANSIBLE_COLLECTIONS_PATH` after the
    /// [`role`](Self::role) links. Relative sources (`src: ./x.tar.gz`)
    /// are relative to the file. May be repeated.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::{Playbook, Role};
    ///
    /// Playbook::new("molecule/default/converge.yml")
    ///     .role(Role::at(".")?)
    ///     .requirements("molecule/default/requirements.yml")
    ///     .run(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn requirements(mut self, path: impl Into<PathBuf>) -> Playbook {
        self.requirements.push(path.into());
        self
    }

    /// Installs [`requirements`](Self::requirements) with this program
    /// instead of `ansible-galaxy` from PATH (also set by
    /// `FOOTLOOSE_ANSIBLE_GALAXY`).
    pub fn galaxy_program(mut self, program: impl Into<PathBuf>) -> Playbook {
        self.galaxy = Some(program.into());
        self
    }

    /// Keeps the output to the result (`true`), or streams it as it comes
    /// (`false`, the default unless `FOOTLOOSE_ANSIBLE_QUIET=1`).
    pub fn quiet(mut self, quiet: bool) -> Playbook {
        self.quiet = Some(quiet);
        self
    }

    /// Sets an extra variable (`-e`), any value serde can write as JSON.
    pub fn extra_var(mut self, name: &str, value: impl serde::Serialize) -> Playbook {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.extra_vars.insert(name.to_owned(), value);
        self
    }

    /// Runs on the hosts or groups matching `pattern` only (`--limit`).
    pub fn limit(mut self, pattern: &str) -> Playbook {
        self.limit = Some(pattern.to_owned());
        self
    }

    /// Runs only the tasks tagged `tag` (`--tags`); may be repeated.
    pub fn tag(mut self, tag: &str) -> Playbook {
        self.tags.push(tag.to_owned());
        self
    }

    /// Skips the tasks tagged `tag` (`--skip-tags`); may be repeated.
    pub fn skip_tag(mut self, tag: &str) -> Playbook {
        self.skip_tags.push(tag.to_owned());
        self
    }

    /// Check mode (`--check`): report what would change, change nothing.
    pub fn check(mut self, check: bool) -> Playbook {
        self.check = check;
        self
    }

    /// Shows the differences of changed files (`--diff`).
    pub fn diff(mut self, diff: bool) -> Playbook {
        self.diff = diff;
        self
    }

    /// Sets an environment variable of the `ansible-playbook` process.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Playbook {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Passes a further command-line argument to `ansible-playbook`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Playbook {
        self.args.push(arg.into());
        self
    }

    /// Runs this program instead of `ansible-playbook` from PATH (also set
    /// by `FOOTLOOSE_ANSIBLE_PLAYBOOK`), such as one in a virtualenv.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Playbook {
        self.program = Some(program.into());
        self
    }
}
