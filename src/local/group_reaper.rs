//! A process group that dies with the process that started it, even when that process is
//! SIGKILLed (no handler runs then, so no drop guard can kill the group): a small watcher,
//! `shardwatch local reap-group`, reads the group's id on a pipe from its starter and
//! SIGKILLs the group when the pipe closes without a "done" line. The kernel closes the
//! pipe whatever way the starter ends, so this behaves like PR_SET_PDEATHSIG for a whole
//! group (every `compile` a `go build` runs) and needs no `pre_exec`.

use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use std::os::unix::process::CommandExt;

use color_eyre::eyre::{Result, WrapErr};

use super::kubelet::signal_group;

/// The hidden `shardwatch local` subcommand the watcher runs.
pub const COMMAND: &str = "reap-group";

/// The line that tells the watcher the group ended normally.
const DONE: &str = "done";

/// A running watcher; start it before the group, then name the group with [`Reaper::watch`].
pub struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Reaper {
    /// Starts a watcher, in a process group of its own (a terminal's Ctrl-C does not reach
    /// it). None when this program is not shardwatch (a test binary) or cannot start it:
    /// the caller's drop guard still covers every ending but SIGKILL.
    pub fn start() -> Option<Reaper> {
        let exe = std::env::current_exe().ok()?;
        let name = exe.file_name()?.to_str()?;
        if !(name.starts_with("shardwatch") || name.starts_with("kubectl-shardwatch")) {
            return None;
        }
        let mut child = Command::new(exe)
            .args(["local", COMMAND])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        let stdin = child.stdin.take();
        Some(Reaper { child, stdin })
    }

    /// Names the process group to kill if this process dies before [`Reaper::release`].
    pub fn watch(&mut self, group: u32) {
        self.say(&group.to_string());
    }

    /// The group ended normally: the watcher exits without killing anything.
    pub fn release(mut self) {
        self.say(DONE);
        self.stdin = None;
        // It exits as soon as it reads the line; waiting leaves no zombie behind.
        let _ = self.child.wait();
    }

    fn say(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            let _ = writeln!(stdin, "{line}");
            let _ = stdin.flush();
        }
    }
}

/// A command run in a process group of its own that dies with this process: SIGKILLed as a
/// group when dropped before the run ended (Ctrl-C drops `up`'s future, an error), and by a
/// [`Reaper`] if this process is SIGKILLed meanwhile.
pub struct ReapedGroup {
    group: Option<u32>,
    reaper: Option<Reaper>,
}

impl ReapedGroup {
    /// Spawns `cmd`, which must run in a process group of its own (`process_group(0)`),
    /// watched by a reaper started first, so the group is covered from its first instant;
    /// `what` names the command in the error.
    pub fn spawn(
        cmd: &mut tokio::process::Command,
        what: &'static str,
    ) -> Result<(tokio::process::Child, Self)> {
        let mut reaper = Reaper::start();
        let child = cmd.spawn().wrap_err(what)?;
        let group = child.id();
        if let (Some(r), Some(g)) = (&mut reaper, group) {
            r.watch(g);
        }
        Ok((child, ReapedGroup { group, reaper }))
    }

    /// The run ended by itself: nothing to kill.
    pub fn ended(mut self) {
        self.group = None;
        if let Some(r) = self.reaper.take() {
            r.release();
        }
    }
}

impl Drop for ReapedGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.group {
            signal_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// What the watcher does with its input: the group named on the first line, killed unless
/// a "done" line comes before the end of the input. Returns the group it killed.
pub fn reap(input: impl BufRead, kill: &mut dyn FnMut(u32)) -> Option<u32> {
    let mut lines = input.lines();
    let group: u32 = lines.next()?.ok()?.trim().parse().ok().filter(|g| *g > 0)?;
    for line in lines {
        match line {
            Ok(l) if l.trim() == DONE => return None,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    kill(group);
    Some(group)
}

/// `shardwatch local reap-group`: [`reap`] on stdin, killing with SIGKILL.
pub fn run() {
    reap(std::io::stdin().lock(), &mut |group| signal_group(group, rustix::process::Signal::KILL));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaped(input: &str) -> (Option<u32>, Vec<u32>) {
        let mut killed = Vec::new();
        let got = reap(input.as_bytes(), &mut |g| killed.push(g));
        (got, killed)
    }

    #[test]
    fn the_group_is_killed_when_its_starter_goes_away_without_saying_done() {
        assert_eq!(reaped("4242\n"), (Some(4242), vec![4242]), "input closed: the starter died");
        assert_eq!(reaped("4242\nnoise\n"), (Some(4242), vec![4242]));
        assert_eq!(reaped("4242\ndone\n"), (None, vec![]), "ended normally");
        assert_eq!(reaped(""), (None, vec![]), "no group named yet");
        assert_eq!(reaped("0\n"), (None, vec![]), "never the caller's own group");
        assert_eq!(reaped("x\n"), (None, vec![]));
    }
}
