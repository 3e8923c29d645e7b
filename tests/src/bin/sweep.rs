//! Runs one janitor sweep, as the first cluster of any test process does,
//! and prints the clusters it removed, one per line.

// It makes no cluster, but stands for a test process's start (its janitor):
// it has the hooks a `#[footloose::cluster]` test binary has.
footloose::test_hooks!();

fn main() {
    let settings = footloose::Settings::from_env();
    let removed = footloose::runtime::block_on(async {
        let engine = footloose::engine::Engine::connect().await?;
        footloose::testing::janitor::sweep(&engine, &settings).await
    })
    .unwrap_or_else(|err| {
        eprintln!("sweep: {err}");
        std::process::exit(1)
    });
    for cluster in removed {
        println!("{cluster}");
    }
}
