//! Running helm and kustomize: a time limit, a bounded output, no network unless allowed, and
//! nothing but the command and arguments rollcheck chose.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Limits every render runs under.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes of standard output kept; a render that prints more fails.
    pub max_output: usize,
    pub network: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(120), max_output: 256 << 20, network: false }
    }
}

/// Proxy variables that point at a closed port: helm, kustomize and the git they run for remote
/// bases all honour them, so a render that needs the network fails fast instead of fetching.
const NO_NETWORK: &str = "http://127.0.0.1:9";

/// Runs `program args` in `dir`; standard output on success, else a message with stderr.
pub fn run(program: &Path, args: &[String], dir: Option<&Path>, limits: &Limits) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    if !limits.network {
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            command.env(var, NO_NETWORK);
        }
        command.env_remove("NO_PROXY").env_remove("no_proxy");
        command.env("GIT_TERMINAL_PROMPT", "0").env("GIT_ALLOW_PROTOCOL", "file");
    }
    // Its own process group: a timeout or an overflow ends the renderer and whatever it started.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("cannot run `{}`: {e}", program.display()))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let max = limits.max_output;
    let overflow = Arc::new(AtomicBool::new(false));
    let out_thread = std::thread::spawn({
        let overflow = overflow.clone();
        move || {
            let mut buf = Vec::new();
            let read = (&mut stdout).take(max as u64 + 1).read_to_end(&mut buf);
            if buf.len() > max {
                overflow.store(true, Ordering::Relaxed);
            }
            read.map(|_| buf)
        }
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if overflow.load(Ordering::Relaxed) => {
                kill(&mut child);
                break Err(format!("printed more than {max} bytes"));
            }
            Ok(None) if started.elapsed() >= limits.timeout => {
                kill(&mut child);
                break Err(format!("timed out after {} s", limits.timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let out = out_thread.join().unwrap_or_else(|_| Ok(Vec::new()));
    let err = err_thread.join().unwrap_or_default();
    if overflow.load(Ordering::Relaxed) {
        return Err(format!("printed more than {max} bytes"));
    }
    let status = status?;
    let err = String::from_utf8_lossy(&err).trim().to_string();
    if !status.success() {
        return Err(if err.is_empty() { format!("exited with {status}") } else { err });
    }
    let out = out.map_err(|e| e.to_string())?;
    if out.len() > max {
        return Err(format!("printed more than {max} bytes"));
    }
    String::from_utf8(out).map_err(|_| "printed output that is not UTF-8".to_string())
}

/// Kills the renderer's process group (it may have started git, helm or plugins).
fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = child.id() as i32;
        // SAFETY: kill(2) has no memory effects; a negative pid names the process group.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The first executable named `name` on PATH.
pub fn on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_time_and_failures_are_bounded() {
        let sh = Path::new("/bin/sh");
        let limits = Limits { timeout: Duration::from_secs(5), max_output: 10, network: false };
        assert_eq!(run(sh, &["-c".into(), "printf hi".into()], None, &limits).unwrap(), "hi");
        assert!(run(sh, &["-c".into(), "yes".into()], None, &limits).unwrap_err().contains("more than 10"));
        let quick = Limits { timeout: Duration::from_millis(200), ..limits.clone() };
        assert!(run(sh, &["-c".into(), "sleep 5".into()], None, &quick).unwrap_err().contains("timed out"));
        assert_eq!(run(sh, &["-c".into(), "echo bad >&2; exit 3".into()], None, &limits).unwrap_err(), "bad");
        let wide = Limits { max_output: 100, ..limits.clone() };
        assert_eq!(run(sh, &["-c".into(), "printf $HTTPS_PROXY".into()], None, &wide).unwrap(), NO_NETWORK);
        // A renderer's own children end with it.
        let started = Instant::now();
        assert!(run(sh, &["-c".into(), "sleep 30 & sleep 30".into()], None, &quick).is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
