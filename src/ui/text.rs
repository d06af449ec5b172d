//! Small text helpers shared by the panels: fitting text into cells with "…", and the
//! compact forms of ages and object names that let a row fit in 80 columns.

use ratatui::text::{Line, Span};

use crate::model::objects::{FluxKey, FluxKind};

/// Display width of one char, measured the way ratatui lays text out.
fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

/// Cuts a line to at most `width` columns, ending it with "…" when something was cut.
pub fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    if width == 0 {
        return Line::default();
    }
    // Keep room for the ellipsis, styled like the span it cuts.
    let mut budget = width - 1;
    let mut spans = Vec::new();
    let mut last_style = line.style;
    for span in line.spans {
        last_style = span.style;
        let w = span.width();
        if w <= budget {
            budget -= w;
            spans.push(span);
            continue;
        }
        let mut kept = String::new();
        for c in span.content.chars() {
            let cw = char_width(c);
            if cw > budget {
                break;
            }
            budget -= cw;
            kept.push(c);
        }
        spans.push(Span::styled(kept, span.style));
        break;
    }
    spans.push(Span::styled("…", last_style));
    Line { spans, style: line.style, alignment: line.alignment }
}

/// The plain text of a line, for filtering.
pub fn plain(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// A duration in its largest unit, like kubectl (`45s`, `12m`, `3h`, `5d`).
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// An optional age, "—" when unknown.
pub fn opt_age(secs: Option<i64>) -> String {
    secs.map(age).unwrap_or_else(|| "—".into())
}

/// The age of something that began at `since`, as drawn at `now` (`—` when unknown):
/// ages are computed here, for the rows on screen, not kept in the model.
pub fn age_since(now: crate::model::objects::Time, since: Option<crate::model::objects::Time>) -> String {
    opt_age(since.map(|t| (now - t).num_seconds().max(0)))
}

/// The short kind names flux and kubectl accept (`ks`, `hr`, ...).
pub fn kind_short(kind: FluxKind) -> &'static str {
    match kind {
        FluxKind::Kustomization => "ks",
        FluxKind::HelmRelease => "hr",
        FluxKind::GitRepository => "gitrepo",
        FluxKind::OCIRepository => "ocirepo",
        FluxKind::HelmRepository => "helmrepo",
        FluxKind::HelmChart => "helmchart",
        FluxKind::Bucket => "bucket",
    }
}

/// `name`, or `namespace/name` when outside the Flux namespace (most objects live there,
/// so repeating it would waste a third of an 80-column row).
pub fn short_name(key: &FluxKey, flux_namespace: &str) -> String {
    if *key.namespace == *flux_namespace {
        key.name.to_string()
    } else {
        format!("{}/{}", key.namespace, key.name)
    }
}

/// A revision with its digest cut to 8 characters (`main@sha1:4f2a9c1e77…` → `main@4f2a9c1e`);
/// the full one is in the details.
pub fn short_revision(rev: &str) -> String {
    let (head, digest) = match rev.rsplit_once('@') {
        Some((head, digest)) => (format!("{head}@"), digest),
        None => (String::new(), rev),
    };
    match digest.split_once(':') {
        Some((algo, hex)) if algo.starts_with("sha") => {
            format!("{head}{}", hex.chars().take(8).collect::<String>())
        }
        _ => rev.to_string(),
    }
}

/// A controller name without the `-controller` suffix, for column titles.
pub fn controller_short(name: &str) -> &str {
    name.strip_suffix("-controller").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Style};

    use super::*;

    #[test]
    fn fit_cuts_with_ellipsis_and_keeps_styles() {
        let red = Style::new().fg(Color::Red);
        let line = Line::from(vec![Span::raw("abc "), Span::styled("defgh", red)]);
        let cut = fit(line.clone(), 6);
        assert_eq!(plain(&cut), "abc d…");
        assert_eq!(cut.spans.last().map(|s| s.style), Some(red));
        assert_eq!(plain(&fit(line.clone(), 9)), "abc defgh");
        assert_eq!(plain(&fit(line.clone(), 1)), "…");
        assert_eq!(plain(&fit(line, 0)), "");
    }

    #[test]
    fn ages_use_the_largest_unit() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(754), "12m");
        assert_eq!(age(3 * 3600 + 5), "3h");
        assert_eq!(age(200_000), "2d");
        assert_eq!(opt_age(None), "—");
    }

    #[test]
    fn revisions_keep_branch_and_short_digest() {
        assert_eq!(short_revision("main@sha1:4f2a9c1e77aa"), "main@4f2a9c1e");
        assert_eq!(short_revision("sha256:0123456789abcdef"), "01234567");
        assert_eq!(short_revision("1.16.2"), "1.16.2");
    }
}
