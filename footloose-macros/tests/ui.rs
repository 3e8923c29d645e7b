//! What the attribute accepts and how it refuses the rest.
//!
//! trybuild compiles each case in `TARGET/tests/trybuild/footloose-macros`,
//! which is then the crate's manifest directory. A link there,
//! `tests/ui`, to this crate's `tests/ui` lets the cases name their config
//! files as the crate's own tests do (`tests/ui/footloose.yaml`), wherever
//! the target directory is.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    link_the_configs();
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

/// Makes `tests/ui` in trybuild's project directory a link to this crate's.
fn link_the_configs() {
    // CARGO_TARGET_TMPDIR is TARGET/tmp.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let project = target.join("tests/trybuild/footloose-macros/tests");
    let ui: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    std::fs::create_dir_all(&project).expect("cannot create trybuild's project directory");
    let link = project.join("ui");
    if std::fs::read_link(&link).is_ok_and(|to| to == ui) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&ui, &link)
        .unwrap_or_else(|e| panic!("cannot link {} to {}: {e}", link.display(), ui.display()));
}
