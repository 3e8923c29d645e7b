#[footloose::cluster("tests/ui/footloose.yaml", crate = "foot loose")]
fn not_a_path(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", crate = "footloose::<u8>")]
fn with_arguments(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", crate = footloose)]
fn not_a_string(_cluster: &footloose::Cluster) {}

const _: [fn(&footloose::Cluster); 3] = [not_a_path, with_arguments, not_a_string];

fn main() {}
