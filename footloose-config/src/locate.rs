//! Where each field of a YAML document stands, so that problems found after
//! parsing (a hostname template without `%d`, say) can be reported at their
//! line and column like serde_yaml's own errors.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Field paths (`machines[0].spec.name`) mapped to the 1-based line and
/// column of their value.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    by_path: HashMap<String, (usize, usize)>,
}

impl Locations {
    /// Indexes `text`; a document that does not parse yields an empty index
    /// (serde_yaml reports the syntax error itself).
    pub(crate) fn index(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Locations::default();
        }
        Locations {
            by_path: builder.by_path,
        }
    }

    /// The location of `path`, or of its nearest parent that has one.
    pub(crate) fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = path;
        loop {
            if let Some(location) = self.by_path.get(path) {
                return Some(*location);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

enum Frame {
    /// `started` turns true at the first key: a block mapping's own marker
    /// stands after its first key, so the key's position is used instead.
    Map {
        key: Option<String>,
        started: bool,
    },
    Seq {
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, String)>,
    by_path: HashMap<String, (usize, usize)>,
}

impl Builder {
    /// The path of the value that the next node of the current frame is.
    /// Returns `None` while a mapping waits for its next key.
    fn child_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some((Frame::Map { key, .. }, parent)) => key.take().map(|k| {
                if parent.is_empty() {
                    k
                } else {
                    format!("{parent}.{k}")
                }
            }),
            Some((Frame::Seq { next }, parent)) => {
                let path = format!("{parent}[{next}]");
                *next += 1;
                Some(path)
            }
        }
    }

    fn record(&mut self, path: &str, mark: Marker) {
        self.by_path
            .entry(path.to_owned())
            .or_insert((mark.line(), mark.col() + 1));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, ..) => match self.child_path() {
                Some(path) => self.record(&path, mark),
                None => {
                    if let Some((Frame::Map { key, started }, path)) = self.stack.last_mut() {
                        *key = Some(value);
                        if !*started {
                            *started = true;
                            let path = path.clone();
                            self.by_path.insert(path, (mark.line(), mark.col() + 1));
                        }
                    }
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.child_path().unwrap_or_default();
                self.record(&path, mark);
                let frame = if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        started: false,
                    }
                } else {
                    Frame::Seq { next: 0 }
                };
                self.stack.push((frame, path));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                if let Some(path) = self.child_path() {
                    self.record(&path, mark);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Locations;

    #[test]
    fn finds_nested_fields_and_falls_back_to_parents() {
        let text = "cluster:\n  name: a\nmachines:\n- count: 1\n  spec:\n    name: n%d\n    portMappings:\n    - containerPort: 22\n";
        let loc = Locations::index(text);
        assert_eq!(loc.find("cluster.name"), Some((2, 9)));
        assert_eq!(loc.find("machines[0].spec.name"), Some((6, 11)));
        assert_eq!(
            loc.find("machines[0].spec.portMappings[0].containerPort"),
            Some((8, 22))
        );
        assert_eq!(
            loc.find("machines[0].spec.portMappings[0].hostPort"),
            loc.find("machines[0].spec.portMappings[0]")
        );
    }
}
