//! `rules/PARITY.md` lists every numbered controller check with the rule and fixture that
//! prove it; this test holds the table, the fixtures and the rules to each other.

use std::collections::{BTreeMap, HashSet};

use assert_cmd::Command;
use serde_json::Value;

/// (check, rule, fixture file, line) from the fixtures' `# expect[N]: rule` markers.
fn markers() -> Vec<(u32, String, String, u64)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir("tests/parity").unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("# expect[") {
                rest = &rest[at + 9..];
                let (n, after) = rest.split_once("]: ").expect("`# expect[N]: rule`");
                let rule: String = after.chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
                out.push((n.parse().unwrap(), rule, name.clone(), i as u64 + 1));
            }
        }
    }
    out
}

fn findings(file: &str) -> HashSet<(u64, String)> {
    let out = Command::cargo_bin("rollcheck")
        .unwrap()
        .args([&format!("tests/parity/{file}"), "--format", "json", "--no-config"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["rule"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn every_controller_check_has_a_rule_and_a_fixture_that_triggers_it() {
    let marks = markers();
    let mut by_file: BTreeMap<String, HashSet<(u64, String)>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, rule, file, line) in &marks {
        let found = by_file.entry(file.clone()).or_insert_with(|| findings(file));
        if !found.contains(&(*line, rule.clone())) {
            failures.push(format!("check {n}: {file}:{line} gets no `{rule}` finding"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let table = std::fs::read_to_string("rules/PARITY.md").unwrap();
    let rows: BTreeMap<u32, Vec<&str>> = table
        .lines()
        .filter(|l| l.starts_with("| ") && l.split('|').nth(1).is_some_and(|c| c.trim().parse::<u32>().is_ok()))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].parse().unwrap(), cells)
        })
        .collect();
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), (1..=139).collect::<Vec<_>>(), "one row per numbered check");
    for (n, cells) in &rows {
        let proven: Vec<_> = marks.iter().filter(|(m, ..)| m == n).collect();
        match proven.first() {
            Some((_, rule, file, line)) => {
                assert!(
                    cells[3].contains(&format!("[`{rule}`]")),
                    "check {n}: the table names another rule than the fixture ({rule})"
                );
                assert!(
                    cells[4].contains(&format!("tests/parity/{file}")) && cells[4].contains(&format!("line {line}")),
                    "check {n}: the table points elsewhere than {file}:{line}"
                );
            }
            None => assert!(cells[5].starts_with("Not "), "check {n} has no fixture and no reason it cannot have one"),
        }
    }
    let rule_ids: HashSet<&str> = rollcheck::rules::ALL.iter().map(|r| r.id).collect();
    for (_, rule, ..) in &marks {
        assert!(rule_ids.contains(rule.as_str()), "{rule} is not a rule");
    }
}
