//! Architecture checks over the source tree (std only, no compilation of the
//! code under test): import circles between files, the direction of imports
//! between the library's layers, and the binary staying a client of the
//! library.
//!
//! Run with `cargo test -p footloose --test layers -- --nocapture` to see the
//! full report (files, lines, import edges, circles, layer violations).
//!
//! How the import graph is built, per crate (the `footloose` library, each
//! binary under `src/bin/`, and `footloose-config`):
//!
//! - every `.rs` file is a node; its module path comes from its place in the
//!   tree (`lib.rs`/`main.rs` = crate root, `a.rs` or `a/mod.rs` = `a`,
//!   `a/b.rs` = `a::b`);
//! - comments (also doc comments), string and char literals are removed
//!   first, then everything from a `#[cfg(test)]` line followed by
//!   `mod tests` to the end of the file;
//! - edges come from `use` trees (`crate::`, `super::`, `self::`, groups,
//!   globs, and 2018-style paths that start with a child module such as
//!   `pub use builder::ClusterBuilder` in a `mod.rs`) and from paths in code
//!   that start with `crate::`, `super::`, `self::` or a child module;
//! - a path resolves to the deepest file that exists; when the rest of the
//!   path names an item that file re-exports (`pub use x::Item`, also
//!   private `use`s seen by child modules), the re-export is followed to the
//!   file that defines it, so `crate::Cluster` is an edge to
//!   `cluster/mod.rs`, not to `lib.rs`. Paths that leave the crate (such as
//!   `crate::config::Backend`, a re-export of `footloose_config`) and paths
//!   that resolve to nothing are ignored;
//! - `mod` declarations are not edges.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers of the `footloose` library's top-level modules, lowest first.
///
/// A module may import modules of its own layer or of a lower layer, never
/// of a higher one, but for the crate's `Error` composing each layer's error
/// type (see [`composes_layer_error`]). The crate root (`src/lib.rs`) stands above every layer
/// and may import anything. Modules listed here that are not in the tree are
/// ignored; a top-level module that is in the tree but missing here fails
/// `library_layers_point_downwards`, so that the table stays complete: put a
/// new module into the layer it belongs to.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations: facts and plain helpers",
        &[
            "error",
            "labels",
            "naming",
            "paths",
            "process",
            "runtime",
            "archive",
            "interrupt",
            "keys",
            "host",
            "ownership",
            "record",
            "distro",
            "settings",
            "stamp",
        ],
    ),
    (
        "plans: pure decisions",
        &["container_spec", "guest", "plan"],
    ),
    (
        "backend: the seam to the engine",
        &["backend", "reach", "engine", "image"],
    ),
    (
        "cluster and machine",
        &["ssh", "systemd", "machine", "cluster"],
    ),
    ("users of clusters", &["ansible", "testing", "pool"]),
];

/// The one exception to the layers: the crate's `Error` (in `error/mod.rs`,
/// a foundation every layer returns) composes the error type each layer
/// owns, which lives in that layer's `error.rs` (`machine/error.rs`,
/// `ansible/error.rs`, ...). So `error/mod.rs` may import a file `X/error.rs`
/// of any layer. Such a file must not import `error/mod.rs` in turn (the
/// circle check sees to it): it holds data and messages, not the crate's
/// `Error`.
fn composes_layer_error(from: &[String], to: &[String]) -> bool {
    from == ["error"] && to.len() == 2 && to[1] == "error"
}

/// Re-exports are followed at most this many times for one path.
const MAX_HOPS: usize = 12;

// ---------------------------------------------------------------------------
// The tests

#[test]
fn no_import_circles() {
    let crates = load_crates();
    let mut report = String::new();
    let mut failures = String::new();
    for krate in &crates {
        let _ = writeln!(report, "\n== {} ({})", krate.name, krate.dir_label);
        let _ = writeln!(
            report,
            "files {}, lines {}, import edges {}",
            krate.files.len(),
            krate.lines(),
            krate.edges.len()
        );
        for note in &krate.notes {
            let _ = writeln!(report, "note: {note}");
        }
        let circles = krate.circles();
        if circles.is_empty() {
            let _ = writeln!(report, "no import circles");
        }
        for (n, circle) in circles.iter().enumerate() {
            let text = krate.describe_circle(n + 1, circle);
            report.push_str(&text);
            let _ = write!(failures, "[{}] {}", krate.name, text);
        }
    }
    report.push('\n');
    report.push_str(&summary(&crates));
    print!("{report}");
    assert!(
        failures.is_empty(),
        "import circles between files (each circle lists the edges that form it):\n{failures}"
    );
}

