//! The `#[footloose::cluster]` test attribute. Use it through the
//! `footloose` crate, which re-exports it.
//!
//! This crate only reads and writes code: `parse` reads the attribute's
//! arguments and the function, `config` checks the config file and
//! resolves the images when the test compiles (so that a bad file is an
//! error at the attribute), and `codegen` emits the test. What the test
//! does at run time lives in `footloose::testing`.

#![warn(missing_docs)]

mod codegen;
mod config;
mod expand;
mod parse;

use proc_macro::TokenStream;

/// Runs the test on a cluster of machines made from a config file.
///
/// ```text
/// #[footloose::cluster("footloose.yaml")]
/// fn boots(cluster: &footloose::Cluster) {
///     assert!(cluster.machine("node0").exec("true").unwrap().success());
/// }
/// ```
///
/// - The path is relative to the crate's `Cargo.toml`; the file is checked
///   when the test compiles, and editing it rebuilds the test.
/// - The function takes `&Cluster`, may be `async`, and returns `()` or
///   `Result<(), E: Debug>`. Other attributes (`#[should_panic]`,
///   `#[ignore]`) apply to the generated test; do not add `#[test]`.
///
/// Options, after the path, in any order:
///
/// - `images = ["debian11", "debian12"]` makes a module named after the
///   function with one test per image (short names mean `footloose/<name>`;
///   any image reference works), each image replacing every machine's.
/// - `shared` gives every test of the process naming the same file (and
///   image) one cluster, created on first use and removed at exit.
/// - `ready_timeout = "90s"` gives the machines that long to boot and
///   answer ssh (default 60 s; units `ms`, `s`, `m`, `h`). With `shared`,
///   the test that creates the cluster sets it.
/// - `keep_on_failure` leaves the cluster running when the test fails
///   (also when it cannot be created): the test's output names the cluster
///   and says how to reach and delete it. `FOOTLOOSE_KEEP=on-failure` does
///   the same for every test. Not with `shared`, whose cluster outlives
///   every test.
/// - `pool = 4` takes the cluster from a pool of 4 booted clusters kept
///   warm in the background (see `footloose::pool`); `pool = 0` turns the
///   pool off, also when `FOOTLOOSE_POOL` is set. Not with `shared`.
/// - `crate = "path"` is the path the expansion reaches footloose by
///   (default `::footloose`): `crate = "fl"` when the dependency is renamed
///   (`fl = { package = "footloose", … }`), `crate = "crate::facade"` when
///   a module or crate of yours re-exports it.
///
/// `FOOTLOOSE_IMAGES=debian12,debian13` at build time replaces the images
/// of every cluster test: an `images` matrix gets one test per listed image
/// instead (`boots::debian13`); a test without `images` keeps its name and
/// runs on each listed image in turn. Cargo rebuilds the tests when the
/// variable changes.
///
/// The expansion also installs the test binary's hooks (the watchdog that
/// removes clusters of a killed process, the removal of shared clusters at
/// exit); a binary using `ClusterBuilder` without the attribute installs
/// them with `footloose::test_hooks!()`.
///
/// When the attribute cannot make a test (a bad option, a missing or
/// invalid config file, a signature it cannot run), the function is
/// emitted as written beside the errors, so that editors keep working in
/// it and code naming it still finds it.
#[proc_macro_attribute]
pub fn cluster(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::cluster(args.into(), item.into()).into()
}
