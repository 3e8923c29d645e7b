//! The Docker Engine API backend, for Docker and for Podman's compatible
//! service: the one module that speaks bollard. It turns footloose's plans
//! into API requests and the API's answers (and refusals) into
//! footloose's types and errors; the two engines' differences are decided
//! here and reported as [`Capabilities`](crate::host::Capabilities).

mod backend;
mod connect;
mod context;
mod dockerfile;
mod endpoint;
mod images;
mod networks;
mod open;
mod refusal;
mod request;
mod response;
mod seccomp;
pub(crate) mod settle;
mod ssh;
mod unreachable;

pub(crate) use endpoint::Endpoint;
pub(crate) use open::{connect, connect_at};
