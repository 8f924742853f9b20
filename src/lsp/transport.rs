//! JSON-RPC over stdio that survives bad input: a malformed message gets a parse-error response
//! and the server reads on, instead of the reader thread giving up (lsp-server's `stdio()`).

use std::io::{self, BufRead, Read, Write};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use lsp_server::Message;

/// Larger messages are refused (and skipped) rather than buffered.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

pub struct Transport {
    pub sender: Sender<Message>,
    pub receiver: Receiver<Message>,
    forwarder: thread::JoinHandle<()>,
    to_writer: Sender<Out>,
}

/// What the writer thread writes: a message, or a raw JSON-RPC text (a parse-error response,
/// whose `null` id `lsp_server` cannot express).
enum Out {
    Message(Message),
    Raw(String),
    /// Answered once everything before it is written.
    Flush(Sender<()>),
}

fn write_raw(out: &mut impl Write, text: &str) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    out.flush()
}

impl Transport {
    pub fn stdio() -> Transport {
        let (to_writer, outgoing) = unbounded::<Out>();
        thread::spawn(move || {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            for item in outgoing {
                let written = match item {
                    Out::Message(m) => m.write(&mut out).and_then(|_| out.flush()),
                    Out::Raw(text) => write_raw(&mut out, &text),
                    Out::Flush(done) => {
                        let _ = done.send(());
                        Ok(())
                    }
                };
                if written.is_err() {
                    break;
                }
            }
        });
        // The server sends messages; a forwarding thread keeps its channel typed.
        let (to_client, messages) = unbounded::<Message>();
        let forward = to_writer.clone();
        let forwarder = thread::spawn(move || {
            for m in messages {
                if forward.send(Out::Message(m)).is_err() {
                    break;
                }
            }
        });
        let (incoming, receiver) = bounded::<Message>(16);
        let errors = to_writer.clone();
        thread::spawn(move || {
            let stdin = io::stdin();
            let mut input = stdin.lock();
            loop {
                match read_message(&mut input) {
                    Ok(Some(Ok(message))) => {
                        let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                        if incoming.send(message).is_err() || exit {
                            break;
                        }
                    }
                    Ok(Some(Err(problem))) => {
                        // JSON-RPC: a message that cannot be parsed is answered with a null id.
                        let response = serde_json::json!({
                            "jsonrpc": "2.0", "id": null,
                            "error": {"code": -32700, "message": problem}
                        });
                        let _ = errors.send(Out::Raw(response.to_string()));
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        });
        Transport { sender: to_client, receiver, forwarder, to_writer }
    }

    /// Waits (a few seconds at most) until every message sent so far is written.
    pub fn finish(self) {
        drop(self.sender);
        let _ = self.forwarder.join();
        let (done, written) = bounded(1);
        if self.to_writer.send(Out::Flush(done)).is_ok() {
            let _ = written.recv_timeout(std::time::Duration::from_secs(5));
        }
    }
}

/// One framed message: `None` at end of input, `Some(Err)` for a message that could be skipped.
fn read_message(input: &mut impl BufRead) -> io::Result<Option<Result<Message, String>>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.unwrap_or(0);
    if length > MAX_MESSAGE {
        io::copy(&mut input.take(length as u64), &mut io::sink())?;
        return Ok(Some(Err(format!("message of {length} bytes is over the {MAX_MESSAGE}-byte limit"))));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(serde_json::from_slice::<Message>(&body).map_err(|e| format!("malformed message: {e}"))))
}
