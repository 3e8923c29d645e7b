#[footloose::cluster("no-such-file.yaml")]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
