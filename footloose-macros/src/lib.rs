//! The `#[footloose::cluster]` test attribute. Use it through the
//! `footloose` crate, which re-exports it.
//!
//! This crate only parses: the attribute's arguments, the test function's
//! signature and the config file (so that a bad file is a compile error at
//! the attribute). What the test does at run time lives in
//! `footloose::testing`.

#![warn(missing_docs)]

mod args;
mod expand;
mod signature;

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
/// - `images = ["debian11", "debian12"]` makes a module named after the
///   function with one test per image (short names mean `footloose/<name>`;
///   any image reference works), each image replacing every machine's.
/// - `shared` gives every test of the process naming the same file (and
///   image) one cluster, created on first use and removed at exit.
/// - `FOOTLOOSE_IMAGES=debian12,debian13` at build time replaces the images
///   of every cluster test: an `images` matrix gets one test per listed
///   image instead (`boots::debian13`); a test without `images` keeps its
///   name and runs on each listed image in turn. Cargo rebuilds the tests
///   when the variable changes.
#[proc_macro_attribute]
pub fn cluster(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
