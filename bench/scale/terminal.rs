//! A program in a pseudo-terminal whose screen is read through a vt100 parser, the way a
//! person would see it.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use color_eyre::eyre::{Result, WrapErr};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

/// A program running in a pseudo-terminal; killed on drop.
pub struct Terminal {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    // The master must outlive the child or the child gets SIGHUP.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Terminal {
    /// Starts `program args` in a `cols`×`rows` terminal with extra `env`.
    pub fn spawn(
        program: &str,
        args: &[String],
        env: &[(String, String)],
        cols: u16,
        rows: u16,
    ) -> Result<Terminal> {
        let pty = native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .map_err(|e| color_eyre::eyre::eyre!("{e}"))
            .wrap_err("opening a pseudo-terminal")?;
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty
            .slave
            .spawn_command(cmd)
            .map_err(|e| color_eyre::eyre::eyre!("{e}"))
            .wrap_err_with(|| format!("starting {program} in a pseudo-terminal"))?;
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nonzero(rows), nonzero(cols), 0)));
        let mut reader = pty.master.try_clone_reader().map_err(|e| color_eyre::eyre::eyre!("{e}"))?;
        let writer =
            Arc::new(Mutex::new(pty.master.take_writer().map_err(|e| color_eyre::eyre::eyre!("{e}"))?));
        let sink = Arc::clone(&parser);
        let answer = Arc::clone(&writer);
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let Ok(mut p) = sink.lock() else { break };
                p.process(&buf[..n]);
                // A real terminal answers a cursor position request (kdash's crossterm
                // asks at start and gives up after 2 s without an answer).
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n")
                    && let Ok(mut w) = answer.lock()
                {
                    let (row, col) = p.screen().cursor_position();
                    let _ = write!(w, "\x1b[{};{}R", row + 1, col + 1);
                    let _ = w.flush();
                }
            }
        });
        Ok(Terminal { parser, writer, child, _master: pty.master })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// The screen's text now.
    pub fn contents(&self) -> String {
        self.parser.lock().map(|p| p.screen().contents()).unwrap_or_default()
    }

    /// Types bytes as keys.
    pub fn send(&mut self, keys: &str) {
        if let Ok(mut w) = self.writer.lock() {
            let _ = w.write_all(keys.as_bytes());
            let _ = w.flush();
        }
    }

    /// Whether the program has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Kills the program.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN)
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if !self.exited() {
            self.kill();
        }
    }
}
