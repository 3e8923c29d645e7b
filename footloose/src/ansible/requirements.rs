//! A requirements file's roles and collections, installed with
//! `ansible-galaxy` once per test process and content into a directory of
//! this process's own, as Molecule's dependency step installs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::Deserialize;

use super::error::AnsibleError;
use super::workdir;
use crate::error::{Error, Result};

/// The program that installs requirements; `FOOTLOOSE_ANSIBLE_GALAXY` names another.
const GALAXY: &str = "ansible-galaxy";

/// What a requirements file asks for: role and collection names (or
/// sources), in either of its layouts (a list of roles, or `roles:` and
/// `collections:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Requirements {
    pub(crate) roles: Vec<String>,
    pub(crate) collections: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RequirementsFile {
    Roles(Vec<Entry>),
    Both {
        #[serde(default)]
        roles: Option<Vec<Entry>>,
        #[serde(default)]
        collections: Option<Vec<Entry>>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Name(String),
    Full {
        name: Option<String>,
        src: Option<String>,
        source: Option<String>,
    },
}

impl Entry {
    fn label(self) -> String {
        match self {
            Entry::Name(name) => name,
            Entry::Full { name, src, source } => name.or(src).or(source).unwrap_or_default(),
        }
    }
}

/// Reads a requirements file's text.
pub(crate) fn parse_requirements(text: &str) -> std::result::Result<Requirements, String> {
    let file: Option<RequirementsFile> = serde_yaml::from_str(text).map_err(|e| {
        format!("{e} (a requirements file is a list of roles, or has `roles:` and `collections:` lists)")
    })?;
    let labels = |entries: Option<Vec<Entry>>| -> Vec<String> {
        entries
            .unwrap_or_default()
            .into_iter()
            .map(Entry::label)
            .collect()
    };
    Ok(match file {
        None => Requirements::default(),
        Some(RequirementsFile::Roles(roles)) => Requirements {
            roles: labels(Some(roles)),
            collections: Vec::new(),
        },
        Some(RequirementsFile::Both { roles, collections }) => Requirements {
            roles: labels(roles),
            collections: labels(collections),
        },
    })
}

/// Where a requirements file's roles and collections went.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    pub(crate) roles: PathBuf,
    pub(crate) collections: PathBuf,
}

/// Installs the roles and collections of the requirements file at `path`
/// with `program` (else the settings' `FOOTLOOSE_ANSIBLE_GALAXY`, else
/// `ansible-galaxy`), once per process and content: a second call with the
/// same file and content returns the same directories.
pub(crate) fn install(
    path: &Path,
    program: Option<&Path>,
    settings: &crate::Settings,
) -> Result<Installed> {
    static DONE: Mutex<Option<HashMap<String, Installed>>> = Mutex::new(None);
    let path = std::fs::canonicalize(path)
        .map_err(|e| Error::io("cannot find the requirements file", path, e))?;
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let key = workdir::digest(&[path.as_os_str().as_encoded_bytes(), text.as_bytes()]);
    // Held while installing: another test asking for the same file waits
    // for this install instead of starting its own.
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(installed) = done.get_or_insert_with(HashMap::new).get(&key) {
        return Ok(installed.clone());
    }
    let wanted = parse_requirements(&text).map_err(|reason| AnsibleError::File {
        path: path.clone(),
        reason,
    })?;
    let base = workdir::process_dir(settings)?.join(format!("requirements-{key}"));
    let installed = Installed {
        roles: base.join("roles"),
        collections: base.join("collections"),
    };
    for dir in [&installed.roles, &installed.collections] {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    }
    // Relative sources (`src: ./roles/x.tar.gz`) are relative to the file.
    let cwd = path.parent().unwrap_or(Path::new("/"));
    let program: std::ffi::OsString = match program {
        Some(program) => program.into(),
        None => settings
            .ansible_galaxy
            .clone()
            .unwrap_or_else(|| GALAXY.into()),
    };
    if !wanted.roles.is_empty() {
        galaxy(&program, &path, cwd, "roles", &installed.roles)?;
    }
    if !wanted.collections.is_empty() {
        galaxy(&program, &path, cwd, "collections", &installed.collections)?;
    }
    tracing::debug!(
        "Installed {} role(s) and {} collection(s) of {} into {}",
        wanted.roles.len(),
        wanted.collections.len(),
        path.display(),
        base.display()
    );
    done.get_or_insert_with(HashMap::new)
        .insert(key, installed.clone());
    Ok(installed)
}

/// `ansible-galaxy role|collection install -r REQUIREMENTS -p INTO`, in `cwd`.
fn galaxy(
    program: &std::ffi::OsStr,
    requirements: &Path,
    cwd: &Path,
    what: &'static str,
    into: &Path,
) -> Result<()> {
    let kind = if what == "roles" {
        "role"
    } else {
        "collection"
    };
    let out = Command::new(program)
        .args([kind, "install", "--force", "-r"])
        .arg(requirements)
        .arg("-p")
        .arg(into)
        .current_dir(cwd)
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .map_err(|e| super::tool::not_started(program, e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Err(AnsibleError::Requirements {
        requirements: requirements.to_owned(),
        what,
        status: out
            .status
            .code()
            .map(|c| format!("exit code {c}"))
            .unwrap_or_else(|| "a signal".to_owned()),
        hint: galaxy_hint(&text),
        output: text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    }
    .into())
}

/// What to do about an `ansible-galaxy` failure, when its output says
/// that Galaxy (or another server) could not be reached.
pub(crate) fn galaxy_hint(output: &str) -> Option<&'static str> {
    let unreachable = [
        "Failed to connect to",
        "Unknown error when attempting to call Galaxy",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "Connection refused",
        "timed out",
        "urlopen error",
    ];
    unreachable.iter().any(|s| output.contains(s)).then_some(
        "Galaxy (or the server a `src:` names) is not reachable from here: install from local paths or archives instead (`src: ./roles/x.tar.gz`, `src: file:///path/x.tar.gz`, a collection `name: ./x-1.0.0.tar.gz` with `type: file`, or `type: dir`), or give this host a route (HTTPS_PROXY)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_in_both_layouts() {
        let old = "- src: ./archives/acme.base.tar.gz\n  name: acme.base\n- geerlingguy.docker\n";
        assert_eq!(
            parse_requirements(old).unwrap(),
            Requirements {
                roles: vec!["acme.base".into(), "geerlingguy.docker".into()],
                collections: vec![],
            }
        );
        let new = "roles:\n  - src: file:///tmp/x.tar.gz\ncollections:\n  - name: ./acme-util-1.0.0.tar.gz\n    type: file\n  - community.general\n";
        assert_eq!(
            parse_requirements(new).unwrap(),
            Requirements {
                roles: vec!["file:///tmp/x.tar.gz".into()],
                collections: vec![
                    "./acme-util-1.0.0.tar.gz".into(),
                    "community.general".into()
                ],
            }
        );
        assert_eq!(
            parse_requirements("collections:\n  - acme.util\n")
                .unwrap()
                .roles,
            Vec::<String>::new()
        );
        assert_eq!(parse_requirements("").unwrap(), Requirements::default());
        assert!(parse_requirements("roles: 3\n").is_err());
    }

    #[test]
    fn an_unreachable_galaxy_gets_a_hint() {
        let out = "ERROR! Unknown error when attempting to call Galaxy at 'https://galaxy.ansible.com/api/': <urlopen error [Errno -3] Temporary failure in name resolution>";
        assert!(galaxy_hint(out)
            .unwrap()
            .contains("local paths or archives"));
        assert_eq!(galaxy_hint("ERROR! - the role x was not found"), None);
    }
}
