//! Helpers shared by the CLI's process tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;

/// A child process with piped stdio: its stdin, its stdout lines as they come (read on a
/// thread, so a test waits on them with a deadline), its whole stderr when it ends.
pub struct Piped {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub lines: Receiver<String>,
    pub stderr: JoinHandle<String>,
}

/// Spawns `cmd` with piped stdin, stdout and stderr.
pub fn spawn_piped(cmd: &mut Command) -> Piped {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Piped {
        stdin: child.stdin.take(),
        child,
        lines,
        stderr,
    }
}
