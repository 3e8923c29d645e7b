#[footloose::cluster]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
