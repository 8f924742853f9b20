//! The language server, driven over stdio by a scripted client: the real binary, real framing.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROLLOUT: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
          readinessProbe: {httpGet: {path: /, port: 8080}}
  strategy:
    canary:
      canaryService: web-canry
      stableService: web-stable
      analysis:
        templates:
          - templateName: success-rate
      steps:
        - setWeight: 50
        - pause: {}
";

const SERVICES: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web-canary
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web-stable
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: service
      value: web
  metrics:
    - name: up
      interval: 1m
      count: 3
      failureLimit: 1
      successCondition: result[0] == 1
      provider:
        prometheus: {address: 'http://prometheus:9090', query: 'sum(up{job=\"{{args.service}}\"})'}
";

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications seen while waiting for something else.
    backlog: Vec<Value>,
}

impl Client {
    fn start(root: &Path) -> Client {
        Client::start_with(root, json!({}))
    }

    fn start_with(root: &Path, capabilities: Value) -> Client {
        Client::start_env(root, capabilities, std::env::var_os("PATH").unwrap_or_default())
    }

    /// With this PATH (real helm and kustomize, for units).
    fn start_env(root: &Path, capabilities: Value, path: std::ffi::OsString) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollcheck"))
            .arg("lsp")
            .env("PATH", path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut client = Client { child, stdin, messages, next_id: 0, backlog: Vec::new() };
        let root_uri = uri(root);
        let init = client.request("initialize", json!({"processId": null, "rootUri": root_uri, "capabilities": capabilities, "workspaceFolders": [{"uri": root_uri, "name": "ws"}]}));
        assert_eq!(init["result"]["capabilities"]["textDocumentSync"]["change"], 2, "incremental sync");
        client.notify("initialized", json!({}));
        client
    }

    fn raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.raw(&json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string());
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.raw(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string());
        self.wait(|m| m["id"] == id)
    }

    fn wait(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&want) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("a message in time");
            if want(&m) {
                return m;
            }
            self.backlog.push(m);
        }
    }

    /// The next diagnostics published for a file.
    fn diagnostics(&mut self, path: &Path) -> Vec<Value> {
        let u = uri(path);
        let m = self.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u);
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or(0)
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

