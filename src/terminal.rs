//! The terminal beyond what ratatui sets up: mouse reporting on and off (off again on a
//! panic too), and copying to the clipboard with OSC 52, which works over SSH and tmux
//! (with `set-clipboard on`) because the terminal itself does the copying.

use std::io::Write;
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};

/// Asks the terminal to report clicks and the wheel; a panic turns it off first.
pub fn mouse_on() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // Installed after ratatui's hook, so it runs first and ratatui's restores the rest.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            mouse_off();
            previous(info);
        }));
    });
    let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
}

/// Stops mouse reporting (the terminal's own selection works again).
pub fn mouse_off() {
    let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
}

/// Puts `text` on the clipboard of the terminal the dashboard draws on.
pub fn copy(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

/// The OSC 52 sequence that sets the clipboard (`c`) to `text`.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

/// Standard base64 with padding (RFC 4648), all OSC 52 needs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(
            osc52("flux reconcile kustomization apps -n flux-system"),
            "\x1b]52;c;Zmx1eCByZWNvbmNpbGUga3VzdG9taXphdGlvbiBhcHBzIC1uIGZsdXgtc3lzdGVt\x07"
        );
    }
}
