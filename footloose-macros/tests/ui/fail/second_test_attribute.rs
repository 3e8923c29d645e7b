#[footloose::cluster("tests/ui/footloose.yaml")]
#[test]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