#[test]
fn editing_session_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("services.yaml"), SERVICES).unwrap();
    std::fs::write(root.join("chart-template.yaml"), "metadata:\n  name: {{ .Values.name }}\n").unwrap();
    std::fs::write(root.join("notes.yaml"), "just: [text\n").unwrap();
    let rollout = root.join("rollout.yaml");
    let mut c = Client::start(&root);

    // The workspace scan publishes for every file; templates and non-manifests stay quiet.
    assert_eq!(c.diagnostics(&root.join("chart-template.yaml")), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&root.join("notes.yaml")), Vec::<Value>::new());

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&rollout), "languageId": "yaml", "version": 1, "text": ROLLOUT}}),
    );
    let found = c.diagnostics(&rollout);
    assert_eq!(codes(&found), vec!["unresolved-reference"], "{found:?}");
    let d = &found[0];
    assert_eq!(d["range"], json!({"start": {"line": 18, "character": 21}, "end": {"line": 18, "character": 30}}));
    assert_eq!(d["severity"], 1);
    assert!(d["codeDescription"]["href"].as_str().unwrap().ends_with("rules/unresolved-reference.md"));
    assert!(d["message"].as_str().unwrap().contains("did you mean `web-canary`?"));
    assert_eq!(d["relatedInformation"][0]["location"]["uri"], uri(&root.join("services.yaml")), "{d}");

    // Hover and go-to-definition on a resolved reference (in another file).
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri(&rollout)}, "position": {"line": line, "character": character}});
    let hover = c.request("textDocument/hover", at(19, 25));
    let text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("**Service `web-stable`**") && text.contains("selector: `app=web`") && text.contains("80→8080"),
        "{text}"
    );
    let def = c.request("textDocument/definition", at(22, 30));
    assert_eq!(def["result"]["uri"], uri(&root.join("services.yaml")));
    assert_eq!(def["result"]["range"]["start"], json!({"line": 19, "character": 8}));
    // Hover on the finding shows its rule.
    let hover = c.request("textDocument/hover", at(18, 25));
    assert!(hover["result"]["contents"]["value"].as_str().unwrap().contains("web-canry"));

    // Code actions: the "did you mean" rename and a suppression comment.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&rollout)}, "range": {"start": {"line": 18, "character": 22}, "end": {"line": 18, "character": 22}}, "context": {"diagnostics": []}}),
    );
    let actions = actions["result"].as_array().unwrap();
    assert_eq!(actions[0]["title"], "Replace with `web-canary`");
    let edit = &actions[0]["edit"]["changes"][uri(&rollout)][0];
    assert_eq!(edit["newText"], "web-canary");
    assert_eq!(actions[1]["title"], "Suppress `unresolved-reference` on this line");
    assert_eq!(
        actions[1]["edit"]["changes"][uri(&rollout)][0]["newText"],
        "      # rollcheck-ignore: unresolved-reference -- reason\n"
    );

    // An incremental edit that fixes the name clears the finding.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&rollout), "version": 2}, "contentChanges": [{"range": {"start": {"line": 18, "character": 28}, "end": {"line": 18, "character": 28}}, "text": "a"}]}),
    );
    assert_eq!(c.diagnostics(&rollout), Vec::<Value>::new());

    // Editing the Service file re-checks the Rollout that uses it: rename the stable Service.
    let services = root.join("services.yaml");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&services), "languageId": "yaml", "version": 1, "text": SERVICES}}),
    );
    let su = uri(&services);
    c.wait(|m| m["params"]["uri"] == su && m["params"]["version"] == 1);
    c.backlog.clear();
    let renamed = SERVICES.replace("name: web-stable", "name: web-primary");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&services), "version": 2}, "contentChanges": [{"text": renamed}]}),
    );
    let ru = uri(&rollout);
    let republished = c.wait(|m| m["params"]["uri"] == ru);
    let found = republished["params"]["diagnostics"].as_array().unwrap();
    assert_eq!(codes(found), vec!["unresolved-reference"], "the Rollout now misses `web-stable`: {found:?}");
    assert!(found[0]["message"].as_str().unwrap().contains("web-stable"));
    let services_now = c.wait(|m| m["params"]["uri"] == su && m["params"]["version"] == 2);
    assert_eq!(services_now["params"]["diagnostics"], json!([]));

    // Errors and malformed input never take the server down.
    c.raw("{not json");
    let err = c.wait(|m| m["error"]["code"] == -32700);
    assert!(err["id"].is_null());
    let unknown = c.request("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let bad = c.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(bad["error"]["code"], -32602);
    let outside = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "untitled:x"}, "position": {"line": 99, "character": 99}}),
    );
    assert!(outside["result"].is_null());

    let shutdown = c.request("shutdown", json!(null));
    assert!(shutdown["result"].is_null() && shutdown.get("error").is_none());
    c.notify("exit", json!(null));
    let status = c.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn memory_stays_flat_over_ten_thousand_edits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("services.yaml"), SERVICES).unwrap();
    let rollout = root.join("rollout.yaml");
    let mut c = Client::start(&root);
    c.diagnostics(&root.join("services.yaml"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&rollout), "languageId": "yaml", "version": 1, "text": ROLLOUT}}),
    );
    c.diagnostics(&rollout);
    let edit = |c: &mut Client, version: i32| {
        // Type and delete one character at the end of the image name.
        let (text, end) = if version % 2 == 0 { ("x", 22) } else { ("", 23) };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&rollout), "version": version}, "contentChanges": [{"range": {"start": {"line": 14, "character": 22}, "end": {"line": 14, "character": end}}, "text": text}]}),
        );
    };
    let mut version = 1;
    let mut run = |c: &mut Client, n: i32| {
        for _ in 0..n {
            version += 1;
            edit(c, version);
        }
        // Wait for the last edit's diagnostics, draining the others.
        let last = version;
        c.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == last);
        c.backlog.clear();
    };
    run(&mut c, 1_000);
    let after_warmup = c.rss_kb();
    run(&mut c, 9_000);
    let after_all = c.rss_kb();
    assert!(after_warmup > 0);
    assert!(after_all < after_warmup + 8 * 1024, "RSS grew from {after_warmup} kB to {after_all} kB over 9,000 edits");
    c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}

#[test]
fn a_broken_config_is_shown_on_the_config_file_and_the_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let config = root.join(".rollcheck.yaml");
    std::fs::write(&config, "rules:\n  no-such-rule: off\n").unwrap();
    std::fs::write(root.join("services.yaml"), SERVICES).unwrap();
    let mut c = Client::start(&root);
    let found = c.diagnostics(&config);
    assert_eq!(codes(&found), vec!["config"], "{found:?}");
    assert_eq!(found[0]["range"]["start"], json!({"line": 1, "character": 2}));
    assert_eq!(found[0]["severity"], 1);
    assert!(found[0]["message"].as_str().unwrap().contains("unknown rule `no-such-rule`"), "{found:?}");
    // Linting goes on with the default settings.
    c.diagnostics(&root.join("services.yaml"));
    // Fixed on disk: the client reports the change, the errors go.
    std::fs::write(&config, "rules:\n  missing-anti-affinity: off\n").unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&config), "type": 2}]}));
    assert_eq!(c.diagnostics(&config), Vec::<Value>::new());
    c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}

