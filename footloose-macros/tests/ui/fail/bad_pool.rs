#[footloose::cluster("tests/ui/footloose.yaml", pool = "4")]
fn a_string(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", pool = -1)]
fn negative(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", pool = 1.5)]
fn fractional(_cluster: &footloose::Cluster) {}

const SIZE: usize = 4;

#[footloose::cluster("tests/ui/footloose.yaml", pool = SIZE)]
fn a_path(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", pool)]
fn no_value(_cluster: &footloose::Cluster) {}

// The functions are still there: code naming them finds them.
const _: [fn(&footloose::Cluster); 5] = [a_string, negative, fractional, a_path, no_value];

fn main() {}
