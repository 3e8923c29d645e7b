#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12", "debian10"])]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