#[test]
fn library_layers_point_downwards() {
    let crates = load_crates();
    let mut report = String::from("\n== layers of the footloose library, lowest first\n");
    for (n, (name, modules)) in LAYERS.iter().enumerate() {
        let _ = writeln!(report, "  layer {n} ({name}): {}", modules.join(", "));
    }
    let _ = writeln!(
        report,
        "  layer {} (crate root): lib.rs, may import anything",
        LAYERS.len()
    );
    let Some(lib) = crates.iter().find(|k| k.kind == Kind::Library) else {
        println!("{report}no footloose library sources found: nothing to check");
        return;
    };

    let layer_of = |module: &str| -> Option<usize> {
        LAYERS
            .iter()
            .position(|(_, modules)| modules.contains(&module))
    };
    let present: BTreeSet<&str> = lib
        .files
        .iter()
        .filter_map(|f| f.module.first().map(String::as_str))
        .collect();
    let missing: Vec<&str> = present
        .iter()
        .copied()
        .filter(|m| layer_of(m).is_none())
        .collect();
    let mut listed_twice = Vec::new();
    let mut seen = HashSet::new();
    for (_, modules) in LAYERS {
        for m in *modules {
            if !seen.insert(*m) {
                listed_twice.push(*m);
            }
        }
    }

    // (from module, to module) -> lines "file -> file: names"
    let mut violations: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let root_layer = LAYERS.len();
    for (&(from, to), names) in &lib.edges {
        let (a, b) = (&lib.files[from], &lib.files[to]);
        let top_a = a.module.first().map(String::as_str);
        let top_b = b.module.first().map(String::as_str);
        if top_a == top_b || composes_layer_error(&a.module, &b.module) {
            continue;
        }
        let layer = |top: Option<&str>| match top {
            None => Some(root_layer),
            Some(m) => layer_of(m),
        };
        let (Some(la), Some(lb)) = (layer(top_a), layer(top_b)) else {
            continue; // a module missing from the table, reported below
        };
        if la < lb {
            let key = (
                format!("{} (layer {la})", top_a.unwrap_or("crate root")),
                format!("{} (layer {lb})", top_b.unwrap_or("crate root")),
            );
            violations.entry(key).or_default().push(format!(
                "{} -> {}: {}",
                a.display,
                b.display,
                join_names(names)
            ));
        }
    }

    let mut failures = String::new();
    if !missing.is_empty() {
        let _ = writeln!(
            failures,
            "top-level modules in the tree but missing from LAYERS: {}",
            missing.join(", ")
        );
    }
    if !listed_twice.is_empty() {
        let _ = writeln!(
            failures,
            "modules listed in more than one layer of LAYERS: {}",
            listed_twice.join(", ")
        );
    }
    let edge_count: usize = violations.values().map(Vec::len).sum();
    if !violations.is_empty() {
        let _ = writeln!(
            failures,
            "{edge_count} file edge(s) import a higher layer ({} module pair(s)):",
            violations.len()
        );
        for ((from, to), lines) in &violations {
            let _ = writeln!(failures, "  {from} -> {to}");
            for line in lines {
                let _ = writeln!(failures, "      {line}");
            }
        }
    }
    if failures.is_empty() {
        report.push_str("every import points to the same layer or a lower one\n");
    } else {
        report.push_str(&failures);
    }
    print!("{report}");
    assert!(failures.is_empty(), "layer check failed:\n{failures}");
}

/// The layer list in `lib.rs`'s documentation ("How the crate is laid
/// out"): `N. name: `a`, `b`` items, continued on indented lines.
fn layers_in_lib_rs() -> Vec<(String, Vec<String>)> {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let text = fs::read_to_string(lib).unwrap();
    let mut layers: Vec<String> = Vec::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("//!")) {
        let line = line.trim_start();
        let numbered = line
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        match numbered {
            Some((_, item)) => layers.push(item.to_owned()),
            None if line.starts_with('`') => {
                if let Some(last) = layers.last_mut() {
                    last.push(' ');
                    last.push_str(line);
                }
            }
            None => {}
        }
    }
    layers
        .into_iter()
        .filter_map(|item| {
            let (name, modules) = item.rsplit_once(": ")?;
            let modules = modules
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_owned())
                .collect();
            Some((name.to_owned(), modules))
        })
        .collect()
}

