//! The crate's layout: every import of a top-level module points down the pipeline, and no
//! top-level modules import each other in a cycle. Read from the `use crate::` paths of `src/`
//! (test modules may use the whole pipeline and are not counted).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages, from the bottom up. A module may import modules of its own stage or below; its
/// own stage only without a cycle.
const STAGES: &[(&str, &[&str])] = &[
    ("vocabulary", &["source", "intern", "paths", "diagnostic", "settings", "lang"]),
    ("yaml", &["yaml"]),
    ("before loading", &["unit", "refs", "selector", "schema"]),
    ("load", &["load"]),
    ("index", &["index"]),
    ("rules", &["retain", "rules"]),
    ("settings and baseline", &["config", "baseline"]),
    ("lint", &["lint"]),
    ("outputs", &["report", "lsp"]),
    ("command line", &["cli"]),
];

fn stage(module: &str) -> Option<usize> {
    STAGES.iter().position(|(_, modules)| modules.contains(&module))
}

/// Source without comments and without `#[cfg(test)]` items.
fn production_code(text: &str) -> String {
    let mut kept = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(open) = rest.find('{') else { break };
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    kept.push_str(rest);
    kept.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The top-level modules named after each `crate::` in `code`, `crate::{a::b, c}` included.
fn imported(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let after = &code[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && c != ',' {
                    item.push(c);
                }
            }
            items.push(item);
            out.extend(items.iter().map(|i| first_segment(i.trim())).filter(|s| !s.is_empty() && s != "self"));
        } else {
            let name = first_segment(after);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn first_segment(path: &str) -> String {
    path.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the modules it imports, with the files that import each.
fn imports() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = match relative.components().count() {
            1 => relative.file_stem().unwrap().to_string_lossy().into_owned(),
            _ => relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned(),
        };
        if module == "lib" || module == "main" {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        let entry = graph.entry(module.clone()).or_default();
        for target in imported(&code).into_iter().filter(|t| *t != module) {
            entry.entry(target).or_default().insert(relative.display().to_string());
        }
    }
    graph
}

#[test]
fn every_module_has_a_stage() {
    let graph = imports();
    let missing: Vec<&String> =
        graph.keys().chain(graph.values().flat_map(|t| t.keys())).filter(|m| stage(m).is_none()).collect();
    assert!(missing.is_empty(), "add these top-level modules to STAGES in tests/architecture.rs: {missing:?}");
}

#[test]
fn imports_point_down_the_pipeline() {
    let graph = imports();
    let mut upward = Vec::new();
    for (module, targets) in &graph {
        for (target, files) in targets {
            if let (Some(from), Some(to)) = (stage(module), stage(target))
                && to > from
            {
                upward.push(format!("{module} ({}) imports {target} ({}) in {files:?}", STAGES[from].0, STAGES[to].0));
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up the pipeline:\n{}", upward.join("\n"));
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = imports();
    // A cycle through an edge a → b exists when b reaches a.
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(graph.get(&m).into_iter().flat_map(|t| t.keys().cloned()));
            }
        }
        false
    };
    let mut cycles = Vec::new();
    for (module, targets) in &graph {
        for (target, files) in targets {
            if reaches(target, module) {
                cycles.push(format!("{module} → {target} ({files:?}) closes a cycle"));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles between top-level modules:\n{}", cycles.join("\n"));
}

#[test]
fn the_scan_sees_imports() {
    let code = production_code(
        "use crate::{a::b, c::{d, e}, self};\nfn f() { crate::g::h(); } // crate::comment\n#[cfg(test)]\nmod tests { use crate::t; }\n",
    );
    let found: Vec<String> = imported(&code).into_iter().collect();
    assert_eq!(found, ["a", "c", "g"]);
}
