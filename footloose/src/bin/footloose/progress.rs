//! What the user sees while footloose works: each step as a line on
//! stderr and, on a terminal, a spinner with the current step and its
//! elapsed time (an image build takes a minute).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static SPINNER: OnceLock<ProgressBar> = OnceLock::new();

/// Installs the progress display; `verbose` shows debug messages too.
pub fn init(verbose: bool) {
    let default = if verbose {
        "footloose=debug"
    } else {
        "footloose=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        let _ = SPINNER.set(bar.clone());
        bar
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(Progress { spinner })
        .init();
}

/// Prints events and drives the spinner.
struct Progress {
    spinner: Option<ProgressBar>,
}

impl<S: Subscriber> Layer<S> for Progress {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let level = *event.metadata().level();
        let line = format!("{:>5} {}", level, message.0);
        match &self.spinner {
            Some(bar) => {
                bar.println(line);
                if level <= Level::INFO {
                    bar.reset_elapsed();
                    bar.set_message(message.0);
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

/// Prints a result line for the user, above the spinner if one runs.
pub fn say(line: impl AsRef<str>) {
    match SPINNER.get() {
        Some(bar) if !bar.is_finished() => bar.println(line.as_ref()),
        _ => eprintln!("{}", line.as_ref()),
    }
}

/// Removes the spinner: the command is done.
pub fn finish() {
    if let Some(bar) = SPINNER.get() {
        bar.finish_and_clear();
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
