#[footloose::cluster("tests/ui/footloose.yaml")]
fn t<T>(_cluster: &footloose::Cluster) {}

fn main() {}
