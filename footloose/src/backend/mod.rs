//! The seam between footloose and whatever runs its machines.
//!
//! [`Backend`] is everything footloose asks of an engine, in footloose's
//! own types ([`ContainerInfo`], [`NetworkInfo`], [`ContainerPlan`]) and
//! its own errors ([`BackendError`], in `error.rs`: a refusal is
//! [`BackendError::Engine`] with an [`EngineFailure`](crate::EngineFailure)
//! kind, never a status code or a message to match). The cluster code
//! never knows which backend it talks to; each backend keeps its engine's
//! quirks in its own folder:
//!
//! - [`docker`]: the Docker Engine API (Docker, and Podman's compatible
//!   service), the only module that names bollard;
//! - [`incus`]: Incus's REST API, machines as system containers;
//! - `memory` (tests only): an engine in memory, whose hooks let a test
//!   inject the interleavings that a real engine gives only by chance.
//!
//! ## Adding a backend
//! A new backend (Incus system containers, Kubernetes pods, …) touches
//! three places, and nothing else names its type or its client library:
//! 1. **`backend/<name>/`**, one folder that owns the engine whole:
//!    - how to connect: its endpoints and settings (read from
//!      [`EngineSettings`], never from the environment), TLS, ssh; a
//!      `connect(&EngineSettings) -> Result<Connection>` that returns the
//!      [`Connection`] (with a [`HostLink`] when its machines' ports are
//!      reached through something this process carries);
//!    - [`Backend`] for it: containers (create from a [`ContainerPlan`],
//!      a taken name is a `Conflict`; start, a running one is fine; stop
//!      with a grace period; force-remove, a gone one is fine; inspect;
//!      list by label; the last lines of the console); files (unpack a
//!      tar into a created container before it starts, read one back);
//!      networks (create with labels, returning the one network of that
//!      name even when creators race; find the one by name; list by
//!      label; attach a container with an alias; remove: `InUse` while
//!      containers use it);
//!      volumes (list by label, remove); images (inspect, pull, import a
//!      root file system as a base, make one of an [`ImageRecipe`],
//!      remove);
//!    - how the images its machines run are made from footloose's
//!      [`Recipe`](crate::image::Recipe)s (Docker renders a Dockerfile;
//!      another engine may run the recipe in a container and publish it);
//!    - its quirks, decided inside the folder (Docker's duplicate network
//!      names, Podman's `localhost/` names) and reported as
//!      [`HostFacts`] with [`Capabilities`](crate::host::Capabilities),
//!      read once at connect;
//! 2. **the factory**, [`connect`] and [`connect_at`] in `factory.rs`: one
//!    arm each that calls the folder's `connect` when the config's
//!    `backend:` names it;
//! 3. **the config's list of backends**, `footloose_config::Backend`.
//!
//! How a machine's sshd is reached stays the engine's: each backend
//! reports published ports and addresses in [`ContainerInfo`].
//!
//! `footloose/tests/layers.rs` holds this true: the Docker client library
//! (bollard) and `DockerBackend` are named only in `backend/docker/`;
//! libssh2 (`ssh2`) only where machines are reached (`ssh/`).

pub(crate) mod docker;
pub(crate) mod error;
mod factory;
pub(crate) mod incus;
#[cfg(test)]
pub(crate) mod memory;
mod model;
mod seam;

pub use error::{BackendError, ConnectError, ConnectErrorKind};
pub(crate) use factory::{connect, connect_at};
pub use model::{
    ContainerInfo, ContainerStatus, Leftovers, NetworkInfo, PublishedPort, VolumeInfo,
};
#[cfg(test)]
pub(crate) use seam::ImageInfo;
pub use seam::{Backend, BaseImage, ImageRecipe};
pub(crate) use seam::{Connection, HostLink};
