//! The Incus backend: machines as Incus system containers, driven through
//! Incus's REST API (the one module that speaks it). Incus runs systemd
//! in a container of its own user namespace with nothing relaxed, and its
//! copies are instant on btrfs or ZFS.
//!
//! - `endpoint.rs`, `open.rs`: which daemon and project (the `incus`
//!   client's variables and configuration), and connecting to it;
//! - `client.rs`, `tls.rs`: the REST client (the unix socket, or https
//!   with the `incus` client's certificates; operations awaited);
//! - `instances.rs`: footloose's container plan as an instance, and back;
//! - `keys.rs`: labels as `user.*` config keys;
//! - `refusal.rs`: Incus's refusals as footloose's engine errors;
//! - `guest.rs`: the hostname, network and reboot files each machine gets;
//! - `files.rs`: tar archives in and out through the file API;
//! - `networks.rs`: footloose's networks as managed bridges;
//! - `images.rs`: images imported, and recipes run and published.

mod backend;
mod client;
mod endpoint;
mod files;
mod guest;
mod images;
mod instances;
mod keys;
mod networks;
mod open;
mod refusal;
mod tls;

pub(crate) use endpoint::{Address, Endpoint};
pub(crate) use open::{connect, connect_at};
