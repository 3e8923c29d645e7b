#[footloose::cluster("tests/ui/footloose.yaml")]
fn t(_cluster: &mut footloose::Cluster) {}

// The function is still there: code naming it finds it.
const _: fn(&mut footloose::Cluster) = t;

fn main() {}
