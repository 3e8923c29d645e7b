//! The CI examples in examples/ci/ are valid YAML whose matrices and
//! commands fit this repository: images footloose knows, shards that add
//! up, and cargo packages and footloose commands that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn load(name: &str) -> Value {
    let path = repo().join("examples/ci").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the workspace's packages.
fn packages() -> BTreeSet<String> {
    let root = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let members = root
        .lines()
        .find(|l| l.starts_with("members"))
        .expect("a members line");
    members
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|member| {
            let manifest = std::fs::read_to_string(repo().join(member).join("Cargo.toml")).unwrap();
            manifest
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("not a scalar: {other:?}"),
        })
        .collect()
}

/// Checks one command line of a CI file against the repository.
fn check_command(line: &str, shards: usize) {
    let words: Vec<&str> = line.split_whitespace().collect();
    for pair in words.windows(2) {
        if pair[0] == "-p" {
            assert!(
                packages().contains(pair[1]),
                "no package {} in: {line}",
                pair[1]
            );
        }
    }
    if line.contains("cargo run") && line.contains("-p footloose ") {
        assert!(
            line.contains("--features cli"),
            "the footloose binary needs the cli feature: {line}"
        );
        let subcommand = line.split(" -- ").nth(1).unwrap();
        assert!(
            subcommand.starts_with("image build "),
            "not a footloose command this repo has: {subcommand}"
        );
    }
    if let Some(partition) = line.split("count:").nth(1) {
        assert!(line.contains("cargo nextest run --workspace"), "{line}");
        let total: usize = partition
            .trim_end_matches('"')
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            total, shards,
            "the partition count and the shard list differ: {line}"
        );
    }
}

fn check_images(images: &[String]) {
    assert!(!images.is_empty());
    for image in images {
        assert!(
            footloose::config::images::SHORT_NAMES.contains(&image.as_str()),
            "unknown image {image}"
        );
    }
}

#[test]
fn the_github_workflow_runs_a_matrix_of_images_and_shards() {
    let workflow = load("github-actions.yml");
    let job = &workflow["jobs"]["test"];
    let matrix = &job["strategy"]["matrix"];
    check_images(&strings(&matrix["image"]));
    let shards = strings(&matrix["shard"]);
    let expected: Vec<String> = (1..=shards.len()).map(|n| n.to_string()).collect();
    assert_eq!(shards, expected);
    assert_eq!(job["env"]["FOOTLOOSE_IMAGES"], "${{ matrix.image }}");
    let runs: Vec<&str> = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|step| step["run"].as_str())
        .collect();
    assert!(runs.iter().any(|r| r.contains("--partition")), "{runs:?}");
    for run in runs {
        check_command(run, shards.len());
    }
}

#[test]
fn the_gitlab_pipeline_runs_a_matrix_of_images_and_shards() {
    let pipeline = load("gitlab-ci.yml");
    let job = &pipeline["infrastructure-tests"];
    // GitLab's docker executor: the job runs in a container of this image.
    assert!(job["image"].as_str().is_some(), "{job:?}");
    assert!(job["tags"].is_null(), "no shell-runner tag: {job:?}");
    let matrix = &job["parallel"]["matrix"][0];
    check_images(&strings(&matrix["FOOTLOOSE_IMAGES"]));
    let shards = strings(&matrix["SHARD"]);
    let script = strings(&job["script"]);
    assert!(
        script.iter().any(|r| r.contains("--partition")),
        "{script:?}"
    );
    for line in strings(&job["before_script"]).iter().chain(&script) {
        check_command(line, shards.len());
    }
}
