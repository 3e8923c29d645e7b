//! The role under test by its Galaxy name, made available to
//! `ansible-playbook` as Molecule makes it: linked under its names in a
//! directory of this process's own, put first in `ANSIBLE_ROLES_PATH`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::AnsibleError;
use super::workdir;
use crate::error::{Error, Result};
use crate::Settings;

/// What `ANSIBLE_ROLES_PATH` is when nobody sets it (ansible-core's default).
const DEFAULT_ROLES_PATH: &str = "~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles";
/// What `ANSIBLE_COLLECTIONS_PATH` is when nobody sets it.
const DEFAULT_COLLECTIONS_PATH: &str = "~/.ansible/collections:/usr/share/ansible/collections";

/// A role directory and the names plays call it by, as Molecule links it,
/// so that a Molecule scenario's `converge.yml` (`roles: [acme.redis]`, or
/// `include_role: name: acme.redis`) runs unchanged.
///
/// [`Role::at`] reads the name from the role's `meta/main.yml`
/// (`galaxy_info`) the way Molecule does: the namespace is `namespace`, or
/// else `author` (most Galaxy roles have no `namespace`; an author with a
/// space, a person's name, counts as none); the name is `role_name`, or
/// else the directory's name without an `ansible-role-` or `ansible-`
/// prefix. `geerlingguy.redis` is `author: geerlingguy`, `role_name:
/// redis`. [`Role::named`] gives the name yourself.
///
/// Besides that name, the role is linked under the other names it may be
/// called by (`role_name` alone, the directory's name), so that no other
/// copy by such a name (in `~/.ansible/roles`, where Molecule leaves its
/// links) can run in its place: see [`Playbook::role`](super::Playbook::role).
///
/// ```no_run
/// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
/// use footloose::ansible::{Playbook, Role};
///
/// let role = Role::at("roles/redis")?; // meta/main.yml: author acme, role_name redis
/// assert_eq!(role.name(), "acme.redis");
/// Playbook::new("roles/redis/molecule/default/converge.yml")
///     .role(role)
///     .run(cluster)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Role {
    /// The role's directory, absolute.
    pub dir: PathBuf,
    /// The name plays use, such as `acme.redis`.
    pub name: String,
    /// Other names the role is linked under (`redis`, `ansible-role-redis`),
    /// none equal to `name`.
    pub aliases: Vec<String>,
    /// Where `name` came from, for messages: `galaxy_info.author and
    /// role_name in meta/main.yml`, `Role::named`, ….
    pub named_by: String,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    galaxy_info: Option<GalaxyInfo>,
}

#[derive(Deserialize, Default)]
struct GalaxyInfo {
    namespace: Option<serde_yaml::Value>,
    author: Option<serde_yaml::Value>,
    role_name: Option<serde_yaml::Value>,
}

/// The names a role is known by, read from its `meta/main.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleNames {
    /// The name Molecule links it under.
    pub(crate) name: String,
    /// The other names plays may use, without `name`, each once.
    pub(crate) aliases: Vec<String>,
    /// Where `name` came from.
    pub(crate) named_by: String,
}

impl Role {
    /// The role in `dir`, named from its `meta/main.yml` (or `main.yaml`)
    /// as Molecule names it (see [`Role`]).
    pub fn at(dir: impl AsRef<Path>) -> Result<Role> {
        let (dir, dir_name) = role_dir(dir.as_ref())?;
        let meta = ["meta/main.yml", "meta/main.yaml"]
            .iter()
            .map(|m| dir.join(m))
            .find(|p| p.exists());
        let text = match &meta {
            None => String::new(),
            Some(path) => {
                std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?
            }
        };
        let names = role_names(&text, &dir_name).map_err(|reason| AnsibleError::File {
            path: meta.unwrap_or_else(|| dir.join("meta/main.yml")),
            reason,
        })?;
        Ok(Role {
            dir,
            name: names.name,
            aliases: names.aliases,
            named_by: names.named_by,
        })
    }

