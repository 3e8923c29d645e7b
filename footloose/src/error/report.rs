//! How an error and its causes are printed: on one line ([`chain`]) or as
//! a report with a line per cause ([`write_report`]). Every layer's
//! errors use them, so they import nothing of the crate.

use std::fmt;

/// `error` and its sources, joined by `: `, as `anyhow`'s `{:#}` prints
/// them: the whole story of an error that hands its causes on as sources.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `error`'s message, then `Caused by:` and its sources, numbered when
/// there are several (anyhow's `Debug` layout).
pub(crate) fn write_report(
    error: &(dyn std::error::Error + 'static),
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{error}")?;
    let causes: Vec<String> = std::iter::successors(error.source(), |e| e.source())
        .map(ToString::to_string)
        .collect();
    if causes.is_empty() {
        return Ok(());
    }
    write!(f, "\n\nCaused by:")?;
    for (i, cause) in causes.iter().enumerate() {
        let cause = cause.replace('\n', "\n       ");
        if causes.len() == 1 {
            write!(f, "\n    {cause}")?;
        } else {
            write!(f, "\n    {i}: {cause}")?;
        }
    }
    Ok(())
}
