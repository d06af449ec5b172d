//! Process plumbing: process groups, the parent-death signal, signals to a process group,
//! pid files.
//! All through safe APIs: std's `process_group`, util-linux's `setpriv` (the package that
//! gives the kubelet `unshare`), rustix's signal calls.

use rustix::process::{Pid, Signal};
use tokio::process::Command;

/// Runs the command in a process group of its own: a terminal's Ctrl-C reaches only its
/// foreground group, so not this one, and its pid is its group, so a signal to the group
/// reaches everything it started.
pub fn own_process_group(cmd: &mut Command) {
    cmd.process_group(0);
}

/// A command running `program` in a process group of its own (as [`own_process_group`])
/// that is SIGKILLed when the thread that started it dies (the parent-death signal, set by
/// `setpriv`, survives the exec of `program`), so no controller outlives its kubelet.
pub fn dying_with_parent(program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--pdeathsig", "KILL", program]);
    own_process_group(&mut cmd);
    cmd
}

/// Writes `pid` to `file` through a rename, so a reader never sees it empty or half
/// written (the child and its starter both write it: see `ensure_running`).
pub fn write_pid_file(file: &std::path::Path, pid: u32) -> std::io::Result<()> {
    let mut partial = file.as_os_str().to_owned();
    partial.push(format!(".{}.partial", std::process::id()));
    std::fs::write(&partial, pid.to_string())?;
    std::fs::rename(&partial, file)
}

/// Sends `signal` to the process group led by `pid` (nothing for pid 0).
pub fn signal_group(pid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        // Gone already is fine: the caller only wants it gone.
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// Sends `signal` to process `pid`; the system's error if it cannot (no such process, or
/// not ours).
pub fn signal_process(pid: u32, signal: Signal) -> std::io::Result<()> {
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or(std::io::ErrorKind::InvalidInput)?;
    rustix::process::kill_process(pid, signal).map_err(std::io::Error::from)
}
