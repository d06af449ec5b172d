//! Process plumbing: sessions, the parent-death signal, signals to a process group.

use tokio::process::Command;

/// Runs the command in a session of its own: no terminal's Ctrl-C reaches it, and its
/// pid is its process group, so a signal to the group reaches everything it started.
pub fn new_session(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Like [`new_session`], and the process is SIGKILLed when the kubelet dies (the signal
/// survives the exec of the controller), so no controller outlives its supervisor.
pub fn new_session_dying_with_parent(cmd: &mut Command) {
    // SAFETY: setsid and prctl are async-signal-safe and touch no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sends `signal` to the process group led by `pid` (nothing for pid 0).
pub fn signal_group(pid: u32, signal: i32) {
    if pid > 0 {
        // SAFETY: a plain system call on a pid we started.
        unsafe {
            libc::kill(-(pid as i32), signal);
        }
    }
}
