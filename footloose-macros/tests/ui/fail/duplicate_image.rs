#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12", "footloose/debian12"])]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
