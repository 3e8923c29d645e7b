//! The published crates: `cargo package` of footloose-config,
//! footloose-macros and footloose succeeds, the packaged crates build with
//! nothing outside them (cargo's verify step builds each `.crate` on its
//! own), and footloose's package carries the image definitions it builds
//! machines from. Then a user's crate outside the workspace, depending on
//! footloose as the README says (`[dev-dependencies] footloose = "0.1"`,
//! the packaged `.crate`s standing in for crates.io through
//! `[patch.crates-io]`), runs a `#[footloose::cluster]` test; its dependency
//! graph carries none of the command line's crates; and every crate the
//! published crates build on supports their declared `rust-version`.
//!
//! `cargo package` runs once per test process, into a target directory of
//! its own (`TARGET/package-check`), so that it never waits for the build
//! that runs this test; once built, later runs only check. The user crate
//! builds in `TARGET/package-check/user-crate-target`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use footloose_tests::{containers_of, target_dir, wait_until_gone, workspace};

/// The packages that are published; the test and example packages are not.
const PUBLISHED: [&str; 3] = ["footloose-config", "footloose-macros", "footloose"];

/// The version of every published crate (the workspace's).
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The user crate's one test, as `cargo test` names it.
const INNER_TEST: &str = "the_machine_answers_over_ssh";

/// Crates of the command line that a test-framework user must not build.
const CLI_ONLY: [&str; 4] = ["clap", "indicatif", "tracing-subscriber", "anyhow"];

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

/// What the one `cargo package` run of this process did.
struct Packaged {
    ok: bool,
    log: String,
}

/// Runs `cargo package` of the published crates once; every test shares
/// its outcome.
fn packaged() -> &'static Packaged {
    static PACKAGED: OnceLock<Packaged> = OnceLock::new();
    PACKAGED.get_or_init(|| {
        forget_stale_verified_sources();
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
            .env("CARGO_TARGET_DIR", check_dir())
            .output()
            .expect("cannot run cargo package");
        Packaged {
            ok: out.status.success(),
            log: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
}

/// Removes cargo's extracted copies of the published crates from earlier
/// `cargo package` runs.
///
/// `cargo package --workspace` verifies each crate against the crates
/// packaged before it through a temporary registry in
/// `TARGET/package-check/package/tmp-registry`, and cargo extracts that
/// registry's crates into `CARGO_HOME/registry/src/-HASH/NAME-VERSION`,
/// the hash naming the registry's path. The path is the same every run, and
/// so is the version, and cargo does not extract again a directory it
/// marked as done (`.cargo-ok`): without this, footloose was verified
/// against a footloose-config packaged by an earlier run, and failed to
/// build once footloose used something new of it.
fn forget_stale_verified_sources() {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let Ok(sources) = std::fs::read_dir(cargo_home.join("registry/src")) else {
        return;
    };
    // Local registries' directories have no host name: `-HASH`.
    let local = sources
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with('-'));
    for registry in local {
        for package in PUBLISHED {
            let extracted = registry.path().join(format!("{package}-{VERSION}"));
            if extracted.exists() {
                std::fs::remove_dir_all(&extracted).unwrap_or_else(|error| {
                    panic!("cannot remove {}: {error}", extracted.display())
                });
            }
        }
    }
}

/// [`packaged`], failing the test unless `cargo package` succeeded.
fn require_packaged() -> &'static Packaged {
    let packaged = packaged();
    assert!(packaged.ok, "cargo package failed:\n{}", packaged.log);
    packaged
}

/// The packaged `.crate` of `package`.
fn crate_file(package: &str) -> PathBuf {
    check_dir().join(format!("package/{package}-{VERSION}.crate"))
}