    /// The role in `dir`, called `name` by the plays (such as
    /// `geerlingguy.redis` where `meta/main.yml` says otherwise). It is
    /// still linked under the names [`Role::at`] would give it too.
    ///
    /// ```no_run
    /// # fn demo(cluster: &footloose::Cluster) -> footloose::Result<()> {
    /// use footloose::ansible::{Playbook, Role};
    ///
    /// Playbook::new("molecule/default/converge.yml")
    ///     .role(Role::named("..", "geerlingguy.redis")?)
    ///     .run(cluster)?;
    /// # Ok(()) }
    /// ```
    pub fn named(dir: impl AsRef<Path>, name: &str) -> Result<Role> {
        let derived = Role::at(dir.as_ref())?;
        if !is_role_name(name) {
            return Err(AnsibleError::Role {
                dir: derived.dir,
                reason: format!(
                    "`{name}` is not a role name: use `namespace.name` or `name`, each of letters, digits, `_` and `-`"
                ),
            }.into());
        }
        let aliases = std::iter::once(derived.name)
            .chain(derived.aliases)
            .filter(|alias| alias != name)
            .collect();
        Ok(Role {
            dir: derived.dir,
            name: name.to_owned(),
            aliases,
            named_by: "Role::named".to_owned(),
        })
    }

