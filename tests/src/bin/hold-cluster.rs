//! Creates a one-machine test cluster, prints its name, and waits to be
//! killed: the watchdog and janitor tests kill it with SIGKILL.

fn main() {
    let config = footloose::Config::with_replicas("held", "footloose/debian12", 1);
    let guard = footloose::Cluster::builder(config)
        .unique_name()
        .private_key(std::env::temp_dir().join("footloose-tests-key"))
        .start()
        .expect("cannot create the cluster");
    println!("{}", guard.name());
    std::thread::sleep(std::time::Duration::from_secs(600));
}
