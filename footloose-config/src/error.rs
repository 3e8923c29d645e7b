//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration could not be used.
///
/// A problem with the file's content is [`Invalid`](ConfigError::Invalid),
/// located in the file:
///
/// ```
/// use footloose_config::{Config, ConfigError};
///
/// let err = Config::from_yaml("cluster:\n  name: 'not ok'\n", "footloose.yaml").unwrap_err();
/// let invalid = err.invalid().expect("a problem of the content");
/// assert_eq!((invalid.line, invalid.field.as_str()), (Some(2), "cluster.name"));
/// assert!(err.to_string().starts_with("footloose.yaml:2:9: cluster.name: `not ok` is not a valid cluster name"));
/// assert!(matches!(err, ConfigError::Invalid(_)));
/// ```
///
/// The other variants say what failed and carry the cause as their
/// [`source`](std::error::Error::source): print the whole chain (such as
/// with `anyhow`'s `{:#}`) to see it. Its `Debug` form (what `unwrap` and a
/// failing test print) is the message, then its causes on lines of their
/// own:
///
/// ```
/// let err = footloose_config::Config::load("/nonexistent.yaml".as_ref()).unwrap_err();
/// assert!(format!("{err:?}").starts_with("cannot read config file /nonexistent.yaml\n\nCaused by:\n    "));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but its content is not a valid configuration.
    #[error("{0}")]
    Invalid(Box<Invalid>),
    /// A configuration could not be written out as YAML.
    #[error("cannot serialise the configuration")]
    Serialise(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A problem found in a configuration's content, with where it is: what
/// [`ConfigError::Invalid`] carries, and what it prints as
/// `file:line:column: field: message`.
///
/// ```
/// let err = footloose_config::Config::from_yaml("cluster:\n  name: c\n  colour: red\n", "f.yaml")
///     .unwrap_err();
/// let invalid = err.invalid().unwrap();
/// assert_eq!(invalid.file, "f.yaml");
/// assert_eq!((invalid.line, invalid.column), (Some(3), Some(3)));
/// assert_eq!(invalid.field, "cluster");
/// assert!(invalid.message.starts_with("unknown field `colour`"));
/// assert_eq!(invalid.to_string(), err.to_string());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invalid {
    /// The file the text came from, as given by the caller.
    pub file: String,
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// 1-based column of the offending value, when known.
    pub column: Option<usize>,
    /// The field path, such as `machines[0].spec.portMappings[1].hostPort`;
    /// empty for problems of the whole document.
    pub field: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        if source.is_some() {
            write!(f, "\n\nCaused by:")?;
        }
        while let Some(cause) = source {
            write!(f, "\n    {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ConfigError {
    /// The located problem, for errors about the file's content.
    ///
    /// ```
    /// let err = footloose_config::Config::from_yaml("cluster:\n  name: c\nmachines: 3\n", "f.yaml").unwrap_err();
    /// let invalid = err.invalid().unwrap();
    /// assert_eq!((invalid.line, invalid.field.as_str()), (Some(3), "machines"));
    /// ```
    pub fn invalid(&self) -> Option<&Invalid> {
        match self {
            ConfigError::Invalid(invalid) => Some(invalid),
            _ => None,
        }
    }

    pub(crate) fn at(
        file: &str,
        location: Option<(usize, usize)>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid(Box::new(Invalid {
            file: file.to_owned(),
            line: location.map(|l| l.0),
            column: location.map(|l| l.1),
            field: field.into(),
            message: message.into(),
        }))
    }

    /// Turns a serde_yaml error into a located one. serde_yaml renders its
    /// errors as `<path>: <message> at line L column C`; the parts are taken
    /// apart so that every error of this crate reads the same way.
    pub(crate) fn from_yaml(file: &str, err: &serde_yaml::Error) -> Self {
        let location = err.location().map(|l| (l.line(), l.column()));
        let mut text = err.to_string();
        if let Some((line, column)) = location {
            let suffix = format!(" at line {line} column {column}");
            if let Some(stripped) = text.strip_suffix(&suffix) {
                text = stripped.to_owned();
            }
        }
        let (field, message) = split_field(&text);
        ConfigError::at(file, location, field, message)
    }
}

/// Splits `machines[0].spec: unknown field ...` into its field path and
/// message; a message without a leading path is returned whole.
fn split_field(text: &str) -> (String, String) {
    if let Some((head, rest)) = text.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && !head.contains(' ')
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c));
        if looks_like_path && head != "." {
            return (head.to_owned(), rest.to_owned());
        }
    }
    (String::new(), text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::split_field;

    #[test]
    fn splits_a_leading_field_path() {
        assert_eq!(
            split_field("machines[0].spec.name: invalid type"),
            ("machines[0].spec.name".into(), "invalid type".into())
        );
        assert_eq!(
            split_field("invalid type: string \"a: b\""),
            (String::new(), "invalid type: string \"a: b\"".into())
        );
    }
}
