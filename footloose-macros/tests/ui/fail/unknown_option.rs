#[footloose::cluster("tests/ui/footloose.yaml", parallel)]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
