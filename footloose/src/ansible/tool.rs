//! The Ansible programs footloose runs, and the one wording of their
//! absence.

use std::ffi::OsStr;
use std::path::PathBuf;

use super::error::AnsibleError;
use crate::error::Error;

/// The error of a program (`ansible-playbook`, `ansible-galaxy`) that
/// could not be started: [`AnsibleError::ToolMissing`] with how to install
/// ansible-core when it is not there.
pub(crate) fn not_started(program: &OsStr, error: std::io::Error) -> Error {
    match error.kind() {
        std::io::ErrorKind::NotFound => AnsibleError::ToolMissing {
            tool: program.to_string_lossy().into_owned(),
            hint: "install ansible-core: `apt-get install ansible-core`, or `pip install ansible-core` in a virtualenv on PATH".to_owned(),
        }.into(),
        _ => Error::io("cannot run", PathBuf::from(program), error),
    }
}
