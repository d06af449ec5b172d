//! A theme's colours: the shipped themes (TOML in `assets/themes/`, embedded) and the
//! parsing of a theme file, with the WCAG contrast check every shipped theme passes.

use ratatui::style::Color;
use serde::Deserialize;

/// The colours of a theme, all RGB so their contrast can be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// The background the screen is painted with.
    pub background: Color,
    /// Neutral text.
    pub plain: Color,
    /// Working as intended.
    pub good: Color,
    /// Needs attention.
    pub warn: Color,
    /// Broken.
    pub bad: Color,
    /// Inactive, unknown and secondary text.
    pub muted: Color,
    /// The selection bar's background.
    pub selection: Color,
    /// Column titles and headings; the active tab's background.
    pub heading: Color,
    /// Key names in hints and help.
    pub key: Color,
    /// Borders of panels and overlays.
    pub border: Color,
}

/// The themes shipped in the binary, by name; the first is the default.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("dark", include_str!("../../assets/themes/dark.toml")),
    ("light", include_str!("../../assets/themes/light.toml")),
    ("high-contrast", include_str!("../../assets/themes/high-contrast.toml")),
];

impl Default for Palette {
    fn default() -> Self {
        Palette::built_in("dark").unwrap_or(FALLBACK)
    }
}

/// Only used if the embedded dark theme failed to parse, which a unit test rules out.
const FALLBACK: Palette = Palette {
    background: Color::Black,
    plain: Color::White,
    good: Color::Green,
    warn: Color::Yellow,
    bad: Color::Red,
    muted: Color::Gray,
    selection: Color::DarkGray,
    heading: Color::Cyan,
    key: Color::Yellow,
    border: Color::Blue,
};

/// What went wrong in a theme's text: the 1-based line when known, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line of the problem (1-based), when the parser knows it.
    pub line: Option<usize>,
    /// The problem, in one line.
    pub problem: String,
}

/// The file as written: every key required, no other key allowed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    background: String,
    plain: String,
    good: String,
    warn: String,
    bad: String,
    muted: String,
    selection: String,
    heading: String,
    key: String,
    border: String,
}

impl Palette {
    /// A shipped theme by name.
    pub fn built_in(name: &str) -> Option<Palette> {
        BUILT_IN.iter().find(|(n, _)| *n == name).and_then(|(_, text)| Palette::parse(text).ok())
    }

    /// Parses a theme's TOML.
    pub fn parse(text: &str) -> Result<Palette, ParseError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| ParseError {
            line: e.span().map(|s| line_of(text, s.start)),
            problem: e.message().trim().replace('\n', " "),
        })?;
        let color = |key: &str, value: &str| {
            rgb(value).ok_or_else(|| ParseError {
                line: key_line(text, key),
                problem: format!("{key} = \"{value}\": not a colour, expected \"#rrggbb\""),
            })
        };
        Ok(Palette {
            background: color("background", &file.background)?,
            plain: color("plain", &file.plain)?,
            good: color("good", &file.good)?,
            warn: color("warn", &file.warn)?,
            bad: color("bad", &file.bad)?,
            muted: color("muted", &file.muted)?,
            selection: color("selection", &file.selection)?,
            heading: color("heading", &file.heading)?,
            key: color("key", &file.key)?,
            border: color("border", &file.border)?,
        })
    }

    /// Every text colour with each background it is drawn on, and every border with its
    /// background: (what, foreground, background, the least contrast it needs).
    pub fn pairs(&self) -> Vec<(String, Color, Color, f64)> {
        let texts = [
            ("plain", self.plain),
            ("good", self.good),
            ("warn", self.warn),
            ("bad", self.bad),
            ("muted", self.muted),
            ("heading", self.heading),
            ("key", self.key),
        ];
        let mut pairs = Vec::new();
        for (bg_name, bg) in [("background", self.background), ("selection", self.selection)] {
            for (name, fg) in texts {
                pairs.push((format!("{name} on {bg_name}"), fg, bg, TEXT_CONTRAST));
            }
        }
        // The active tab: background-coloured text on the heading colour.
        pairs.push(("active tab".to_string(), self.background, self.heading, TEXT_CONTRAST));
        pairs.push(("border on background".to_string(), self.border, self.background, BORDER_CONTRAST));
        pairs
    }
}

/// WCAG 2 AA for normal text.
pub const TEXT_CONTRAST: f64 = 4.5;
/// WCAG 2 for graphical objects (borders).
pub const BORDER_CONTRAST: f64 = 3.0;

/// `#rrggbb` as a colour.
fn rgb(s: &str) -> Option<Color> {
    let hex = s.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is set.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')))
        .map(|i| i + 1)
}

/// The WCAG 2 contrast ratio of two RGB colours (1 to 21); `None` unless both are RGB.
pub fn contrast(a: Color, b: Color) -> Option<f64> {
    let (la, lb) = (luminance(a)?, luminance(b)?);
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

/// WCAG relative luminance.
fn luminance(c: Color) -> Option<f64> {
    let Color::Rgb(r, g, b) = c else { return None };
    let channel = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.039_28 { s / 12.92 } else { ((s + 0.055) / 1.055).powf(2.4) }
    };
    Some(0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_and_passes_wcag_contrast() {
        for (name, text) in BUILT_IN {
            let palette = Palette::parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            for (what, fg, bg, needed) in palette.pairs() {
                let ratio = contrast(fg, bg).expect("RGB colours");
                assert!(ratio >= needed, "theme {name}: {what} has contrast {ratio:.2}:1, needs {needed}:1");
            }
        }
        assert_eq!(Palette::default(), Palette::built_in("dark").unwrap());
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        let (black, white) = (Color::Rgb(0, 0, 0), Color::Rgb(255, 255, 255));
        assert!((contrast(black, white).unwrap() - 21.0).abs() < 1e-9);
        assert!((contrast(white, white).unwrap() - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known 4.54:1 grey.
        let grey = contrast(Color::Rgb(0x76, 0x76, 0x76), white).unwrap();
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
        assert_eq!(contrast(Color::Red, white), None);
    }

    #[test]
    fn a_bad_theme_names_the_line_and_the_problem() {
        let dark = BUILT_IN[0].1;
        let bad_colour = dark.replace("muted = \"#a0a8b0\"", "muted = \"grey\"");
        let e = Palette::parse(&bad_colour).unwrap_err();
        assert_eq!(e.line, key_line(dark, "muted"));
        assert!(e.problem.contains("muted = \"grey\": not a colour"), "{}", e.problem);

        let unknown = format!("{dark}\nbackgroud = \"#000000\"\n");
        let e = Palette::parse(&unknown).unwrap_err();
        assert_eq!(e.line, Some(unknown.lines().count()));
        assert!(e.problem.contains("backgroud"), "{}", e.problem);

        let missing = dark.replace("border = \"#81a2be\"", "");
        let e = Palette::parse(&missing).unwrap_err();
        assert!(e.problem.contains("border"), "{}", e.problem);

        let e = Palette::parse("plain = \n").unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