    /// The name plays call it by, such as `acme.redis`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every name it is linked under: [`name`](Self::name) first, then the
    /// aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// `dir` made absolute, and its last component.
fn role_dir(dir: &Path) -> Result<(PathBuf, String)> {
    let dir = std::fs::canonicalize(dir).map_err(|e| Error::io("cannot find the role", dir, e))?;
    if !dir.is_dir() {
        return Err(AnsibleError::Role {
            dir,
            reason: "is not a directory: a role is one (with tasks/, meta/, …)".to_owned(),
        }
        .into());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((dir, name))
}

/// A name Ansible can look a role up by: `name` or `namespace.name`.
fn is_role_name(name: &str) -> bool {
    let part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match name.split_once('.') {
        Some((namespace, role)) => part(namespace) && part(role),
        None => part(name),
    }
}

/// The names that the `meta/main.yml` text `text` gives a role in a
/// directory named `dir_name`, as Molecule (ansible-compat) derives them:
/// namespace from `namespace`, else `author` unless it looks like a
/// person's name (`Jeff Geerling`); name from `role_name`, else the
/// directory's name without its `ansible-role-`/`ansible-` prefix and
/// without a `namespace.` part.
pub(crate) fn role_names(text: &str, dir_name: &str) -> std::result::Result<RoleNames, String> {
    let meta: Option<Meta> = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let info = meta.unwrap_or_default().galaxy_info.unwrap_or_default();
    let string = |field: &str, value: Option<serde_yaml::Value>| match value {
        None | Some(serde_yaml::Value::Null) => Ok(None),
        Some(serde_yaml::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_yaml::Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(format!(
            "galaxy_info.{field} is {}, not a string",
            serde_yaml::to_string(&other).unwrap_or_default().trim()
        )),
    };
    let namespace = string("namespace", info.namespace)?;
    let author = string("author", info.author)?;
    let role_name = string("role_name", info.role_name)?;
    for (field, value) in [("namespace", &namespace), ("role_name", &role_name)] {
        if let Some(value) = value {
            if !is_role_name(value) || value.contains('.') {
                return Err(format!(
                    "galaxy_info.{field} `{value}` is not a Galaxy name: use letters, digits, `_` and `-`"
                ));
            }
        }
    }
    // An author is a namespace only where it could be one: a Galaxy login,
    // not a person's name or an address.
    let author = author.filter(|a| is_role_name(a) && !a.contains('.'));
    let short_dir = dir_name
        .strip_prefix("ansible-role-")
        .or_else(|| dir_name.strip_prefix("ansible-"))
        .unwrap_or(dir_name);
    let short_dir = short_dir.rsplit('.').next().unwrap_or(short_dir).to_owned();
    let (short, short_from) = match &role_name {
        Some(role) => (role.clone(), "role_name"),
        None => (short_dir.clone(), "the directory's name"),
    };
    let (name, named_by) = match (&namespace, &author) {
        (Some(namespace), _) => (
            format!("{namespace}.{short}"),
            format!("galaxy_info.namespace and {short_from}"),
        ),
        (None, Some(author)) => (
            format!("{author}.{short}"),
            format!(
                "galaxy_info.author (there is no namespace) and {short_from}, as Molecule names it"
            ),
        ),
        (None, None) => (short.clone(), short_from.to_owned()),
    };
    let mut aliases: Vec<String> = Vec::new();
    for alias in [short, short_dir, dir_name.to_owned()] {
        if alias != name && is_role_name(&alias) && !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    Ok(RoleNames {
        name,
        aliases,
        named_by,
    })
}

/// A directory with one link per role, `NAME -> DIR`, for `roles`, in
/// this process's work directory (see [`workdir::process_dir`]).
pub(crate) fn link_roles(roles: &[Role], settings: &Settings) -> Result<PathBuf> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for role in roles {
        for name in role.names() {
            parts.push(name.as_bytes().to_vec());
        }
        parts.push(role.dir.as_os_str().as_encoded_bytes().to_vec());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let dir = workdir::process_dir(settings)?.join(format!("roles-{}", workdir::digest(&refs)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    for role in roles {
        for name in role.names() {
            let link = dir.join(name);
            if std::fs::read_link(&link).ok().as_deref() == Some(role.dir.as_path()) {
                continue;
            }
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&role.dir, &link)
                .map_err(|e| Error::io("cannot link the role at", &link, e))?;
        }
    }
    Ok(dir)
}

/// One of Ansible's search paths: its variable, its default, and where
/// the settings keep the value the environment gave it.
#[derive(Clone, Copy)]
pub(crate) struct SearchPath {
    /// The variable, such as `ANSIBLE_ROLES_PATH`.
    pub(crate) variable: &'static str,
    /// What Ansible uses when nobody sets it (`~` not yet expanded).
    default: &'static str,
    /// The variable's value in the settings.
    of_settings: fn(&Settings) -> Option<&OsString>,
}

/// `first`, then the paths the user set (the variable in `env` given to
/// the playbook, then in `settings`), else Ansible's default: a
/// `:`-separated search path.
pub(crate) fn search_path(
    first: &[PathBuf],
    which: SearchPath,
    env: &[(OsString, OsString)],
    settings: &Settings,
) -> OsString {
    let theirs = their_search_path(which, env, settings);
    let mut path = std::ffi::OsString::new();
    for dir in first {
        path.push(dir.as_os_str());
        path.push(":");
    }
    path.push(theirs);
    path
}

/// The search path the user set (the variable in `env` given to the
/// playbook, then in `settings`, as this process's environment had it),
/// else Ansible's default, `~` expanded to the settings' home.
pub(crate) fn their_search_path(
    which: SearchPath,
    env: &[(OsString, OsString)],
    settings: &Settings,
) -> OsString {
    env.iter()
        .rev()
        .find(|(k, _)| k == which.variable)
        .map(|(_, v)| v.clone())
        .or_else(|| (which.of_settings)(settings).cloned())
        .unwrap_or_else(|| expand_default(which.default, settings).into())
}

fn expand_default(default: &str, settings: &Settings) -> String {
    default
        .split(':')
        .map(|p| settings.expand_tilde(p).display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn roles_path_of(settings: &Settings) -> Option<&OsString> {
    settings.ansible_roles_path.as_ref()
}

fn collections_path_of(settings: &Settings) -> Option<&OsString> {
    settings.ansible_collections_path.as_ref()
}

/// The roles search path.
pub(crate) const ROLES_PATH: SearchPath = SearchPath {
    variable: crate::settings::ANSIBLE_ROLES_PATH,
    default: DEFAULT_ROLES_PATH,
    of_settings: roles_path_of,
};
/// The collections search path.
pub(crate) const COLLECTIONS_PATH: SearchPath = SearchPath {
    variable: crate::settings::ANSIBLE_COLLECTIONS_PATH,
    default: DEFAULT_COLLECTIONS_PATH,
    of_settings: collections_path_of,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn names(meta: &str, dir: &str) -> (String, Vec<String>) {
        let names = role_names(meta, dir).unwrap();
        (names.name, names.aliases)
    }

    #[test]
    fn a_role_is_named_namespace_dot_role_name() {
        let meta = "galaxy_info:\n  author: me\n  namespace: acme\n  role_name: redis\n  min_ansible_version: '2.14'\ndependencies: []\n";
        assert_eq!(
            names(meta, "ansible-role-redis"),
            (
                "acme.redis".into(),
                vec!["redis".into(), "ansible-role-redis".into()]
            )
        );
        assert_eq!(
            names("galaxy_info:\n  namespace: acme\n", "redis"),
            ("acme.redis".into(), vec!["redis".into()])
        );
        let bad = role_names("galaxy_info:\n  namespace: 'ac me'\n", "r").unwrap_err();
        assert!(bad.contains("galaxy_info.namespace `ac me`"), "{bad}");
        let bad = role_names("galaxy_info:\n  role_name: [a]\n", "r").unwrap_err();
        assert!(bad.contains("galaxy_info.role_name is"), "{bad}");
        assert!(role_names("galaxy_info: [\n", "r").is_err());
    }

    /// Galaxy's most used roles have `author` and `role_name` and no
    /// `namespace` (geerlingguy's, as of 2026), in directories named
    /// `ansible-role-NAME` (a clone) or `AUTHOR.NAME` (an install).

    #[test]
    fn without_a_namespace_the_author_is_one_as_molecule_has_it() {
        let meta = "---\ndependencies: []\n\ngalaxy_info:\n  role_name: redis\n  author: geerlingguy\n  description: Redis for Linux\n  company: \"Midwestern Mac, LLC\"\n  license: \"license (BSD, MIT)\"\n  min_ansible_version: 2.10\n  platforms:\n    - name: Debian\n      versions:\n        - all\n  galaxy_tags:\n    - database\n";
        let got = role_names(meta, "ansible-role-redis").unwrap();
        assert_eq!(got.name, "geerlingguy.redis");
        assert_eq!(got.aliases, ["redis", "ansible-role-redis"]);
        assert!(
            got.named_by.contains("galaxy_info.author"),
            "{}",
            got.named_by
        );
        assert_eq!(
            names(meta, "geerlingguy.redis"),
            ("geerlingguy.redis".into(), vec!["redis".into()])
        );
        // A person's name is no namespace (Molecule: `^\w+ \w+`), nor is
        // an address.
        assert_eq!(
            names(
                "galaxy_info:\n  author: Jeff Geerling\n  role_name: nginx\n",
                "x"
            ),
            ("nginx".into(), vec!["x".into()])
        );
        assert_eq!(
            names(
                "galaxy_info:\n  author: jeff@example.com\n  role_name: nginx\n",
                "nginx"
            )
            .0,
            "nginx"
        );
        // Without role_name, the directory's name without its prefix.
        assert_eq!(
            names("galaxy_info:\n  author: acme\n", "ansible-role-greeter"),
            (
                "acme.greeter".into(),
                vec!["greeter".into(), "ansible-role-greeter".into()]
            )
        );
        assert_eq!(
            names("galaxy_info:\n  author: acme\n", "ansible-tools"),
            (
                "acme.tools".into(),
                vec!["tools".into(), "ansible-tools".into()]
            )
        );
        // Nothing at all: the directory.
        assert_eq!(
            names("dependencies: []\n", "redis"),
            ("redis".into(), vec![])
        );
        assert_eq!(names("", "redis"), ("redis".into(), vec![]));
        assert_eq!(names("galaxy_info:\n", "redis"), ("redis".into(), vec![]));
    }

    #[test]
    fn role_names_follow_ansible() {
        assert!(is_role_name("geerlingguy.redis"));
        assert!(is_role_name("redis"));
        assert!(is_role_name("ansible-role-redis"));
        assert!(!is_role_name("a.b.c"));
        assert!(!is_role_name("a b"));
        assert!(!is_role_name(".redis"));
    }

    #[test]
    fn the_users_search_path_comes_after_ours() {
        let nothing = Settings::from_vars(|_| None);
        let roles = SearchPath {
            default: "/default",
            ..ROLES_PATH
        };
        let env = [("ANSIBLE_ROLES_PATH".into(), "/mine:/also".into())];
        let path = search_path(&["/ours".into()], roles, &env, &nothing);
        assert_eq!(path, "/ours:/mine:/also");
        let unset = SearchPath {
            variable: "FOOTLOOSE_UNSET_VAR",
            default: "/x:/y",
            of_settings: |_| None,
        };
        let path = search_path(&["/a".into(), "/b".into()], unset, &[], &nothing);
        assert_eq!(path, "/a:/b:/x:/y");
    }

    #[test]
    fn the_environments_search_path_comes_from_the_settings_and_home_expands() {
        let settings = Settings::from_vars(|name| match name {
            "ANSIBLE_ROLES_PATH" => Some("/env/roles".into()),
            "HOME" => Some("/home/me".into()),
            _ => None,
        });
        assert_eq!(their_search_path(ROLES_PATH, &[], &settings), "/env/roles");
        let given = [("ANSIBLE_ROLES_PATH".into(), "/given".into())];
        assert_eq!(their_search_path(ROLES_PATH, &given, &settings), "/given");
        assert_eq!(
            their_search_path(COLLECTIONS_PATH, &[], &settings),
            "/home/me/.ansible/collections:/usr/share/ansible/collections"
        );
    }
}
