#[footloose::cluster("tests/ui/footloose.yaml", crate = "floot")]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
