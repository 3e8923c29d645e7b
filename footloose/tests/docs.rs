//! The published crates' documentation builds as docs.rs builds it
//! (`--cfg docsrs`) with no warning: no broken or private intra-doc link,
//! no unclosed HTML, no bad code block. Their examples are doctests, which
//! `cargo test` runs; none of footloose's or footloose-config's is
//! `ignore`d.
//!
//! `cargo doc` runs in a target directory of its own
//! (`CARGO_TARGET_TMPDIR/doc-check`), so that it never waits for the build
//! that runs this test; once built, later runs only check.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages that are published, and documented on docs.rs.
const PUBLISHED: [&str; 3] = ["footloose", "footloose-config", "footloose-macros"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("footloose/ is in the workspace")
        .to_owned()
}

#[test]
fn the_published_crates_document_without_warnings() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("doc-check");
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(workspace())
        .args(["doc", "--no-deps"])
        .args(PUBLISHED.iter().flat_map(|package| ["-p", package]))
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
        // The encoded form would win over RUSTDOCFLAGS.
        .env_remove("CARGO_ENCODED_RUSTDOCFLAGS");
    let out = command.output().expect("cannot run cargo doc");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "RUSTDOCFLAGS=\"--cfg docsrs -D warnings\" cargo doc --no-deps -p footloose -p footloose-config -p footloose-macros failed:\n{log}"
    );
    for package in PUBLISHED {
        let index = target
            .join("doc")
            .join(package.replace('-', "_"))
            .join("index.html");
        assert!(index.exists(), "no {}:\n{log}", index.display());
    }
}

#[test]
fn no_example_is_ignored() {
    let mut ignored = Vec::new();
    for dir in ["footloose/src", "footloose-config/src"] {
        for file in rust_files(&workspace().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim_start();
                let doc = line.starts_with("///") || line.starts_with("//!");
                if doc && line.contains("```") && line.contains("ignore") {
                    ignored.push(format!("{}:{}: {line}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        ignored.is_empty(),
        "examples must compile (`no_run` when they need an engine), not be ignored:\n{}",
        ignored.join("\n")
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
