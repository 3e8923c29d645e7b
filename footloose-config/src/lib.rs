//! The `footloose.yaml` format.
//!
//! This crate reads the file format of the original Go footloose, unchanged,
//! plus a few additions (`env`, `labels`, `capAdd`, `capDrop`, `tmpfs`,
//! `resources`, Ansible `groups` and variables). It is
//! strict: an unknown key, a value of the wrong type or a value that cannot
//! work is an error that names the file, line, column and field path, such as
//! `footloose.yaml:9:17: machines[0].spec.portMappings[1].hostPort: ...`.
//!
//! It is its own crate so that both the `footloose` library and the
//! `#[footloose::cluster]` attribute (which checks the file at compile time)
//! share one parser.
//!
//! ```
//! let yaml = "cluster:\n  name: demo\n  privateKey: key\nmachines:\n- count: 2\n  spec:\n    image: footloose/debian12\n    name: node%d\n";
//! let config = footloose_config::Config::from_yaml(yaml, "footloose.yaml").unwrap();
//! let names: Vec<String> = config.machines().map(|m| m.hostname).collect();
//! assert_eq!(names, ["node0", "node1"]);
//! ```

#![warn(missing_docs)]

mod error;
pub mod images;
mod load;
mod locate;
mod model;
mod reach;
mod resources;
mod validate;

pub use error::{ConfigError, Invalid};
pub use model::{
    ansible_group_name, AnsibleSpec, AnsibleVars, Backend, ClusterSpec, Config, MachineAnsible,
    MachineInstance, MachineSet, MachineSpec, PortMapping, Protocol, Volume, VolumeType,
    DEFAULT_CMD, DEFAULT_IMAGE, DEFAULT_PRIVATE_KEY,
};
pub use reach::{Reach, ReachError};
pub use resources::{nano_cpus, parse_memory, Resources, ResourcesError};
pub use validate::{
    is_valid_ansible_var, is_valid_cluster_name, is_valid_group_name, is_valid_hostname,
};
