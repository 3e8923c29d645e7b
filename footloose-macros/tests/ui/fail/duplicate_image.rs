#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12", "footloose/debian12"])]
fn t(_cluster: &footloose::Cluster) {}

// The function is still there: code naming it finds it.
const _: fn(&footloose::Cluster) = t;

fn main() {}
