#[footloose::cluster("../../../../footloose-macros/tests/ui/footloose.yaml", images = ["debian12", "footloose/debian12"])]
fn t(_cluster: &footloose::Cluster) {}

fn main() {}
