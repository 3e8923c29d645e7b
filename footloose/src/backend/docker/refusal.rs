//! Docker API refusals as footloose's typed engine errors, and the small
//! helpers every request of this backend shares.

use std::collections::HashMap;

use crate::backend::error::{BackendError, EngineFailure};
use crate::error::{Error, Result};
use crate::host::Flavour;

/// The engine's name in messages: Docker, or Podman for Podman's
/// compatible service.
pub(super) fn engine_name(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Docker => "Docker",
        Flavour::Podman => "Podman",
        Flavour::Incus => "Incus",
    }
}

/// An engine error from a bollard error of the engine `flavour`: its kind
/// and the engine's own words once, without bollard's "status code"
/// preamble.
pub(super) fn error(
    flavour: Flavour,
    action: impl Into<String>,
    error: bollard::errors::Error,
) -> Error {
    let (kind, message) = match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            let kind = match status_code {
                404 => EngineFailure::NotFound,
                409 => EngineFailure::Conflict,
                403 => EngineFailure::Forbidden,
                304 => EngineFailure::NotModified,
                _ => EngineFailure::Other,
            };
            (kind, message.trim().to_owned())
        }
        other => (EngineFailure::Other, other.to_string()),
    };
    Error::from(BackendError::Engine {
        engine: engine_name(flavour).to_owned(),
        action: action.into(),
        kind,
        message,
    })
}

/// `Ok(None)` for "no such object", the value otherwise.
pub(super) fn found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// The API's filter for objects carrying every label of `selector`.
pub(super) fn label_filter(selector: &[String]) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), selector.to_vec())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_classified_and_keep_only_the_engines_words() {
        let refusal = |status_code| bollard::errors::Error::DockerResponseServerError {
            status_code,
            message: "the engine's words\n".into(),
        };
        for (status, kind) in [
            (404, EngineFailure::NotFound),
            (409, EngineFailure::Conflict),
            (403, EngineFailure::Forbidden),
            (304, EngineFailure::NotModified),
            (500, EngineFailure::Other),
        ] {
            let err = error(Flavour::Docker, "doing it", refusal(status));
            assert_eq!(err.engine_failure(), Some(kind));
            assert_eq!(
                err.to_string(),
                "Docker engine error while doing it: the engine's words"
            );
        }
        let err = error(Flavour::Podman, "doing it", refusal(500));
        assert_eq!(
            err.to_string(),
            "Podman engine error while doing it: the engine's words"
        );
    }
}
