//! The shard matrix: one row per shard (main included), one column per controller,
//! each cell `ready/desired ● ↺restarts leader-age` coloured by the controller's health.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::shards::{ControllerHealth, Health, SHARDABLE, ShardView};

use super::PanelView;
use super::details::Details;
use super::table::{Column, RowCells, Rows};
use super::text::{controller_short, opt_age};
use super::theme::{Theme, Tone, health_glyph};

/// The shards panel's rows.
pub struct ShardRows<'a> {
    snap: &'a Snapshot,
    /// Column order: the shardable controllers, then any other seen (notification...).
    controllers: Vec<&'a str>,
}

impl<'a> ShardRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> ShardRows<'a> {
        let mut controllers: Vec<&str> = SHARDABLE.to_vec();
        for c in snap.shards.iter().flat_map(|s| &s.controllers) {
            if !controllers.contains(&c.controller.as_str()) {
                controllers.push(&c.controller);
            }
        }
        ShardRows { snap, controllers }
    }
}

fn health_name(h: Health) -> &'static str {
    match h {
        Health::Healthy => "Healthy",
        Health::Degraded => "Degraded",
        Health::Down => "Down",
        Health::Unknown => "Unknown",
    }
}

/// `1/1 ● ↺0 12s`: replicas and glyph in the health colour, restarts warn when non-zero.
fn cell(c: &ControllerHealth, theme: Theme) -> Line<'static> {
    let health = theme.health(c.health);
    let restarts = if c.restarts > 0 { theme.tone(Tone::Warn) } else { theme.dim() };
    let leader = match c.leader_age_secs {
        Some(secs) => Span::styled(opt_age(Some(secs)), theme.dim()),
        // A dash fits the narrow cell; the details pane says "none holds the lease".
        None if c.health == Health::Healthy => Span::styled("—", theme.dim()),
        None => Span::styled("—", theme.tone(Tone::Warn)),
    };
    Line::from(vec![
        Span::styled(format!("{}/{} {}", c.ready, c.desired, health_glyph(c.health)), health),
        Span::styled(format!(" ↺{} ", c.restarts), restarts),
        leader,
    ])
}

impl Rows for ShardRows<'_> {
    fn columns(&self, _width: u16) -> Vec<Column> {
        let mut cols = vec![Column::new("SHARD", Constraint::Length(10))];
        for c in &self.controllers {
            cols.push(Column::new(controller_short(c).to_uppercase(), Constraint::Length(13)));
        }
        cols.push(Column::new("NODES", Constraint::Fill(1)));
        cols
    }

    fn len(&self) -> usize {
        self.snap.shards.len()
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let shard = &self.snap.shards[i];
        let mut cells = vec![Line::styled(
            format!("{} {}", health_glyph(shard.health), shard.name),
            theme.health(shard.health),
        )];
        for name in &self.controllers {
            cells.push(match shard.controllers.iter().find(|c| c.controller == *name) {
                Some(c) => cell(c, theme),
                None => Line::styled("—", theme.dim()),
            });
        }
        cells.push(if shard.nodes.is_empty() {
            Line::styled("—", theme.dim())
        } else {
            // A shard of a thousand nodes names a few; details list them all.
            let more = shard.nodes.len().saturating_sub(3);
            let mut names = shard.nodes.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            if more > 0 {
                names.push_str(&format!(" +{more}"));
            }
            Line::raw(names)
        });
        RowCells::Cols(cells)
    }

    fn empty(&self) -> String {
        "no Flux controller Deployments found".into()
    }
}

impl PanelView for ShardRows<'_> {
    fn rows(&self) -> &dyn Rows {
        self
    }

    fn legend(&self) -> &'static str {
        "ready/desired ● ↺restarts leader-renewed"
    }

    fn details(&self, i: usize, theme: Theme) -> Details {
        shard_details(&self.snap.shards[i], theme)
    }
}

/// Every controller of a shard with its replicas, leader and pods.
fn shard_details(shard: &ShardView, theme: Theme) -> Details {
    let mut d = Details::new(format!("Shard {}", shard.name));
    d.field(theme, "Health", health_name(shard.health), theme.health(shard.health));
    d.field(theme, "Selector", shard.selector.clone().unwrap_or_else(|| "—".into()), theme.tone(Tone::Plain));
    let nodes = if shard.nodes.is_empty() { "none labelled".into() } else { shard.nodes.join(", ") };
    d.field(theme, "Nodes", nodes, theme.tone(Tone::Plain));
    for c in &shard.controllers {
        d.heading(theme, format!("{}  (deployment {})", c.controller, c.deployment));
        d.line(Line::from(vec![
            Span::styled(
                format!("  {} {}", health_glyph(c.health), health_name(c.health)),
                theme.health(c.health),
            ),
            Span::raw(format!(
                "  replicas {}/{} ready, {} available  restarts {}",
                c.ready, c.desired, c.available, c.restarts
            )),
        ]));
        let leader = match (&c.leader, c.leader_age_secs) {
            (Some(l), Some(age)) => format!("{l}, renewed {} ago", opt_age(Some(age))),
            (Some(l), None) => l.clone(),
            (None, _) => "none holds the lease".into(),
        };
        d.field(theme, "  leader", leader, theme.tone(Tone::Plain));
        if let Some(why) = &c.reason {
            d.field(theme, "  why", why.clone(), theme.health(c.health));
        }
        for p in &c.pods {
            let (state, tone) = match (p.phase.as_str(), p.ready) {
                (phase, true) => (format!("{phase}, ready"), Tone::Good),
                ("Running", false) => ("Running, not ready".to_string(), Tone::Bad),
                (phase, false) => (phase.to_string(), Tone::Bad),
            };
            let node = p.node.as_deref().map_or("not scheduled".to_string(), |n| format!("on {n}"));
            d.line(format!("  pod {}", p.name));
            d.line(Line::from(vec![
                Span::raw("    "),
                Span::styled(state, theme.tone(tone)),
                Span::styled(format!(" · {node} · restarts {}", p.restarts), theme.dim()),
            ]));
        }
    }
    d
}
