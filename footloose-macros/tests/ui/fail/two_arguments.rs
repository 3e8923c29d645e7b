#[footloose::cluster("tests/ui/footloose.yaml")]
fn t(_cluster: &footloose::Cluster, extra: u32) {}

// The function is still there: code naming it finds it.
const _: fn(&footloose::Cluster, u32) = t;

fn main() {}
