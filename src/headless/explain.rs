//! `shardwatch explain KIND/NAMESPACE/NAME`: why one Flux object is not Ready, printed
//! once from the same model the dashboard shows (its `e` view).

use std::fmt::Write;
use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::Result;

use super::Format;
use crate::cluster::WatchOptions;
use crate::model::explain::{EventLine, Explanation, Outcome, explain};
use crate::model::objects::{FluxKey, FluxKind};
use crate::model::verdict::human_duration;

/// The kind a command-line word names: flux's short names (`ks`, `hr`, `gitrepo`, ...) or
/// the kind itself, singular or plural, any case.
pub fn parse_kind(word: &str) -> Option<FluxKind> {
    let w = word.to_ascii_lowercase();
    let w = w.strip_suffix('s').filter(|_| w.len() > 3 && !w.ends_with("ss")).unwrap_or(&w);
    let kind = match w {
        "ks" | "kustomization" => FluxKind::Kustomization,
        "hr" | "helmrelease" => FluxKind::HelmRelease,
        "gitrepo" | "gitrepository" | "gitrepositorie" => FluxKind::GitRepository,
        "ocirepo" | "ocirepository" | "ocirepositorie" => FluxKind::OCIRepository,
        "helmrepo" | "helmrepository" | "helmrepositorie" => FluxKind::HelmRepository,
        "hc" | "helmchart" => FluxKind::HelmChart,
        "bucket" => FluxKind::Bucket,
        _ => return None,
    };
    Some(kind)
}

/// `KIND/NAMESPACE/NAME`, or `KIND/NAME` in `default_namespace`.
pub fn parse_target(s: &str, default_namespace: &str) -> Result<FluxKey, String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (kind, namespace, name) = match parts.as_slice() {
        [k, ns, n] => (*k, *ns, *n),
        [k, n] => (*k, default_namespace, *n),
        _ => return Err(format!("expected KIND/NAMESPACE/NAME or KIND/NAME, got {s:?}")),
    };
    if namespace.is_empty() || name.is_empty() {
        return Err(format!("expected KIND/NAMESPACE/NAME or KIND/NAME, got {s:?}"));
    }
    let kind = parse_kind(kind).ok_or_else(|| {
        format!("unknown kind {kind:?}: use ks, hr, gitrepo, ocirepo, helmrepo, helmchart, bucket or the kind's name")
    })?;
    Ok(FluxKey { kind, namespace: namespace.into(), name: name.into() })
}

/// The exit code for an explanation: 0 Ready, 1 explained as not Ready, 2 cannot tell.
pub fn exit_code(e: &Explanation) -> i32 {
    match e.outcome {
        Outcome::Ready => 0,
        Outcome::NotReady => 1,
        Outcome::Unknown => 2,
    }
}

/// What `explain` needs to know.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// The cluster and what to watch in it.
    pub watch: WatchOptions,
    /// The object, as typed: `KIND/NAMESPACE/NAME` or `KIND/NAME`.
    pub object: String,
    /// How to print.
    pub format: Format,
    /// How long to wait for the initial lists.
    pub timeout: Duration,
}

/// `shardwatch explain`: waits for the initial lists, then prints the explanation.
pub async fn run(opts: &ExplainOptions) -> Result<i32> {
    let watch = &opts.watch;
    // Objects followed in one namespace (-n) are looked for there by default.
    let default_ns = watch.objects_namespace.as_deref().unwrap_or(&watch.flux_namespace);
    let key = match parse_target(&opts.object, default_ns) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("shardwatch: {e}");
            return Ok(2);
        }
    };
    let model = match super::collect(watch, opts.timeout).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("shardwatch: cannot tell: {}", crate::redact::redact(&format!("{e:#}")));
            return Ok(2);
        }
    };
    let e = explain(&model, &key, Utc::now());
    match opts.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&e)?),
        Format::Text => print!("{}", render(&e)),
    }
    Ok(exit_code(&e))
}

fn ago(secs: Option<i64>) -> String {
    secs.map(|s| format!("{} ago", human_duration(s))).unwrap_or_else(|| "when unknown".into())
}

fn event(out: &mut String, indent: &str, e: &EventLine) {
    let _ = writeln!(out, "{indent}event {} x{} ({}): {}", e.reason, e.count, ago(e.age_secs), e.message);
}

