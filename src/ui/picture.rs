//! A drawn screen as an SVG picture, for the README and demos: the same buffer the
//! terminal would show, with its colours, so the picture cannot drift from the UI.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const BACKGROUND: &str = "#1d1f21";
const FOREGROUND: &str = "#d8d8d8";

/// Renders `buf` as a standalone SVG document in a dark terminal theme.
pub fn svg(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (area.width as f32 * CELL_W + 16.0, area.height as f32 * CELL_H + 16.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" rx="6" fill="{BACKGROUND}"/>"#);
    let _ = writeln!(
        out,
        r#"<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" xml:space="preserve">"#
    );
    for y in 0..area.height {
        let top = 8.0 + y as f32 * CELL_H;
        // Backgrounds first, one rect per run of equal colour.
        let mut x = 0;
        while x < area.width {
            let bg = cell_bg(buf, x, y);
            let start = x;
            while x < area.width && cell_bg(buf, x, y) == bg {
                x += 1;
            }
            if let Some(bg) = bg {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{CELL_H:.1}" fill="{bg}"/>"#,
                    8.0 + start as f32 * CELL_W,
                    (x - start) as f32 * CELL_W
                );
            }
        }
        // Text: one <text> per cell run of the same style, placed by column so wide
        // glyphs and font metrics never shift the grid.
        let baseline = top + CELL_H * 0.78;
        for x in 0..area.width {
            let cell = &buf[(area.x + x, area.y + y)];
            let symbol = cell.symbol();
            if symbol.trim().is_empty() {
                continue;
            }
            // Reversed cells swap colours, as a terminal does: text takes the background's.
            let fg = if cell.modifier.contains(Modifier::REVERSED) {
                color_hex(cell.bg).unwrap_or_else(|| BACKGROUND.to_string())
            } else {
                color_hex(cell.fg).unwrap_or_else(|| FOREGROUND.to_string())
            };
            let weight = if cell.modifier.contains(Modifier::BOLD) { r#" font-weight="bold""# } else { "" };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{baseline:.1}" fill="{fg}"{weight}>{}</text>"#,
                8.0 + x as f32 * CELL_W,
                escape(symbol)
            );
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn cell_bg(buf: &Buffer, x: u16, y: u16) -> Option<String> {
    let cell = &buf[(buf.area.x + x, buf.area.y + y)];
    if cell.modifier.contains(Modifier::REVERSED) {
        return Some(color_hex(cell.fg).unwrap_or_else(|| FOREGROUND.to_string()));
    }
    color_hex(cell.bg)
}

fn color_hex(c: Color) -> Option<String> {
    Some(
        match c {
            Color::Reset => return None,
            // The themes' colours, exactly.
            Color::Rgb(r, g, b) => return Some(format!("#{r:02x}{g:02x}{b:02x}")),
            Color::Indexed(237) => "#3a3a3a",
            Color::Black => "#1d1f21",
            Color::Red => "#cc6666",
            Color::Green => "#8abe6a",
            Color::Yellow => "#e0c060",
            Color::Blue => "#81a2be",
            Color::Magenta => "#b294bb",
            Color::Cyan => "#8abeb7",
            Color::Gray => "#b0b0b0",
            Color::DarkGray => "#707880",
            Color::LightRed => "#ff8080",
            Color::LightGreen => "#b5e890",
            Color::LightYellow => "#f0e080",
            Color::LightBlue => "#a0c0f0",
            Color::LightMagenta => "#d0a0e0",
            Color::LightCyan => "#a0e0e0",
            Color::White => "#ffffff",
            _ => FOREGROUND,
        }
        .to_string(),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
