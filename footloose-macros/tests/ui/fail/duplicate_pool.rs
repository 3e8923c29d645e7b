#[footloose::cluster("tests/ui/footloose.yaml", pool = 2, pool = 4)]
fn t(_cluster: &footloose::Cluster) {}

// The function is still there: code naming it finds it.
const _: fn(&footloose::Cluster) = t;

fn main() {}
