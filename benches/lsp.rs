//! Language-server latency: time from a `didChange` on a 1,000-line manifest to the
//! `publishDiagnostics` that answers it, through the real binary over stdio.
//! `cargo bench --bench lsp` prints the median and the 95th percentile over 200 edits;
//! `ROLLCHECK_BIN=path` measures another build (an older one, side by side).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    // About 1,000 lines: 20 Rollouts with their Services and templates, one file.
    let app =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/healthy-canary/app.yaml")).unwrap();
    let mut text = String::new();
    let mut i = 0;
    while text.lines().count() < 1000 {
        text.push_str("---\n");
        text.push_str(&app.replace("name: ", &format!("name: a{i}-")).replace("app: ", &format!("app: a{i}-")));
        i += 1;
    }
    let lines = text.lines().count();
    let path = root.join("apps.yaml");
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());

    let binary = std::env::var_os("ROLLCHECK_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_rollcheck").into());
    let mut child = Command::new(binary)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| {
        let body = v.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let mut receive = || -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        out.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    let root_uri = format!("file://{}", root.display());
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"rootUri": root_uri, "capabilities": {}}}),
    );
    while receive()["id"] != 1 {}
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}}),
    );
    let wait_for = |receive: &mut dyn FnMut() -> Value, version: i32| loop {
        let m = receive();
        if m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["version"] == version
        {
            return;
        }
    };
    wait_for(&mut receive, 1);
    let mut times: Vec<Duration> = Vec::new();
    for version in 2..202 {
        let started = Instant::now();
        let (insert, end) = if version % 2 == 0 { ("x", 0) } else { ("", 1) };
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": 3, "character": 8}, "end": {"line": 3, "character": 8 + end}}, "text": insert}]
        }}));
        wait_for(&mut receive, version);
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "lsp didChange -> publishDiagnostics, {lines}-line file, {} edits: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1])
    );
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let _ = child.wait();
}
