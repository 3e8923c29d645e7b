//! What goes wrong in the Ansible layer: [`AnsibleError`], and the report
//! of a failed play ([`PlaybookFailure`]) as it carries it, data and how
//! it prints. The rest of [`crate::ansible`] reads the report from
//! Ansible's output and fills in the failed units. The crate's
//! [`Error`](crate::Error) carries an `AnsibleError` as
//! [`Error::Ansible`](crate::Error::Ansible), printed as it is.

use std::fmt;
use std::path::PathBuf;

/// What goes wrong when footloose runs Ansible against a cluster: a play
/// that failed, a second run that changed something, a role or a
/// requirements file it cannot use, a program that is not installed.
///
/// It reaches callers as [`Error::Ansible`](crate::Error::Ansible), which
/// prints it as it is:
///
/// ```no_run
/// # fn demo(cluster: &footloose::Cluster) {
/// use footloose::ansible::{AnsibleError, Playbook};
/// use footloose::Error;
///
/// let site = Playbook::new("site.yml");
/// match site.assert_idempotent(cluster) {
///     Ok(_) => {}
///     Err(Error::Ansible(AnsibleError::NotIdempotent { changed, .. })) => {
///         eprintln!("a second run changed {}", changed.join(", "))
///     }
///     Err(Error::Ansible(AnsibleError::ToolMissing { hint, .. })) => eprintln!("{hint}"),
///     Err(err) => eprintln!("{:#}", anyhow::Error::from(err)),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnsibleError {
    /// `ansible-playbook` exited unsuccessfully: which host failed which
    /// task and why, the end of the output, and the systemd units that are
    /// failed on those hosts with their journals.
    #[error("{0}")]
    Playbook(Box<PlaybookFailure>),

    /// A second run of a playbook changed something.
    #[error("playbook {} is not idempotent: a second run changed {} task(s):{}", playbook.display(), changed.len(), changed.iter().map(|c| format!("\n  {c}")).collect::<String>())]
    NotIdempotent {
        /// The playbook.
        playbook: PathBuf,
        /// `host: task` for every task that changed.
        changed: Vec<String>,
    },

    /// `ansible-galaxy` could not install a requirements file's roles or
    /// collections.
    #[error("cannot install the {what} of {}: ansible-galaxy failed with {status}{}\n  its output:\n{output}", requirements.display(), hint.map(|h| format!("\n  {h}")).unwrap_or_default())]
    Requirements {
        /// The requirements file.
        requirements: PathBuf,
        /// `roles` or `collections`.
        what: &'static str,
        /// Its exit status.
        status: String,
        /// What to do, when footloose knows (such as Galaxy being
        /// unreachable).
        hint: Option<&'static str>,
        /// The end of its output, indented.
        output: String,
    },

    /// A role's `meta/main.yml` (or a requirements file) cannot be read as
    /// Ansible reads it.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The role under test cannot be called by the name given, or another
    /// copy of it would run, or ran, in its place.
    #[error("the role under test {}: {reason}", dir.display())]
    Role {
        /// The role's directory.
        dir: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// An Ansible program (`ansible-playbook`, `ansible-galaxy`) is not
    /// installed.
    #[error("`{tool}` was not found on PATH: {hint}")]
    ToolMissing {
        /// The program.
        tool: String,
        /// How to install it.
        hint: String,
    },

    /// The inventory could not be written as YAML.
    #[error("cannot write the inventory as YAML")]
    Inventory {
        /// The YAML writer's error.
        #[source]
        source: serde_yaml::Error,
    },
}

/// A task that failed on a host, as its `fatal: [host]: FAILED! => {...}`
/// (or, in a loop, `failed: [host] (item=...) => {...}`) line says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskFailure {
    /// The inventory host.
    pub host: String,
    /// The task's name as Ansible printed it, such as `acme.redis : Start redis`.
    pub task: String,
    /// The loop item it failed on, for a task with a loop.
    pub item: Option<String>,
    /// Ansible's message (`msg`), with the module's stderr when it has one.
    pub message: String,
    /// True when the host could not be reached (`UNREACHABLE!`).
    pub unreachable: bool,
}

/// A failed `ansible-playbook` run, as [`AnsibleError::Playbook`]
/// carries it. It prints as a report: each failed task with its host and
/// message first, then the end of the output, then each failed systemd
/// unit of those hosts with its `systemctl status` and its
/// journal (this boot's, repeated lines folded, so that the first failed
/// start of a unit in a restart loop is there whole).
///
/// ```no_run
/// # fn demo(cluster: &footloose::Cluster) {
/// use footloose::ansible::{AnsibleError, Playbook};
/// use footloose::Error;
///
/// match Playbook::new("converge.yml").run(cluster) {
///     Err(Error::Ansible(AnsibleError::Playbook(failure))) => {
///         let first = &failure.failures[0];
///         eprintln!("{} failed on {}: {}", first.task, first.host, first.message);
///         for unit in &failure.units {
///             eprintln!("{} on {}:\n{}", unit.unit, unit.host, unit.journal);
///         }
///     }
///     other => drop(other),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlaybookFailure {
    /// The playbook.
    pub playbook: PathBuf,
    /// Its exit code (`None` when a signal ended it).
    pub exit_code: Option<i32>,
    /// The hosts that failed or were unreachable, from the PLAY RECAP.
    pub summary: String,
    /// Every task that failed, by host, in order (ignored ones left out).
    pub failures: Vec<TaskFailure>,
    /// The end of its output, stdout and stderr in the order they came.
    pub output_tail: Vec<String>,
    /// The systemd units that are failed on the hosts that failed.
    pub units: Vec<FailedUnit>,
    /// Hosts whose units could not be read, and why.
    pub unit_errors: Vec<(String, String)>,
    /// The role Ansible did not find, when that is why the play failed.
    pub missing_role: Option<MissingRole>,
}

