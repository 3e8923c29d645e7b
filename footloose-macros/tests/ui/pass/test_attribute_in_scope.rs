//! A `test` attribute of the user's own in scope does not replace the
//! standard one in the expansion.

#[allow(unused_imports)]
use footloose::cluster as test;

#[footloose::cluster("tests/ui/footloose.yaml")]
fn still_a_standard_test(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12"])]
fn a_matrix_too(_cluster: &footloose::Cluster) {}

fn main() {}
