//! The role under test is the one that runs: nothing found before
//! footloose's links can stand in for it, a play that ran another copy of
//! it by another name fails saying where that copy came from, and a role
//! Ansible did not find is reported with the names footloose linked.

use std::path::{Path, PathBuf};

use super::error::{AnsibleError, MissingRole};
use super::roles::Role;
use crate::error::Result;

/// The last part of a role name: `redis` of `geerlingguy.redis`.
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// `roles/NAME` beside the playbook comes before `ANSIBLE_ROLES_PATH` in
/// Ansible's search: refuses to run when one of them is another role by a
/// name of the role under test.
pub(crate) fn check_before(roles: &[Role], playbook: &Path) -> Result<()> {
    let beside = playbook_dir(playbook).join("roles");
    for role in roles {
        for name in role.names() {
            let found = beside.join(name);
            let Ok(target) = std::fs::canonicalize(&found) else {
                continue;
            };
            if target != role.dir {
                return Err(AnsibleError::Role {
                    dir: role.dir.clone(),
                    reason: format!(
                        "{} ({}) is another role by the name `{name}`, and Ansible looks beside the playbook before footloose's links: it would run instead. Remove or rename it",
                        found.display(),
                        target.display()
                    ),
                }.into());
            }
        }
    }
    Ok(())
}

