#[footloose::cluster("../../../../footloose-macros/tests/ui/footloose.yaml", parallel)]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
