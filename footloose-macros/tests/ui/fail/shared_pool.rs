#[footloose::cluster("tests/ui/footloose.yaml", shared, pool = 2)]
fn pooled(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", pool = 0, shared)]
fn not_pooled(_cluster: &footloose::Cluster) {}

const _: [fn(&footloose::Cluster); 2] = [pooled, not_pooled];

fn main() {}
