#[footloose::cluster("tests/ui/footloose.yaml")]
fn t(_cluster: &mut footloose::Cluster) {}

fn main() {}
