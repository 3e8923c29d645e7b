//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Containers that look like virtual machines.
#[derive(Debug, Parser)]
#[command(name = "footloose", version, about, long_about = None)]
pub struct Cli {
    /// The cluster's config file [default: footloose.yaml]
    #[arg(
        short,
        long,
        global = true,
        env = "FOOTLOOSE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Act on this cluster instead of the config's `cluster.name`
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Show debug messages (image build output, ssh attempts)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write or inspect the config file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create the cluster's machines (idempotent) and wait until they are ready
    Create(CreateArgs),
    /// Remove every container, network and volume of the cluster
    Delete,
    /// Start stopped machines and wait until they are ready
    Start(MachineArgs),
    /// Stop machines
    Stop(MachineArgs),
    /// ssh into a machine, or run a command in it
    Ssh(SshArgs),
    /// Show the cluster's machines
    #[command(visible_alias = "status")]
    Show(ShowArgs),
    /// Remove everything footloose made on the engine, of every cluster
    /// (of one with --cluster)
    Prune(PruneArgs),
    /// Build or list footloose's images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Keep booted clusters of the config ready for tests (warm pools)
    #[command(subcommand)]
    Pool(PoolCommand),
}

/// `footloose pool …`
#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Boot clusters of the config until its pool has SIZE ready, and wait
    /// for them: run it before `cargo nextest run` in a CI job. The pool is
    /// the one `#[footloose::cluster("FILE")]` tests take from (same file,
    /// same image)
    Fill(PoolFillArgs),
    /// List the pooled clusters on the engine, of every pool
    Ls {
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        output: ListFormat,
    },
    /// Remove the pooled clusters no test holds (ready or booting), of
    /// every pool or of KEY
    Drain {
        /// A pool key, as `pool ls` shows it
        key: Option<String>,
    },
}

/// `footloose pool fill`
#[derive(Debug, Args)]
pub struct PoolFillArgs {
    /// How many ready clusters the pool keeps [default: FOOTLOOSE_POOL, else 4]
    #[arg(long, short = 'n', value_name = "N")]
    pub size: Option<usize>,
    /// The image every machine runs instead of the config's (a test's
    /// `images = [...]` entry)
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
}

/// `footloose config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a config file for a new cluster
    Create(ConfigCreateArgs),
    /// Check the config file and print it as footloose reads it
    Validate,
}

/// `footloose config create`
#[derive(Debug, Args)]
pub struct ConfigCreateArgs {
    /// How many machines
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// The cluster's name
    #[arg(long, default_value = "cluster")]
    pub name: String,
    /// The private key path (generated at `create` if missing)
    #[arg(long, default_value = footloose::config::DEFAULT_PRIVATE_KEY)]
    pub key: String,
    /// The machines' image
    #[arg(long, default_value = footloose::config::DEFAULT_IMAGE)]
    pub image: String,
    /// User networks to attach the machines to
    #[arg(long, value_delimiter = ',')]
    pub networks: Vec<String>,
    /// Run the machines privileged
    #[arg(long)]
    pub privileged: bool,
    /// PID 1 of the machines
    #[arg(long)]
    pub cmd: Option<String>,
    /// Overwrite an existing config file
    #[arg(long = "override")]
    pub overwrite: bool,
}

/// `footloose create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Seconds each machine has to become ready
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Keep what was made when creation fails, for debugging
    #[arg(long)]
    pub keep: bool,
    /// Publish ports without an address on this host address [default:
    /// the config's cluster.publishAddress, else 127.0.0.1 for a local
    /// engine, the DOCKER_HOST address for a remote one]
    #[arg(long, env = "FOOTLOOSE_PUBLISH_ADDRESS", value_name = "IP")]
    pub publish_address: Option<std::net::IpAddr>,
}

/// `footloose prune`
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only test clusters that nobody holds: whose owner process is gone,
    /// or whose lease (FOOTLOOSE_LEASE, default 3h) has run out
    #[arg(long, conflicts_with = "cluster")]
    pub expired: bool,
}

/// Commands acting on some machines (all when none are named).
#[derive(Debug, Args)]
pub struct MachineArgs {
    /// Hostnames, such as node0 (all machines when none)
    pub hostnames: Vec<String>,
    /// Seconds each machine has to become ready (start)
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

/// `footloose ssh`
#[derive(Debug, Args)]
pub struct SshArgs {
    /// [user@]hostname, such as root@node1
    pub target: String,
    /// The command to run instead of a login shell
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Output formats of lists.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// A table for people
    Table,
    /// JSON for programs
    Json,
}

/// Output formats of `show`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// A table for people
    Table,
    /// JSON for programs
    Json,
    /// An Ansible YAML inventory (host keys checked against footloose's known_hosts)
    Ansible,
}

/// `footloose show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Hostnames to show (all when none)
    pub hostnames: Vec<String>,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `footloose image …`
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build footloose's images (debian12, ubuntu24.04, rocky9, ...; see `image ls`), even if present with --force
    Build {
        /// Image names
        #[arg(required = true)]
        names: Vec<String>,
        /// Build again even when present
        #[arg(long)]
        force: bool,
    },
    /// List footloose's images and whether they are present
    Ls,
    /// Make any systemd image a machine image (what `create` does for an
    /// image footloose did not build), and say what it took
    Adapt {
        /// Image references, such as geerlingguy/docker-ubuntu2404-ansible
        #[arg(required = true)]
        references: Vec<String>,
    },
}