#[test]
fn the_published_crates_package_and_build_on_their_own() {
    let log = &require_packaged().log;
    for package in PUBLISHED {
        assert!(
            log.contains(&format!("Verifying {package} v{VERSION}")),
            "{package} was not built from its package:\n{log}"
        );
    }
    let footloose = files_of(&crate_file("footloose"));
    let root = format!("footloose-{VERSION}");
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

// ---------------------------------------------------------------------------
// The user crate: outside the workspace, built from the packages.
// ---------------------------------------------------------------------------

/// A crate as a user writes one, in a temporary directory of its own.
struct UserCrate {
    /// The crate's directory (its `Cargo.toml`, `footloose.yaml`, tests).
    dir: PathBuf,
    /// Whether cargo resolves it with `--offline` (from the copied lock
    /// file and the local registry cache).
    offline: bool,
    /// The cluster name in its `footloose.yaml`, unique to this process.
    config_cluster: String,
}

/// The temporary directories made for user crates, removed at exit.
static MADE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

extern "C" fn remove_made() {
    let made = std::mem::take(&mut *MADE.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in made {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The user crate, written once per process:
///
/// ```text
/// $TMPDIR/footloose-user-crate-XXXX/
///   crates/footloose-0.1.0/ …         the unpacked .crate files
///   user/Cargo.toml                   footloose = "0.1" + [patch.crates-io]
///   user/Cargo.lock                   the workspace's, so versions match
///   user/footloose.yaml, user/tests/cluster.rs
/// ```
///
/// The unpacked crates are beside the user crate, not in it, so that they
/// are not members of its (empty) workspace but dependencies as from
/// crates.io.
fn user_crate() -> &'static UserCrate {
    static USER: OnceLock<UserCrate> = OnceLock::new();
    USER.get_or_init(|| {
        require_packaged();
        let root = tempfile::Builder::new()
            .prefix("footloose-user-crate-")
            .tempdir_in(std::env::temp_dir())
            .expect("cannot make a temporary directory")
            .keep();
        {
            let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
            if made.is_empty() {
                // SAFETY: registers a plain function without arguments.
                unsafe { libc::atexit(remove_made) };
            }
            made.push(root.clone());
        }
        println!("user crate in {}", root.display());
        // Nothing above it is a cargo workspace (it is not under /work).
        for dir in root.ancestors() {
            assert!(
                !dir.join("Cargo.toml").exists(),
                "{} has a Cargo.toml above it: {}",
                root.display(),
                dir.display()
            );
        }

        let crates = root.join("crates");
        std::fs::create_dir(&crates).unwrap();
        for package in PUBLISHED {
            let out = Command::new("tar")
                .arg("xzf")
                .arg(crate_file(package))
                .arg("-C")
                .arg(&crates)
                .output()
                .expect("cannot run tar");
            assert!(
                out.status.success(),
                "cannot unpack {package}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let dir = root.join("user");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        let patch: String = PUBLISHED
            .iter()
            .map(|p| format!("{p} = {{ path = \"../crates/{p}-{VERSION}\" }}\n"))
            .collect();
        let manifest = format!(
            "[package]\n\
             name = \"footloose-user-crate\"\n\
             version = \"0.0.0\"\n\
             edition = \"2021\"\n\
             publish = false\n\
             \n\
             [dev-dependencies]\n\
             footloose = \"0.1\"\n\
             \n\
             # The packaged crates stand in for crates.io.\n\
             [patch.crates-io]\n\
             {patch}\
             \n\
             # A workspace of its own: nothing above is asked.\n\
             [workspace]\n"
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "//! A crate with tests.\n").unwrap();
        let config_cluster = format!("user-crate-{}", std::process::id());
        std::fs::write(
            dir.join("footloose.yaml"),
            format!(
                "cluster:\n  name: {config_cluster}\n  privateKey: cluster-key\n\
                 machines:\n- count: 1\n  spec:\n    image: footloose/debian12\n    name: node%d\n    \
                 portMappings:\n    - containerPort: 22\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("tests/cluster.rs"),
            format!(
                r#"use footloose::Cluster;

#[footloose::cluster("footloose.yaml")]
fn {INNER_TEST}(cluster: &Cluster) {{
    // The cluster's name on the engine, for the outer test to check it is gone.
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/cluster-name"),
        cluster.name(),
    )
    .unwrap();
    let out = cluster
        .machine("node0")
        .exec("hostname; systemctl is-system-running --wait")
        .unwrap();
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"node0"), "{{}}{{}}", out.stdout(), out.stderr());
    assert!(
        matches!(lines.get(1), Some(&"running") | Some(&"degraded")),
        "{{}}{{}}",
        out.stdout(),
        out.stderr()
    );
}}
"#
            ),
        )
        .unwrap();
        std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

        // Resolving settles Cargo.lock before the tests that share the crate
        // run cargo in it at once; offline when the lock and the local cache
        // suffice (they do once the workspace is built: the lock pins every
        // version, and this platform's crates are downloaded).
        let resolve = ["tree", "--edges", "normal,dev", "--depth", "0"];
        let mut offline = true;
        let mut out = cargo(&dir, true, &resolve);
        if !out.status.success() {
            println!(
                "resolving the user crate --offline failed, resolving online:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            offline = false;
            out = cargo(&dir, false, &resolve);
        }
        assert!(
            out.status.success(),
            "cannot resolve the user crate's dependencies:\n{}",
            both(&out)
        );
        UserCrate {
            dir,
            offline,
            config_cluster,
        }
    })
}

/// Runs cargo in `dir` with the user crate's target directory.
fn cargo(dir: &Path, offline: bool, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", check_dir().join("user-crate-target"))
        // The inner test removes its cluster whatever the caller keeps.
        .env_remove("FOOTLOOSE_KEEP");
    if offline {
        command.arg("--offline");
    }
    command.output().expect("cannot run cargo")
}

impl UserCrate {
    fn cargo(&self, args: &[&str]) -> Output {
        cargo(&self.dir, self.offline, args)
    }
}

/// stdout and stderr of a command, for failure messages.
fn both(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_user_crate_outside_the_workspace_runs_a_cluster_test_on_the_packages() {
    let user = user_crate();
    let out = user.cargo(&["test"]);
    let report = both(&out);
    assert!(
        out.status.success(),
        "cargo test of the user crate failed:\n{report}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("test {INNER_TEST} ... ok")),
        "the user crate's test did not pass:\n{report}"
    );
    println!("user crate's cargo test:\n{report}");

    // The framework names the cluster after the test (unique per run);
    // the test wrote that name down.
    let cluster = std::fs::read_to_string(user.dir.join("cluster-name")).unwrap_or_else(|err| {
        panic!("the user crate's test wrote no cluster name ({err}):\n{report}")
    });
    println!("the user crate's cluster was {cluster}; checking it is gone");
    assert!(
        wait_until_gone(&cluster, 30),
        "the user crate's cluster {cluster} is still on the engine: {:?}",
        containers_of(&cluster)
    );
    assert_eq!(
        containers_of(&user.config_cluster),
        Vec::<String>::new(),
        "containers are labelled with the config's cluster name {}",
        user.config_cluster
    );
}

/// The packages of `cargo tree --prefix none --format {p}` output, as
/// `(name, version)`.
fn tree_packages(out: &Output) -> BTreeSet<(String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_owned();
            let version = words.next()?.trim_start_matches('v').to_owned();
            Some((name, version))
        })
        .collect()
}

#[test]
fn a_user_crate_builds_none_of_the_command_lines_crates() {
    let user = user_crate();
    // Dev edges from the user crate, normal ones below (dev-dependencies of
    // non-members are not resolved).
    let out = user.cargo(&[
        "tree",
        "--edges",
        "normal,dev",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    assert!(out.status.success(), "cargo tree failed:\n{}", both(&out));
    let packages = tree_packages(&out);
    assert!(
        packages.iter().any(|(name, _)| name == "footloose"),
        "footloose is not in the user crate's tree:\n{}",
        both(&out)
    );

    // The user crate needs footloose alone, no ctor or dtor of its own for
    // what the attribute expands to (the build in the test above proves the
    // expansion compiles with nothing else).
    let direct = user.cargo(&[
        "tree",
        "--edges",
        "normal,dev",
        "--depth",
        "1",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    assert!(
        direct.status.success(),
        "cargo tree failed:\n{}",
        both(&direct)
    );
    let direct: Vec<String> = tree_packages(&direct)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name != "footloose-user-crate")
        .collect();
    assert_eq!(
        direct,
        ["footloose"],
        "the user crate's direct dependencies"
    );

    let found: Vec<&(String, String)> = packages
        .iter()
        .filter(|(name, _)| CLI_ONLY.contains(&name.as_str()))
        .collect();
    let paths: String = found
        .iter()
        .map(|(name, version)| {
            let spec = format!("{name}@{version}");
            let inverted = user.cargo(&["tree", "-i", &spec, "--edges", "normal,dev"]);
            format!(
                "{spec}, reached through:\n{}{}",
                String::from_utf8_lossy(&inverted.stdout),
                String::from_utf8_lossy(&inverted.stderr)
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "a crate using footloose's test framework builds the command line's crates {:?}:\n{paths}",
        found
            .iter()
            .map(|(name, version)| format!("{name} v{version}"))
            .collect::<Vec<_>>()
    );
}

/// `1.89` or `1.85.1` as `(1, 89, 0)` and `(1, 85, 1)`.
fn rust_version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("bad rust-version {text}"))
    });
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn every_dependency_of_the_published_crates_supports_their_rust_version() {
    let user = user_crate();
    // Every platform's packages: their manifests say what Rust they need
    // (the other platforms' crates are downloaded for that when missing).
    let args = ["metadata", "--format-version", "1"];
    let mut out = user.cargo(&args);
    if !out.status.success() && user.offline {
        println!(
            "cargo metadata --offline failed, asking online:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out = cargo(&user.dir, false, &args);
    }
    assert!(
        out.status.success(),
        "cargo metadata failed:\n{}",
        both(&out)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages: BTreeMap<&str, &serde_json::Value> = metadata["packages"]
        .as_array()
        .expect("metadata lists packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let footloose = packages
        .values()
        .find(|p| p["name"] == "footloose")
        .expect("footloose is in the user crate's metadata");
    let declared = footloose["rust_version"]
        .as_str()
        .expect("footloose declares a rust-version");
    assert_eq!(declared, "1.89", "the workspace's rust-version");

    // The normal and build dependencies of footloose (which depends on the
    // other two published crates), on any platform.
    let nodes: BTreeMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("metadata has a resolve graph")
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let mut closure = BTreeSet::new();
    let mut queue = VecDeque::from([footloose["id"].as_str().unwrap()]);
    while let Some(id) = queue.pop_front() {
        if !closure.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let built = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if built {
                queue.push_back(dep["pkg"].as_str().unwrap());
            }
        }
    }
    for published in PUBLISHED {
        assert!(
            closure.iter().any(|id| packages[id]["name"] == published),
            "{published} is not in footloose's dependency closure"
        );
    }

    let limit = rust_version(declared);
    let mut declaring: Vec<((u64, u64, u64), String)> = closure
        .iter()
        .filter_map(|id| {
            let p = packages[id];
            let wants = p["rust_version"].as_str()?;
            Some((
                rust_version(wants),
                format!(
                    "{} v{} (rust-version {wants})",
                    p["name"].as_str()?,
                    p["version"].as_str()?
                ),
            ))
        })
        .collect();
    declaring.sort();
    // The highest of the crates footloose builds on, besides its own.
    let theirs: Vec<&((u64, u64, u64), String)> = declaring
        .iter()
        .filter(|(_, p)| {
            !PUBLISHED
                .iter()
                .any(|ours| p.starts_with(&format!("{ours} v")))
        })
        .collect();
    let highest: Vec<&str> = theirs
        .iter()
        .filter(|(wants, _)| Some(wants) == theirs.last().map(|(w, _)| w))
        .map(|(_, p)| p.as_str())
        .collect();
    println!(
        "{} crates in the published crates' dependency closure (normal and build edges, every platform), \
         {} declare a rust-version; the highest besides ours: {highest:?}",
        closure.len(),
        declaring.len()
    );
    let offenders: Vec<&str> = declaring
        .iter()
        .filter(|(wants, _)| *wants > limit)
        .map(|(_, p)| p.as_str())
        .collect();
    assert!(
        offenders.is_empty(),
        "crates the published crates build on need a newer Rust than their rust-version {declared}: {offenders:#?}"
    );
}
