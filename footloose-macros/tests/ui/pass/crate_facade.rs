//! footloose re-exported by modules of the crate, reached by absolute and
//! relative paths, from the test and from a matrix's module.

mod facade {
    pub use ::footloose::*;
}

mod support {
    pub use ::footloose;
}

#[facade::cluster("tests/ui/footloose.yaml", crate = "crate::facade")]
fn through_a_glob_re_export(_cluster: &facade::Cluster) {}

#[support::footloose::cluster(
    "tests/ui/footloose.yaml",
    crate = "self::support::footloose",
    images = ["debian12"]
)]
fn through_a_relative_path(_cluster: &support::footloose::Cluster) -> facade::Result<()> {
    Ok(())
}

mod nested {
    #[crate::facade::cluster("tests/ui/footloose.yaml", crate = "super::facade", images = ["debian13"])]
    fn from_a_child_module(_cluster: &crate::facade::Cluster) {}
}

fn main() {}
