//! Incus's refusals as footloose's engine errors. Incus gives a status
//! code for some refusals and says the rest only in words.

use super::client::ApiError;
use crate::backend::error::{BackendError, EngineFailure};
use crate::error::Error;

/// The engine's name in messages.
pub(super) const ENGINE: &str = "Incus";

/// The engine error for a refusal met while `action`.
pub(super) fn refused(action: impl Into<String>, e: ApiError) -> Error {
    let kind = match e.status() {
        Some(404) => EngineFailure::NotFound,
        Some(409) => EngineFailure::Conflict,
        Some(403) => EngineFailure::Forbidden,
        _ if in_use(&e) => EngineFailure::InUse,
        _ => EngineFailure::Other,
    };
    Error::from(BackendError::Engine {
        engine: ENGINE.to_owned(),
        action: action.into(),
        kind,
        message: e.to_string(),
    })
}

/// Incus says an object is in use only in words.
fn in_use(e: &ApiError) -> bool {
    let text = e.to_string();
    text.contains("in use") || text.contains("currently used")
}

/// Incus's answer to a state change that is already so.
pub(super) fn already(e: &ApiError, state: &str) -> bool {
    let text = e.to_string().to_lowercase();
    text.contains(&format!("already {state}"))
        || (state == "stopped" && text.contains("is not running"))
}

/// How often, and how far apart, a removal Incus refused is tried again
/// while the instance is still there: it may be busy restarting after a
/// reboot in it, or being stopped by another remover.
pub(super) const BUSY_TRIES: u32 = 50;
pub(super) const BUSY_WAIT: std::time::Duration = std::time::Duration::from_millis(200);
