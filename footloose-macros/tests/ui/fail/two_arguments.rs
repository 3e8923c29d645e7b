#[footloose::cluster("tests/ui/footloose.yaml")]
fn t(_cluster: &footloose::Cluster, extra: u32) {}

fn main() {}
