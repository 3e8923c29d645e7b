//! footloose reached as `fl`: every path of the expansion goes through
//! `crate = "fl"`.

#[fl::cluster("tests/ui/footloose.yaml", crate = "fl")]
fn renamed(cluster: &fl::Cluster) {
    let _ = cluster.name();
}

#[fl::cluster("tests/ui/footloose.yaml", crate = "::fl", images = ["debian12"])]
async fn renamed_matrix(_cluster: &fl::Cluster) -> fl::Result<()> {
    Ok(())
}

#[fl::cluster("tests/ui/footloose.yaml", crate = "fl", keep_on_failure, ready_timeout = "3m")]
fn renamed_with_options(_cluster: &fl::Cluster) -> Result<(), String> {
    Ok(())
}

fn main() {}
