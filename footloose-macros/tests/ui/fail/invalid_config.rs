#[footloose::cluster("../../../../footloose-macros/tests/ui/invalid.yaml")]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