/// A role the playbook calls for that Ansible did not find (`the role 'X'
/// was not found in …`), and the roles under test footloose had linked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingRole {
    /// The name the playbook calls for.
    pub wanted: String,
    /// Each role under test: its directory and the names it was linked as.
    pub linked: Vec<(PathBuf, Vec<String>)>,
    /// The directory of the links, first in `ANSIBLE_ROLES_PATH`.
    pub links: Option<PathBuf>,
}

impl fmt::Display for MissingRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "role not found: the playbook calls for `{}`, ",
            self.wanted
        )?;
        let Some((dir, _)) = self.linked.first() else {
            return f.write_str("and no role under test was given: `Playbook::role(Role::at(DIR)?)` links one by its Galaxy name, `Role::named(DIR, NAME)` by the playbook's");
        };
        for (at, (dir, names)) in self.linked.iter().enumerate() {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let then = if at == 0 {
                "but footloose linked"
            } else {
                "and"
            };
            write!(
                f,
                "{then} the role under test {} as {}",
                dir.display(),
                names.join(", ")
            )?;
            f.write_str(if at + 1 < self.linked.len() { ", " } else { "" })?;
        }
        if let Some(links) = &self.links {
            write!(f, " in {}, first in ANSIBLE_ROLES_PATH", links.display())?;
        }
        write!(
            f,
            ". Link it by the playbook's name: Role::named({:?}, {:?})",
            dir.display(),
            self.wanted
        )
    }
}

/// A systemd unit that is failed on a host after a failed play.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedUnit {
    /// The inventory host (the machine's hostname).
    pub host: String,
    /// The unit, such as `redis-server.service`.
    pub unit: String,
    /// What `systemctl status` says of it (without its journal lines).
    pub status: String,
    /// Its journal of this boot, summarised as
    /// [`Machine::journal_summary`](crate::Machine::journal_summary) does:
    /// each line that says something new, repeats folded into a count.
    pub journal: String,
    /// What the journal holds, such as `this boot, 6 starts, 47 repeated
    /// lines folded`.
    pub journal_heading: String,
}

/// A task failure's line without its JSON, which the report gives above
/// (its message unescaped); any other line as it is.
fn shortened(line: &str) -> std::borrow::Cow<'_, str> {
    let failure = line.starts_with("fatal: [") || line.starts_with("failed: [");
    match line.find(" => {") {
        Some(at) if failure => format!("{} => {{…}} (message above)", &line[..at]).into(),
        _ => line.into(),
    }
}

/// `text`, every line indented by `indent`.
fn indented(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for PlaybookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .exit_code
            .map(|c| format!("exit code {c}"))
            .unwrap_or_else(|| "a signal".to_owned());
        write!(
            f,
            "ansible-playbook {} failed with {status}: {}",
            self.playbook.display(),
            self.summary
        )?;
        if let Some(missing) = &self.missing_role {
            write!(f, "\n\n  {missing}")?;
        }
        for failure in &self.failures {
            let verdict = if failure.unreachable {
                "unreachable"
            } else {
                "failed"
            };
            write!(f, "\n\n  {verdict} host: {}", failure.host)?;
            write!(f, "\n  task: {}", failure.task)?;
            if let Some(item) = &failure.item {
                write!(f, "\n  item: {item}")?;
            }
            let mut message = failure.message.lines();
            write!(f, "\n  message: {}", message.next().unwrap_or_default())?;
            for line in message {
                write!(f, "\n           {line}")?;
            }
        }
        write!(f, "\n\n  last output:")?;
        for line in &self.output_tail {
            write!(f, "\n    {}", shortened(line))?;
        }
        for unit in &self.units {
            write!(f, "\n\n  failed unit {} on {}:", unit.unit, unit.host)?;
            write!(f, "\n{}", indented(&unit.status, "    "))?;
            write!(f, "\n    journal ({}):", unit.journal_heading)?;
            write!(f, "\n{}", indented(&unit.journal, "      "))?;
        }
        for (host, error) in &self.unit_errors {
            write!(
                f,
                "\n\n  the failed units of {host} could not be read: {error}"
            )?;
        }
        Ok(())
    }
}
