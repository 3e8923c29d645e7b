//! `crate = "…"` where trybuild's cases cannot show it: under `cargo test`,
//! where the tests and the binary's hooks are compiled. This crate reaches
//! footloose as `fl` (a crate re-exporting it) and has no dependency on
//! ctor or dtor, so the hooks compile only through the crate path; that
//! they run before `main` is checked below.
//!
//! The cluster tests need a Docker engine, as every cluster test does.

mod support {
    pub use ::fl;
}

#[fl::cluster("tests/ui/footloose.yaml", crate = "fl")]
fn through_a_renamed_dependency(cluster: &fl::Cluster) {
    assert!(cluster.get("node0").is_some());
}

#[fl::cluster(
    "tests/ui/footloose.yaml",
    crate = "self::support::fl",
    images = ["debian12"],
    ready_timeout = "2m",
    keep_on_failure
)]
async fn through_a_module_of_the_crate(cluster: &fl::Cluster) -> fl::Result<()> {
    cluster
        .machine("node0")
        .exec_async("true")
        .await?
        .checked()?;
    Ok(())
}

#[test]
fn the_attributes_hooks_ran_before_main() {
    assert!(fl::__private::hooks_installed());
}
