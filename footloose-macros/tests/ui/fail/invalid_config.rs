#[footloose::cluster("tests/ui/invalid.yaml")]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