#[test]
fn the_map_in_lib_rs_is_the_layers_table() {
    let table: Vec<(String, Vec<String>)> = LAYERS
        .iter()
        .map(|(name, modules)| {
            (
                (*name).to_owned(),
                modules.iter().map(|m| (*m).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(
        layers_in_lib_rs(),
        table,
        "lib.rs's \"How the crate is laid out\" differs from LAYERS"
    );
}

/// The outside systems footloose talks to, and the only folders of
/// `footloose/src` whose code may name them (the checklist in
/// `backend/mod.rs`): a backend's client library and types stay in its
/// folder; libssh2 stays where machines are reached.
const CONFINED: &[(&str, &[&str])] = &[
    ("bollard::", &["backend/docker/"]),
    ("DockerBackend", &["backend/docker/"]),
    // Incus's REST client is written on hyper, in its folder.
    ("hyper::", &["backend/incus/"]),
    ("IncusBackend", &["backend/incus/"]),
    ("ssh2::", &["ssh/"]),
];

#[test]
fn outside_systems_are_named_only_in_their_folders() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (name, allowed) in CONFINED {
                if code.contains(name) && !allowed.iter().any(|dir| rel.starts_with(dir)) {
                    found.push(format!("{rel}:{}: {name}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        !files.is_empty() && found.is_empty(),
        "named outside their folders:\n{}",
        found.join("\n")
    );
}

#[test]
fn binary_includes_no_library_file() {
    let crates = load_crates();
    let mut report = String::from("\n== the binaries under footloose/src/bin\n");
    let mut failures = String::new();
    let bins: Vec<&Crate> = crates.iter().filter(|k| k.kind == Kind::Binary).collect();
    if bins.is_empty() {
        report.push_str("no binaries found\n");
    }
    for krate in bins {
        let _ = writeln!(
            report,
            "{}: {} file(s), {} module declaration(s)",
            krate.name,
            krate.files.len(),
            krate.files.iter().map(|f| f.mod_decls.len()).sum::<usize>()
        );
        for (index, file) in krate.files.iter().enumerate() {
            if let Some(line) = file.path_attr {
                let _ = writeln!(
                    failures,
                    "{}: line {line}: a #[path] attribute (a bin file may not pull in other files)",
                    file.display
                );
            }
            if let Some(line) = file.include_macro {
                let _ = writeln!(
                    failures,
                    "{}: line {line}: include!() (a bin file may not pull in other files)",
                    file.display
                );
            }
            for (name, line) in &file.mod_decls {
                let mut module = file.module.clone();
                module.push(name.clone());
                if krate.file_of(&module).is_none_or(|found| found == index) {
                    let _ = writeln!(
                        failures,
                        "{}: line {line}: `mod {name};` has no file under {}",
                        file.display, krate.dir_label
                    );
                }
            }
        }
    }
    if failures.is_empty() {
        report.push_str("every module of the binaries is a file under src/bin\n");
    } else {
        report.push_str(&failures);
    }
    print!("{report}");
    assert!(
        failures.is_empty(),
        "the binary must use the library only through its public API:\n{failures}"
    );
}

/// Every import edge with the names behind it, for checking the checker:
/// `cargo test -p footloose --test layers -- --ignored --nocapture`.
#[test]
#[ignore = "a listing, not a check"]
fn print_every_edge() {
    let mut out = String::new();
    for krate in load_crates() {
        let _ = writeln!(out, "\n== {}", krate.name);
        for note in &krate.notes {
            let _ = writeln!(out, "note: {note}");
        }
        for (&(a, b), names) in &krate.edges {
            let _ = writeln!(
                out,
                "{} -> {}: {}",
                krate.files[a].display,
                krate.files[b].display,
                join_names(names)
            );
        }
    }
    print!("{out}");
}

/// One line per crate, for a closing note:
/// `name: files N, lines N, import edges N, circles N`.
fn summary(crates: &[Crate]) -> String {
    let mut out = String::from("summary:\n");
    for krate in crates {
        let _ = writeln!(
            out,
            "  {}: files {}, lines {}, import edges {}, circles {}",
            krate.name,
            krate.files.len(),
            krate.lines(),
            krate.edges.len(),
            krate.circles().len()
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Loading the crates

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Library,
    Binary,
}

fn load_crates() -> Vec<Crate> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = manifest.join("src");
    let mut lib_files = Vec::new();
    let mut bins: BTreeMap<String, Vec<(String, Vec<String>, String)>> = BTreeMap::new();
    let mut notes = Vec::new();
    for (rel, text) in rust_files(&src, &mut notes) {
        let display = rel.join("/");
        if rel.first().map(String::as_str) == Some("bin") && rel.len() >= 2 {
            // src/bin/NAME.rs, or src/bin/NAME/main.rs and its modules
            let (name, inner) = if rel.len() == 2 {
                let name = rel[1].trim_end_matches(".rs").to_owned();
                (name, vec!["main.rs".to_owned()])
            } else {
                (rel[1].clone(), rel[2..].to_vec())
            };
            if let Some(module) = module_of(&inner, "main") {
                bins.entry(name).or_default().push((display, module, text));
            }
        } else if rel.len() == 1 && rel[0] == "main.rs" {
            bins.entry("main".to_owned())
                .or_default()
                .push((display, Vec::new(), text));
        } else if let Some(module) = module_of(&rel, "lib") {
            lib_files.push((display, module, text));
        }
    }
    let mut crates = vec![Crate::build(
        "footloose",
        Kind::Library,
        "footloose/src, without src/bin".to_owned(),
        lib_files,
        notes,
    )];
    for (name, files) in bins {
        crates.push(Crate::build(
            &format!("footloose bin {name}"),
            Kind::Binary,
            format!("footloose/src/bin/{name}"),
            files,
            Vec::new(),
        ));
    }
    let config_src = manifest.join("../footloose-config/src");
    let mut notes = Vec::new();
    let files: Vec<_> = rust_files(&config_src, &mut notes)
        .into_iter()
        .filter_map(|(rel, text)| Some((rel.join("/"), module_of(&rel, "lib")?, text)))
        .collect();
    crates.push(Crate::build(
        "footloose-config",
        Kind::Library,
        "footloose-config/src".to_owned(),
        files,
        notes,
    ));
    crates
}

/// Every `.rs` file under `root`, as (path components relative to `root`,
/// text), sorted by path. Unreadable entries become notes.
fn rust_files(root: &Path, notes: &mut Vec<String>) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                notes.push(format!("cannot read {}: {e}", dir.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let Ok(rel) = path.strip_prefix(root) else {
                    continue;
                };
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                match fs::read_to_string(&path) {
                    Ok(text) => out.push((rel, text)),
                    Err(e) => notes.push(format!("cannot read {}: {e}", path.display())),
                }
            }
        }
    }
    out.sort();
    out
}

/// The module path of a file from its path relative to the crate's root
/// directory: `root.rs` is the crate root, `a.rs` and `a/mod.rs` are `a`,
/// `a/b.rs` is `a::b`.
fn module_of(rel: &[String], root_stem: &str) -> Option<Vec<String>> {
    let (last, dirs) = rel.split_last()?;
    let stem = last.strip_suffix(".rs")?;
    let mut module = dirs.to_vec();
    if dirs.is_empty() && stem == root_stem {
        return Some(module);
    }
    if stem != "mod" {
        module.push(stem.to_owned());
    }
    Some(module)
}

// ---------------------------------------------------------------------------
// One crate's files and import graph

struct Crate {
    name: String,
    kind: Kind,
    dir_label: String,
    files: Vec<SrcFile>,
    by_module: HashMap<Vec<String>, usize>,
    /// (from file, to file) -> names written in `from`, with their first line.
    edges: BTreeMap<(usize, usize), BTreeMap<String, usize>>,
    notes: Vec<String>,
}

impl Crate {
    fn build(
        name: &str,
        kind: Kind,
        dir_label: String,
        sources: Vec<(String, Vec<String>, String)>,
        mut notes: Vec<String>,
    ) -> Crate {
        let parsed: Vec<SrcFile> = sources
            .into_iter()
            .map(|(display, module, text)| SrcFile::parse(display, module, &text))
            .collect();
        // files declared under #[cfg(test)] (and their submodules) are test code
        let test_only: Vec<Vec<String>> = parsed
            .iter()
            .flat_map(|f| {
                f.test_mods.iter().map(|name| {
                    let mut module = f.module.clone();
                    module.push(name.clone());
                    module
                })
            })
            .collect();
        let mut files = Vec::new();
        let mut by_module = HashMap::new();
        for file in parsed {
            if test_only.iter().any(|t| file.module.starts_with(t)) {
                notes.push(format!(
                    "{} is test code (#[cfg(test)]): left out",
                    file.display
                ));
                continue;
            }
            if let Some(&other) = by_module.get(&file.module) {
                let other: &SrcFile = &files[other];
                notes.push(format!(
                    "{} and {} are the same module; the second is left out",
                    file.display, other.display
                ));
                continue;
            }
            by_module.insert(file.module.clone(), files.len());
            files.push(file);
        }
        let mut krate = Crate {
            name: name.to_owned(),
            kind,
            dir_label,
            files,
            by_module,
            edges: BTreeMap::new(),
            notes,
        };
        krate.edges = krate.compute_edges();
        krate
    }

    fn lines(&self) -> usize {
        self.files.iter().map(|f| f.lines).sum()
    }

    fn file_of(&self, module: &[String]) -> Option<usize> {
        self.by_module.get(module).copied()
    }

    fn compute_edges(&self) -> BTreeMap<(usize, usize), BTreeMap<String, usize>> {
        let mut edges: BTreeMap<(usize, usize), BTreeMap<String, usize>> = BTreeMap::new();
        for (from, file) in self.files.iter().enumerate() {
            let paths = file
                .uses
                .iter()
                .map(|u| (&u.segs, &u.inline, u.line, true, u.glob))
                .chain(
                    file.refs
                        .iter()
                        .map(|r| (&r.segs, &r.inline, r.line, false, false)),
                );
            for (segs, inline, line, in_use, glob) in paths {
                let Some(mut abs) = self.absolutize(from, inline, segs, in_use, 0) else {
                    continue;
                };
                if in_use {
                    abs = self.unless_private_module(&file.module, abs);
                }
                // in code (not in `use`), the last segment is an item, never a
                // module: `crate::ansible::inventory(..)` calls a function
                let Some(to) = self.resolve(abs, !in_use, 0) else {
                    continue;
                };
                if to == from {
                    continue;
                }
                let mut name = segs.join("::");
                if glob {
                    name.push_str("::*");
                }
                let names = edges.entry((from, to)).or_default();
                let first = names.entry(name).or_insert(line);
                *first = (*first).min(line);
            }
        }
        edges
    }

    /// The crate-relative module path `segs` stands for, written in file
    /// `file` inside the inline modules `inline`; `None` for paths that leave
    /// the crate. Plain paths (`x::y`) count when `x` is a child module, and
    /// in `use` trees also when `x` is a name the file imports.
    fn absolutize(
        &self,
        file: usize,
        inline: &[String],
        segs: &[String],
        follow_bindings: bool,
        hops: usize,
    ) -> Option<Vec<String>> {
        if hops > MAX_HOPS {
            return None;
        }
        let src = self.files.get(file)?;
        let mut current: Vec<String> = src.module.iter().chain(inline).cloned().collect();
        let first = segs.first()?;
        let mut i = 0;
        match first.as_str() {
            "crate" => {
                current.clear();
                i = 1;
            }
            "self" | "super" => {
                if first == "self" {
                    i = 1;
                }
                while segs.get(i).map(String::as_str) == Some("super") {
                    current.pop()?;
                    i += 1;
                }
            }
            "" => return None, // `::x`: an external crate
            _ => {
                let mut child = current.clone();
                child.push(first.clone());
                if !self.by_module.contains_key(&child) {
                    if !(follow_bindings && inline.is_empty()) {
                        return None;
                    }
                    let binding = src.bindings.get(first.as_str())?;
                    let mut abs = binding
                        .iter()
                        .find_map(|b| self.absolutize(file, &[], b, follow_bindings, hops + 1))?;
                    abs.extend(segs[1..].iter().cloned());
                    return Some(abs);
                }
            }
        }
        current.extend(segs[i..].iter().cloned());
        Some(current)
    }

    /// `use` imports a name in every namespace, so `pub use cluster::start`
    /// in `lib.rs` names both `cluster/start.rs` and a function that
    /// `cluster/mod.rs` re-exports. When the module is private to its parent
    /// and the importing module `from` is outside that parent, only the
    /// re-export can be meant: its path is returned instead.
    fn unless_private_module(&self, from: &[String], abs: Vec<String>) -> Vec<String> {
        let Some((name, parent)) = abs.split_last() else {
            return abs;
        };
        if from.starts_with(parent) && from.len() > parent.len() || self.file_of(&abs).is_none() {
            return abs;
        }
        let Some(parent_file) = self.file_of(parent) else {
            return abs;
        };
        let file = &self.files[parent_file];
        if !file.private_mods.contains(name.as_str()) {
            return abs;
        }
        file.bindings
            .get(name.as_str())
            .and_then(|b| {
                b.iter()
                    .find_map(|b| self.absolutize(parent_file, &[], b, true, 0))
            })
            .unwrap_or(abs)
    }

    /// The file that defines what the crate-relative path `abs` names; with
    /// `item`, its last segment names an item, not a module.
    fn resolve(&self, abs: Vec<String>, item: bool, hops: usize) -> Option<usize> {
        let deepest = if item {
            abs.len().saturating_sub(1)
        } else {
            abs.len()
        };
        let (target, k) = (0..=deepest)
            .rev()
            .find_map(|k| Some((self.file_of(&abs[..k])?, k)))?;
        let rest = &abs[k..];
        let Some(name) = rest.first() else {
            return Some(target);
        };
        if hops > MAX_HOPS {
            return Some(target);
        }
        let file = &self.files[target];
        if let Some(bindings) = file.bindings.get(name.as_str()) {
            // a re-export (or import): follow it; if it leaves the crate, so does the path
            let mut abs = bindings
                .iter()
                .find_map(|b| self.absolutize(target, &[], b, true, hops + 1))?;
            abs.extend(rest[1..].iter().cloned());
            return self.resolve(abs, item, hops + 1);
        }
        if !file.defines.contains(name.as_str()) {
            for glob in &file.globs {
                let Some(mut abs) = self.absolutize(target, &[], glob, true, hops + 1) else {
                    continue;
                };
                let Some(found) = self.resolve(abs.clone(), false, hops + 1) else {
                    continue;
                };
                let other = &self.files[found];
                if found != target
                    && (other.defines.contains(name.as_str())
                        || other.bindings.contains_key(name.as_str()))
                {
                    abs.extend(rest.iter().cloned());
                    return self.resolve(abs, item, hops + 1);
                }
            }
            if k == 0 {
                // `crate::nothing`: nothing at the root by that name
                return None;
            }
        }
        Some(target)
    }

    /// Strongly connected components of more than one file (Tarjan), each
    /// sorted by file name.
    fn circles(&self) -> Vec<Vec<usize>> {
        let n = self.files.len();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        let mut tarjan = Tarjan {
            next: &next,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            counter: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if tarjan.index[v].is_none() {
                tarjan.visit(v);
            }
        }
        let mut circles: Vec<Vec<usize>> = tarjan
            .out
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|mut c| {
                c.sort_by(|a, b| self.files[*a].display.cmp(&self.files[*b].display));
                c
            })
            .collect();
        circles.sort_by(|a, b| self.files[a[0]].display.cmp(&self.files[b[0]].display));
        circles
    }

    fn describe_circle(&self, number: usize, circle: &[usize]) -> String {
        let members: HashSet<usize> = circle.iter().copied().collect();
        let names: Vec<&str> = circle
            .iter()
            .map(|&f| self.files[f].display.as_str())
            .collect();
        let mut out = format!(
            "circle {number} ({} files): {}\n",
            circle.len(),
            names.join(", ")
        );
        for (&(a, b), edge_names) in &self.edges {
            if members.contains(&a) && members.contains(&b) {
                let _ = writeln!(
                    out,
                    "    {} -> {}: {}",
                    self.files[a].display,
                    self.files[b].display,
                    join_names(edge_names)
                );
            }
        }
        out
    }
}

fn join_names(names: &BTreeMap<String, usize>) -> String {
    let mut by_line: Vec<(&usize, &String)> = names.iter().map(|(n, l)| (l, n)).collect();
    by_line.sort();
    by_line
        .iter()
        .map(|(line, name)| format!("{name} (line {line})"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Tarjan<'a> {
    next: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for i in 0..self.next[v].len() {
            let w = self.next[v][i];
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(component);
        }
    }
}

// ---------------------------------------------------------------------------
// Reading one file

struct SrcFile {
    display: String,
    module: Vec<String>,
    lines: usize,
    uses: Vec<UseItem>,
    refs: Vec<CodeRef>,
    /// Names imported at the file's top level, to the paths they import.
    bindings: HashMap<String, Vec<Vec<String>>>,
    /// Paths of top-level glob imports.
    globs: Vec<Vec<String>>,
    /// Names of items defined at the file's top level.
    defines: HashSet<String>,
    /// `mod name;` declarations at the file's top level, with their line.
    mod_decls: Vec<(String, usize)>,
    /// Modules declared without `pub` at the file's top level.
    private_mods: HashSet<String>,
    /// `#[cfg(test)] mod name;` declarations: files of test code.
    test_mods: Vec<String>,
    path_attr: Option<usize>,
    include_macro: Option<usize>,
}

/// One leaf of a `use` tree, as written (`crate`, `super`, `self` kept).
struct UseItem {
    segs: Vec<String>,
    glob: bool,
    line: usize,
    inline: Vec<String>,
}

/// A path in code starting with `crate`, `super`, `self` or another name.
struct CodeRef {
    segs: Vec<String>,
    line: usize,
    inline: Vec<String>,
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod",
];

impl SrcFile {
    fn parse(display: String, module: Vec<String>, text: &str) -> SrcFile {
        let mut file = SrcFile {
            display,
            module,
            lines: text.lines().count(),
            uses: Vec::new(),
            refs: Vec::new(),
            bindings: HashMap::new(),
            globs: Vec::new(),
            defines: HashSet::new(),
            mod_decls: Vec::new(),
            test_mods: Vec::new(),
            private_mods: HashSet::new(),
            path_attr: None,
            include_macro: None,
        };
        let (code, test_mods) = cut_tests(&strip_comments_and_literals(text));
        file.test_mods = test_mods;
        let toks = tokenize(&code);
        let text_at = |i: usize| toks.get(i).map(|t| t.text.as_str()).unwrap_or("");

        let mut depth = 0usize;
        // inline modules open here, with the brace depth inside them
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut pending_mod: Option<String> = None;
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i].text.as_str();
            let line = toks[i].line;
            let at_file_level = depth == 0 && inline.is_empty();
            match t {
                "{" => {
                    depth += 1;
                    if let Some(name) = pending_mod.take() {
                        inline.push((name, depth));
                    }
                    i += 1;
                }
                "}" => {
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                "mod" if is_ident(text_at(i + 1)) => {
                    let name = text_at(i + 1).to_owned();
                    match text_at(i + 2) {
                        "{" => pending_mod = Some(name.clone()),
                        ";" if at_file_level => file.mod_decls.push((name.clone(), line)),
                        _ => {}
                    }
                    if at_file_level {
                        let prev = if i == 0 { "" } else { text_at(i - 1) };
                        if prev != "pub" && prev != ")" {
                            file.private_mods.insert(name.clone());
                        }
                        file.defines.insert(name);
                    }
                    i += 2;
                }
                "use" => {
                    let module_level = depth == inline.last().map_or(0, |(_, d)| *d);
                    let names: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
                    let mut end = i + 1;
                    let mut braces = 0usize;
                    while end < toks.len() {
                        match toks[end].text.as_str() {
                            "{" => braces += 1,
                            "}" if braces == 0 => break,
                            "}" => braces -= 1,
                            ";" if braces == 0 => break,
                            _ => {}
                        }
                        end += 1;
                    }
                    let tree: Vec<&str> =
                        toks[i + 1..end].iter().map(|t| t.text.as_str()).collect();
                    let mut leaves = Vec::new();
                    let mut pos = 0;
                    use_tree(&tree, &mut pos, Vec::new(), &mut leaves, 0);
                    for leaf in leaves {
                        if module_level && inline.is_empty() {
                            if leaf.glob {
                                file.globs.push(leaf.segs.clone());
                            } else if let Some(binding) = &leaf.binding {
                                file.bindings
                                    .entry(binding.clone())
                                    .or_default()
                                    .push(leaf.segs.clone());
                            }
                        }
                        file.uses.push(UseItem {
                            segs: leaf.segs,
                            glob: leaf.glob,
                            line,
                            inline: names.clone(),
                        });
                    }
                    // stop at the `;`, but let a stray `}` be seen by the loop
                    i = if text_at(end) == ";" { end + 1 } else { end };
                }
                "#" if text_at(i + 1) == "[" && text_at(i + 2) == "path" => {
                    file.path_attr.get_or_insert(line);
                    i += 1;
                }
                "include" if text_at(i + 1) == "!" && text_at(i.wrapping_sub(1)) != "::" => {
                    file.include_macro.get_or_insert(line);
                    i += 1;
                }
                "macro_rules" if text_at(i + 1) == "!" && is_ident(text_at(i + 2)) => {
                    if at_file_level {
                        file.defines.insert(text_at(i + 2).to_owned());
                    }
                    i += 3;
                }
                _ if ITEM_KEYWORDS.contains(&t) && is_ident(text_at(i + 1)) => {
                    if at_file_level {
                        file.defines.insert(text_at(i + 1).to_owned());
                    }
                    i += 1;
                }
                _ if is_ident(t) && text_at(i + 1) == "::" && {
                    let prev = if i == 0 { "" } else { text_at(i - 1) };
                    prev != "::" && prev != "."
                } =>
                {
                    let mut segs = vec![t.to_owned()];
                    let mut j = i + 1;
                    while text_at(j) == "::" && is_ident(text_at(j + 1)) {
                        segs.push(text_at(j + 1).to_owned());
                        j += 2;
                    }
                    let anchored = matches!(t, "crate" | "super" | "self");
                    if anchored || segs.len() >= 2 {
                        file.refs.push(CodeRef {
                            segs,
                            line,
                            inline: inline.iter().map(|(n, _)| n.clone()).collect(),
                        });
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
        file
    }
}

struct Leaf {
    segs: Vec<String>,
    binding: Option<String>,
    glob: bool,
}

/// Parses one use tree at `pos` under `prefix` into its leaves. Never
/// panics; stops at the first token it does not understand.
fn use_tree(t: &[&str], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<Leaf>, nesting: usize) {
    if nesting > 32 {
        *pos = t.len();
        return;
    }
    let mut path = prefix;
    if t.get(*pos) == Some(&"::") {
        path.push(String::new()); // a leading `::`: an external crate
        *pos += 1;
    }
    loop {
        match t.get(*pos).copied() {
            Some("{") => {
                *pos += 1;
                loop {
                    match t.get(*pos).copied() {
                        None => return,
                        Some("}") => {
                            *pos += 1;
                            return;
                        }
                        Some(",") => *pos += 1,
                        Some(_) => {
                            let before = *pos;
                            use_tree(t, pos, path.clone(), out, nesting + 1);
                            if *pos == before {
                                *pos += 1;
                            }
                        }
                    }
                }
            }
            Some("*") => {
                *pos += 1;
                out.push(Leaf {
                    segs: path,
                    binding: None,
                    glob: true,
                });
                return;
            }
            Some(id) if is_ident(id) => {
                *pos += 1;
                // `self` inside a group names the group's prefix itself
                let group_self = id == "self" && !path.is_empty();
                if !group_self {
                    path.push(id.to_owned());
                }
                if t.get(*pos) == Some(&"::") {
                    *pos += 1;
                    continue;
                }
                let mut binding = path.last().filter(|s| !s.is_empty()).cloned();
                if t.get(*pos) == Some(&"as") {
                    *pos += 1;
                    binding = t.get(*pos).filter(|a| **a != "_").map(|a| a.to_string());
                    *pos += 1;
                }
                out.push(Leaf {
                    segs: path,
                    binding,
                    glob: false,
                });
                return;
            }
            _ => return,
        }
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

struct Tok {
    text: String,
    line: usize,
}

/// Identifiers (raw identifiers lose their `r#`), numbers, `::`, and single
/// punctuation characters, each with its 1-based line.
fn tokenize(code: &str) -> Vec<Tok> {
    let chars: Vec<char> = code.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let mut text: String = chars[start..i].iter().collect();
            if text == "r"
                && chars.get(i) == Some(&'#')
                && chars
                    .get(i + 1)
                    .is_some_and(|c| c.is_alphabetic() || *c == '_')
            {
                i += 1;
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                text = chars[start..i].iter().collect();
            }
            toks.push(Tok { text, line });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            toks.push(Tok {
                text: "::".to_owned(),
                line,
            });
            i += 2;
        } else {
            toks.push(Tok {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    toks
}

/// Replaces comments (line, block, doc) with nothing and string, byte string,
/// raw string and char literals with empty ones, keeping every newline so
/// that line numbers stay right.
fn strip_comments_and_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let n = c.len();
    let at = |i: usize| c.get(i).copied();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < n {
        let ch = c[i];
        // line comment
        if ch == '/' && at(i + 1) == Some('/') {
            while i < n && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        // block comment, nested
        if ch == '/' && at(i + 1) == Some('*') {
            let mut depth = 1;
            i += 2;
            while i < n && depth > 0 {
                if c[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        let after_ident = out
            .chars()
            .next_back()
            .is_some_and(|p| p.is_alphanumeric() || p == '_');
        let mut start = i;
        if !after_ident && matches!(ch, 'b' | 'c' | 'r') {
            let mut j = i;
            if matches!(ch, 'b' | 'c') {
                j += 1;
            }
            if at(j) == Some('r') {
                let mut k = j + 1;
                let mut hashes = 0;
                while at(k) == Some('#') {
                    hashes += 1;
                    k += 1;
                }
                if at(k) == Some('"') {
                    // raw string: up to `"` followed by as many `#`
                    k += 1;
                    loop {
                        if k >= n {
                            break;
                        }
                        if c[k] == '"' && (0..hashes).all(|h| at(k + 1 + h) == Some('#')) {
                            k += 1 + hashes;
                            break;
                        }
                        if c[k] == '\n' {
                            out.push('\n');
                        }
                        k += 1;
                    }
                    out.push_str("\"\"");
                    i = k;
                    continue;
                }
            } else if j > i && (at(j) == Some('"') || (ch == 'b' && at(j) == Some('\''))) {
                start = j; // b"..", c"..", b'.': handled as the plain literal below
            }
        }
        match c[start] {
            '"' => {
                i = start + 1;
                while i < n {
                    match c[i] {
                        '\\' => {
                            if at(i + 1) == Some('\n') {
                                out.push('\n');
                            }
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\n' => {
                            out.push('\n');
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
                out.push_str("\"\"");
            }
            '\'' if at(start + 1) == Some('\\') => {
                // '\n', '\'', '\\', '\u{..}'
                let mut j = start + 3;
                while j < n && c[j] != '\'' && c[j] != '\n' && j < start + 14 {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            }
            '\'' if at(start + 2) == Some('\'') => {
                i = start + 3;
                out.push_str("' '");
            }
            _ => {
                // anything else, lifetimes included, is kept
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// Cuts everything from a `#[cfg(test)]` line followed by `mod tests {` to
/// the end of the file. A `#[cfg(test)]` line followed by `mod name;` is
/// blanked instead, and `name` returned: that file is test code too.
fn cut_tests(code: &str) -> (String, Vec<String>) {
    let mut lines: Vec<&str> = code.split('\n').collect();
    let mut test_mods = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        if lines[n].trim() != "#[cfg(test)]" {
            n += 1;
            continue;
        }
        let Some(next) = (n + 1..lines.len()).find(|&m| !lines[m].trim().is_empty()) else {
            break;
        };
        let decl = lines[next].trim();
        let decl = decl
            .strip_prefix("pub(crate) ")
            .or_else(|| decl.strip_prefix("pub(super) "))
            .or_else(|| decl.strip_prefix("pub "))
            .unwrap_or(decl);
        if let Some(rest) = decl.strip_prefix("mod ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let after = rest[name.len()..].trim_start();
            if name == "tests" && (after.is_empty() || after.starts_with('{')) {
                lines.truncate(n);
                break;
            }
            if !name.is_empty() && after.starts_with(';') {
                test_mods.push(name);
                lines[n] = "";
                lines[next] = "";
            }
        }
        n = next;
    }
    (lines.join("\n"), test_mods)
}

// ---------------------------------------------------------------------------
// Checks of the checker itself

#[test]
fn parser_ignores_comments_strings_and_tests() {
    let text = r####"//! See [`Foo`](crate::fake::Foo) and crate::doc::Thing.
/// crate::doc::Item
use crate::a::{b, c::{self, D}, e as _};
use super::{x, y::*};
#[cfg(test)]
mod helpers;
/* crate::block /* nested crate::deep */ crate::still */
fn f() {
    let s = "crate::in_string \" crate::escaped";
    let r = r##"crate::raw "# crate::still_raw"##;
    let q = '"'; let l: &'static str = "x"; crate::real::call();
    let b = b"crate::bytes"; let e = '\'';
    child::thing();
}
#[cfg(test)]
mod tests {
    use crate::test_only::X;
}
"####;
    let file = SrcFile::parse("t.rs".into(), vec!["m".into()], text);
    let uses: Vec<String> = file.uses.iter().map(|u| u.segs.join("::")).collect();
    assert_eq!(
        uses,
        [
            "crate::a::b",
            "crate::a::c",
            "crate::a::c::D",
            "crate::a::e",
            "super::x",
            "super::y"
        ]
    );
    let refs: Vec<String> = file.refs.iter().map(|r| r.segs.join("::")).collect();
    assert_eq!(refs, ["crate::real::call", "child::thing"]);
    assert!(file.bindings.contains_key("c") && file.bindings.contains_key("D"));
    assert!(!file.bindings.contains_key("e"));
    assert_eq!(file.globs, [vec!["super".to_string(), "y".to_string()]]);
    assert_eq!(file.test_mods, ["helpers"]);
    assert!(file.mod_decls.is_empty());
}

#[test]
fn resolution_follows_files_and_reexports() {
    let sources = vec![
        (
            "lib.rs",
            vec![],
            "mod a; mod b; mod c; pub use a::Thing; pub use ext::{self as config};",
        ),
        ("a/mod.rs", vec!["a"], "mod deep; pub use deep::Thing;"),
        ("a/deep.rs", vec!["a", "deep"], "pub struct Thing;"),
        (
            "b.rs",
            vec!["b"],
            "use crate::Thing; fn f() { crate::config::X; crate::nothing::Y; crate::c::g(); }",
        ),
        ("c.rs", vec!["c"], "use super::b; // crate::a"),
    ];
    let sources = sources
        .into_iter()
        .map(|(d, m, t)| {
            (
                d.to_owned(),
                m.into_iter().map(String::from).collect(),
                t.to_owned(),
            )
        })
        .collect();
    let krate = Crate::build("t", Kind::Library, "t".into(), sources, Vec::new());
    let edges: Vec<String> = krate
        .edges
        .keys()
        .map(|&(a, b)| format!("{} -> {}", krate.files[a].display, krate.files[b].display))
        .collect();
    assert_eq!(
        edges,
        [
            "lib.rs -> a/deep.rs",
            "a/mod.rs -> a/deep.rs",
            "b.rs -> a/deep.rs",
            "b.rs -> c.rs",
            "c.rs -> b.rs"
        ]
    );
    assert_eq!(krate.circles().len(), 1);
}
