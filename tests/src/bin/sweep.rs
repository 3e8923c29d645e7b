//! Runs one janitor sweep, as the first cluster of any test process does,
//! and prints the clusters it removed, one per line.

fn main() {
    let removed = footloose::runtime::block_on(async {
        let engine = footloose::engine::Engine::connect().await?;
        footloose::testing::janitor::sweep(&engine).await
    })
    .unwrap_or_else(|err| {
        eprintln!("sweep: {err}");
        std::process::exit(1)
    });
    for cluster in removed {
        println!("{cluster}");
    }
}
