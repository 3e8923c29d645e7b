// The attribute cannot make a test (there is no such file), yet the
// function is there and checked, as an editor sees it: its own mistake is
// reported beside the attribute's.
#[footloose::cluster("no-such-file.yaml")]
fn t(cluster: &footloose::Cluster) {
    let _name: u32 = cluster.name();
}

fn main() {}