/// A client that lets the server register file watchers, as Neovim and VS Code do.
fn watching_client(root: &Path) -> Client {
    let capabilities = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start_with(root, capabilities);
    let register = c.wait(|m| m["method"] == "client/registerCapability");
    let registration = &register["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = registration["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    for want in ["**/*.{yaml,yml,json}", "**/.rollcheck.{yaml,yml}", "**/*.tpl", "**/Kustomization"] {
        assert!(globs.contains(&want), "{globs:?}");
    }
    let id = register["id"].clone();
    c.raw(&json!({"jsonrpc": "2.0", "id": id, "result": null}).to_string());
    c
}

#[test]
fn files_changed_on_disk_are_watched_and_rechecked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let services = root.join("services.yaml");
    let rollout = root.join("rollout.yaml");
    std::fs::write(&services, SERVICES).unwrap();
    std::fs::write(&rollout, ROLLOUT.replace("web-canry", "web-canary")).unwrap();
    let mut c = watching_client(&root);
    assert_eq!(c.diagnostics(&rollout), Vec::<Value>::new());

    // A `git pull` renames the stable Service: the Rollout, open nowhere, is re-checked.
    c.backlog.clear();
    std::fs::write(&services, SERVICES.replace("name: web-stable", "name: web-primary")).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&services), "type": 2}]}));
    let found = c.diagnostics(&rollout);
    assert_eq!(codes(&found), vec!["unresolved-reference"], "{found:?}");
    assert!(found[0]["message"].as_str().unwrap().contains("web-stable"));

    // The Service file is deleted: the Rollout now misses both Services and the template.
    std::fs::remove_file(&services).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&services), "type": 3}]}));
    assert_eq!(c.diagnostics(&services), Vec::<Value>::new());
    let found = c.diagnostics(&rollout);
    assert_eq!(codes(&found), vec!["unresolved-reference"; 3], "{found:?}");

    // A branch switch brings it back, as a new file.
    std::fs::write(&services, SERVICES).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&services), "type": 1}]}));
    let mut found = c.diagnostics(&rollout);
    while !found.is_empty() {
        found = c.diagnostics(&rollout);
    }

    c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}

/// Opening a file while the workspace is still being read must not show references to files
/// not read yet as unresolved.
#[test]
fn cross_file_findings_wait_for_the_workspace_index() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    // Enough files that the background scan is still running when the file is opened.
    for i in 0..3000 {
        std::fs::write(
            root.join(format!("cm-{i:04}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n"),
        )
        .unwrap();
    }
    std::fs::write(root.join("services.yaml"), SERVICES).unwrap();
    let rollout = root.join("rollout.yaml");
    let text = ROLLOUT.replace("web-canry", "web-canary");
    let mut c = Client::start(&root);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&rollout), "languageId": "yaml", "version": 1, "text": text}}),
    );
    // Every publication for the Rollout until the workspace is indexed: the server then
    // publishes every file, in path order, the Rollout before the Services.
    let services = uri(&root.join("services.yaml"));
    let ru = uri(&rollout);
    let mut published = Vec::new();
    let mut indexed = false;
    while !indexed {
        let m = c.wait(|m| m["method"] == "textDocument/publishDiagnostics");
        indexed = m["params"]["uri"] == services;
        if m["params"]["uri"] == ru {
            published.push(m["params"]["diagnostics"].clone());
        }
    }
    assert!(indexed && !published.is_empty());
    for diagnostics in &published {
        assert_eq!(diagnostics, &json!([]), "published before the index was built: {published:?}");
    }
    c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}

mod common;

/// Saving a patch re-renders its kustomization: the patch itself gets no findings as an object,
/// and what the build breaks is published on the files it comes from.
#[test]
fn saving_a_patch_rerenders_its_kustomization() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let spec = "# file: kustomization.yaml\nresources: [rollout.yaml]\npatches:\n  - path: patch.yaml\n\
# file: rollout.yaml\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n  strategy:\n    canary:\n      steps:\n        - setWeight: 20\n        - pause: {}\n\
# file: patch.yaml\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
    common::write_files(&root, spec);
    let mut c = Client::start_env(&root, json!({}), common::path_with_tools());
    let patch = root.join("patch.yaml");
    let text = std::fs::read_to_string(&patch).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&patch), "languageId": "yaml", "version": 1, "text": text}}),
    );
    // The patch alone is not a Rollout with no selector or strategy.
    let own = c.diagnostics(&patch);
    assert!(own.is_empty(), "{own:?}");
    // Let the workspace scan finish (it publishes nothing here: every file feeds the build).
    std::thread::sleep(Duration::from_millis(1500));
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": uri(&patch)}}));
    // The build's finding: 3 replicas (from the patch) make the 20% step 1 canary of 4 pods.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = c.wait(|m| m["method"] == "textDocument/publishDiagnostics");
        let found = m["params"]["diagnostics"].as_array().unwrap().clone();
        if let Some(d) = found.iter().find(|d| d["code"] == "canary-weight-unachievable") {
            assert!(d["message"].as_str().unwrap().contains("3 replica(s)"), "{found:?}");
            // Shown as an edit's findings are: with the rule's page.
            assert!(d["codeDescription"]["href"].as_str().unwrap().ends_with("rules/canary-weight-unachievable.md"));
            break;
        }
        assert!(Instant::now() < deadline, "no render published");
    }
    c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}