/// The playbook's directory (`.` for a bare file name).
fn playbook_dir(playbook: &Path) -> &Path {
    match playbook.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// What the play's output says of the roles under test once it ran: an
/// error when a role by one of their short names, called by a name that
/// is none of theirs, ran in their place (found in `search`, Ansible's
/// roles path after footloose's links, or beside the playbook).
pub(crate) fn check_after(
    roles: &[Role],
    playbook: &Path,
    stdout: &str,
    search: &[PathBuf],
) -> Result<()> {
    for ran in super::recap::roles_that_ran(stdout) {
        let Some(role) = roles
            .iter()
            .find(|r| r.names().any(|n| short(n) == short(&ran)))
        else {
            continue;
        };
        if role.names().any(|n| n == ran) {
            continue;
        }
        let dir = playbook_dir(playbook);
        let found = std::iter::once(dir.join("roles"))
            .chain(search.iter().cloned())
            .chain(std::iter::once(dir.to_owned()))
            .map(|d| d.join(&ran))
            .find(|p| p.exists());
        let from = match found {
            Some(path) => format!(
                "from {} (on Ansible's roles path)",
                std::fs::canonicalize(&path).unwrap_or(path).display()
            ),
            None => "from a collection or a path footloose cannot see".to_owned(),
        };
        return Err(AnsibleError::Role {
            dir: role.dir.clone(),
            reason: format!(
                "the play ran `{ran}` {from}, not the role under test, which footloose linked as {}: call it by one of those names in the playbook, or link it as `{ran}` with Role::named({:?}, {ran:?})",
                quoted_names(role),
                role.dir.display()
            ),
        }.into());
    }
    Ok(())
}

/// `` `geerlingguy.redis`, `redis` ``.
fn quoted_names(role: &Role) -> String {
    role.names()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line that says which directory runs as the role under test, for the
/// play's live output.
pub(crate) fn describe(role: &Role) -> String {
    format!(
        "role under test: {} as {} (named by {})",
        role.dir.display(),
        quoted_names(role),
        role.named_by
    )
}

/// The role Ansible's output says it did not find (`the role 'X' was not
/// found in …`), with what footloose linked where.
pub(crate) fn missing_role(
    output: &str,
    roles: &[Role],
    links: Option<&Path>,
) -> Option<MissingRole> {
    const SAYS: &str = "the role '";
    let at = output.find(SAYS)? + SAYS.len();
    let rest = &output[at..];
    let end = rest.find("' was not found")?;
    Some(MissingRole {
        wanted: rest[..end].to_owned(),
        linked: roles
            .iter()
            .map(|r| (r.dir.clone(), r.names().map(str::to_owned).collect()))
            .collect(),
        links: links.map(Path::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(dir: &Path, meta: &str) -> Role {
        std::fs::create_dir_all(dir.join("meta")).unwrap();
        std::fs::write(dir.join("meta/main.yml"), meta).unwrap();
        Role::at(dir).unwrap()
    }

    const GEERLINGGUY: &str = "galaxy_info:\n  role_name: redis\n  author: geerlingguy\n";

    #[test]
    fn another_copy_that_ran_by_another_name_is_an_error_saying_where_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let under_test = role(&tmp.path().join("ansible-role-redis"), GEERLINGGUY);
        let elsewhere = tmp.path().join("home-roles");
        std::fs::create_dir_all(elsewhere.join("acme.redis/tasks")).unwrap();
        let playbook = tmp.path().join("molecule/default/converge.yml");
        let ours = "TASK [geerlingguy.redis : Ensure Redis is installed.] ***\nok: [instance0]\nTASK [redis : Include vars] ***\n";
        check_after(
            std::slice::from_ref(&under_test),
            &playbook,
            ours,
            std::slice::from_ref(&elsewhere),
        )
        .unwrap();
        let theirs = "TASK [Update apt cache.] ***\nTASK [acme.redis : Ensure Redis is installed.] ***\nok: [instance0]\n";
        let err = check_after(
            std::slice::from_ref(&under_test),
            &playbook,
            theirs,
            std::slice::from_ref(&elsewhere),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the play ran `acme.redis` from "), "{err}");
        assert!(
            err.contains("home-roles/acme.redis (on Ansible's roles path)"),
            "{err}"
        );
        assert!(
            err.contains("linked as `geerlingguy.redis`, `redis`, `ansible-role-redis`"),
            "{err}"
        );
        assert!(err.contains("Role::named("), "{err}");
        // Another role altogether is none of footloose's business.
        check_after(
            &[under_test],
            &playbook,
            "TASK [acme.nginx : x] ***\n",
            &[elsewhere],
        )
        .unwrap();
    }

    #[test]
    fn a_role_beside_the_playbook_by_one_of_its_names_is_refused_before_running() {
        let tmp = tempfile::tempdir().unwrap();
        let under_test = role(&tmp.path().join("ansible-role-redis"), GEERLINGGUY);
        let scenario = tmp.path().join("scenario");
        std::fs::create_dir_all(scenario.join("roles/other")).unwrap();
        let playbook = scenario.join("converge.yml");
        check_before(std::slice::from_ref(&under_test), &playbook).unwrap();
        std::os::unix::fs::symlink(&under_test.dir, scenario.join("roles/redis")).unwrap();
        check_before(std::slice::from_ref(&under_test), &playbook).unwrap();
        std::os::unix::fs::symlink(
            scenario.join("roles/other"),
            scenario.join("roles/geerlingguy.redis"),
        )
        .unwrap();
        let err = check_before(&[under_test], &playbook)
            .unwrap_err()
            .to_string();
        assert!(err.contains("roles/geerlingguy.redis"), "{err}");
        assert!(err.contains("it would run instead"), "{err}");
    }

    #[test]
    fn a_role_ansible_did_not_find_is_named_with_what_footloose_linked() {
        let tmp = tempfile::tempdir().unwrap();
        let under_test = role(
            &tmp.path().join("redis"),
            "galaxy_info:\n  role_name: redis\n",
        );
        let output = "[ERROR]: the role 'geerlingguy.redis' was not found in /x/roles:/root/.ansible/roles\nOrigin: /x/converge.yml:4:7\n";
        let links = tmp.path().join("links");
        let missing =
            missing_role(output, std::slice::from_ref(&under_test), Some(&links)).unwrap();
        assert_eq!(missing.wanted, "geerlingguy.redis");
        assert_eq!(
            missing.linked,
            [(under_test.dir.clone(), vec!["redis".to_owned()])]
        );
        let text = missing.to_string();
        assert!(
            text.contains("the playbook calls for `geerlingguy.redis`"),
            "{text}"
        );
        assert!(text.contains("linked the role under test"), "{text}");
        assert!(text.contains(&format!("in {}", links.display())), "{text}");
        assert!(text.contains("Role::named("), "{text}");
        assert!(missing_role("PLAY RECAP ***\n", &[], None).is_none());
        let none = missing_role(output, &[], None).unwrap().to_string();
        assert!(none.contains("no role under test was given"), "{none}");
    }
}