/// The explanation as plain text: the cause first, then the evidence.
pub fn render(e: &Explanation) -> String {
    let mut out = String::new();
    match &e.state {
        Some(s) => {
            let reason = if s.reason.is_empty() { String::new() } else { format!(" ({})", s.reason) };
            let since = e.age_secs.map(|a| format!(" for {}", human_duration(a))).unwrap_or_default();
            let _ = writeln!(out, "{}: {}{reason}{since}", e.key, s.state.as_str());
        }
        None => {
            let _ = writeln!(out, "{}: not found", e.key);
        }
    }
    let _ = writeln!(out, "cause: {}", e.cause);
    if !e.conditions.is_empty() {
        let _ = writeln!(out, "\nconditions:");
        for c in &e.conditions {
            let _ =
                writeln!(out, "  {}={} {} ({}): {}", c.type_, c.status, c.reason, ago(c.age_secs), c.message);
        }
    }
    if e.chain.len() > 1 || e.root_cause.as_ref().is_some_and(|r| r.missing.is_some()) {
        let _ = writeln!(out, "\ndependency chain:");
        for (i, l) in e.chain.iter().enumerate() {
            let arrow = if i == 0 { "  " } else { "  -> " };
            let _ = writeln!(
                out,
                "{arrow}{} {} {}: {}",
                l.key,
                l.state.state.as_str(),
                l.state.reason,
                l.state.message
            );
        }
        if e.chain_truncated {
            let _ = writeln!(out, "  -> ... (cut after {} objects)", e.chain.len());
        }
        if let Some(d) = e.root_cause.as_ref().and_then(|r| r.missing.as_ref()) {
            let _ = writeln!(out, "  -> {}/{} does not exist", d.namespace, d.name);
        }
    }
    if let Some(of) = &e.waits_for_of {
        if !e.missing_kinds.is_empty() {
            let _ = writeln!(out, "\nkinds {of} could not apply (CRD not installed or not established):");
            for k in &e.missing_kinds {
                let _ = writeln!(out, "  {} {}", k.kind, k.version);
            }
        }
        if !e.waits_for.is_empty() {
            let _ = writeln!(out, "\n{of} waits for:");
        }
        for w in &e.waits_for {
            let status = if w.status.is_empty() { String::new() } else { format!(" status {}", w.status) };
            let detail = if w.detail.is_empty() { String::new() } else { format!(": {}", w.detail) };
            let _ = writeln!(out, "  {}{status}{detail}", w.id());
            for p in &w.pods {
                let node = p.node.as_deref().map(|n| format!(" on {n}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    pod {}/{} Pending{node}: {}: {}",
                    p.namespace, p.name, p.reason, p.message
                );
                for ev in &p.events {
                    event(&mut out, "      ", ev);
                }
            }
            if w.more_pods > 0 {
                let _ = writeln!(out, "    ... and {} more Pending pods", w.more_pods);
            }
            if w.pods.is_empty() && matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
                let _ = writeln!(out, "    no Pending pod (its pods may run without being Ready)");
            }
            for ev in &w.events {
                event(&mut out, "    ", ev);
            }
        }
    }
    if !e.events.is_empty() {
        let _ = writeln!(out, "\nwarning events about {}:", e.key);
        for ev in &e.events {
            event(&mut out, "  ", ev);
        }
    }
    if !e.blind.is_empty() {
        let _ = writeln!(out, "\nnot visible:");
        for b in &e.blind {
            let _ = writeln!(out, "  {b}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_accept_short_and_full_kinds_and_a_default_namespace() {
        let key = |k, ns: &str, n: &str| FluxKey { kind: k, namespace: ns.into(), name: n.into() };
        assert_eq!(
            parse_target("ks/flux-system/demo-stuck", "x"),
            Ok(key(FluxKind::Kustomization, "flux-system", "demo-stuck"))
        );
        assert_eq!(
            parse_target("Kustomization/demo", "ns1"),
            Ok(key(FluxKind::Kustomization, "ns1", "demo"))
        );
        assert_eq!(parse_target("helmreleases/a/b", "x"), Ok(key(FluxKind::HelmRelease, "a", "b")));
        assert_eq!(parse_target("hr/b", "x"), Ok(key(FluxKind::HelmRelease, "x", "b")));
        assert_eq!(parse_target("gitrepo/s", "x"), Ok(key(FluxKind::GitRepository, "x", "s")));
        assert_eq!(parse_target("GitRepositories/s", "x"), Ok(key(FluxKind::GitRepository, "x", "s")));
        assert_eq!(parse_target("buckets/s", "x"), Ok(key(FluxKind::Bucket, "x", "s")));
        assert!(parse_target("deploy/x/y", "x").unwrap_err().contains("unknown kind"));
        assert!(parse_target("ks", "x").is_err());
        assert!(parse_target("ks//y", "x").is_err());
    }

    #[test]
    fn text_names_the_cause_the_chain_and_the_pod() {
        use crate::model::Snapshot;
        use crate::model::fixture::demo_model;
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").map(|t| t.with_timezone(&Utc));
        let now = now.unwrap_or_default();
        let snap = Snapshot::of(&demo_model(now), now);
        let apps = snap.explanations.iter().find(|e| &*e.key.name == "apps").expect("apps explained");
        let text = render(apps);
        assert!(text.starts_with("Kustomization/flux-system/apps: Waiting (DependencyNotReady)"), "{text}");
        assert!(text.contains("\ncause: pod cert-manager/cert-manager-webhook-78cb4cf989-w7rjq Pending: Unschedulable: 0/4 nodes"), "{text}");
        assert!(
            text.contains("  -> Kustomization/flux-system/infra-controllers Failed HealthCheckFailed"),
            "{text}"
        );
        assert!(text.contains("Kustomization/flux-system/infra-controllers waits for:\n  Deployment/cert-manager/cert-manager-webhook status InProgress\n"), "{text}");
        assert!(text.contains("      event FailedScheduling x4 (40s ago): 0/4 nodes"), "{text}");
        assert_eq!(exit_code(apps), 1);
    }
}
