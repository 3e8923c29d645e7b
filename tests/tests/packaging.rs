//! The published crates: `cargo package` of footloose-config,
//! footloose-macros and footloose succeeds, the packaged crates build with
//! nothing outside them (cargo's verify step builds each `.crate` on its
//! own), and footloose's package carries the image definitions it builds
//! machines from.
//!
//! Runs `cargo package` into a target directory of its own
//! (`TARGET/package-check`), so that it never waits for the build that runs
//! this test; once built, later runs only check.

use std::path::{Path, PathBuf};
use std::process::Command;

use footloose_tests::{target_dir, workspace};

/// The packages that are published; the test and example packages are not.
const PUBLISHED: [&str; 3] = ["footloose-config", "footloose-macros", "footloose"];

/// `TARGET/package-check`, beside this build's own target directory.
fn check_dir() -> PathBuf {
    target_dir().join("package-check")
}

/// The files of a packaged `.crate`.
fn files_of(crate_file: &Path) -> Vec<String> {
    let out = Command::new("tar")
        .arg("tzf")
        .arg(crate_file)
        .output()
        .expect("cannot run tar");
    assert!(
        out.status.success(),
        "tar cannot list {}",
        crate_file.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_published_crates_package_and_build_on_their_own() {
    let target = check_dir();
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "package",
            "--workspace",
            "--exclude",
            "footloose-tests",
            "--exclude",
            "footloose-example-ansible",
            "--exclude",
            "footloose-facade",
            "--allow-dirty",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cannot run cargo package");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo package failed:\n{log}");
    let version = env!("CARGO_PKG_VERSION");
    for package in PUBLISHED {
        assert!(
            log.contains(&format!("Verifying {package} v{version}")),
            "{package} was not built from its package:\n{log}"
        );
    }
    let footloose = files_of(&target.join(format!("package/footloose-{version}.crate")));
    let root = format!("footloose-{version}");
    for definition in [
        "images/common/setup.sh",
        "images/debian11/Dockerfile",
        "images/debian12/Dockerfile",
        "images/debian13/Dockerfile",
        "README.md",
    ] {
        assert!(
            footloose.contains(&format!("{root}/{definition}")),
            "the footloose package lacks {definition}: {footloose:?}"
        );
    }
    // The packaged definitions are the top-level ones (footloose/images is
    // a link to them), not a copy that could drift.
    let link = std::fs::read_link(workspace().join("footloose/images"))
        .expect("footloose/images is a symbolic link");
    assert_eq!(link, Path::new("../images"));
}
