//! `shardwatch logs TARGET [-f]`: the log of a controller pod or Deployment, or the lines
//! of a Flux object's owning controller (its shard's, of its kind) that name the object,
//! across all of that controller's pods; what the dashboard's `l` shows.

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use super::explain::parse_target;
use crate::cluster::controller_logs::{self, LogMessage, LogSource, LogWindow};
use crate::cluster::{self, ConnectOptions};
use crate::model::controller_log::readable;

/// Exit code: the log cannot be read (not found, forbidden, no log served).
const CANNOT: i32 = 2;

/// What `logs` needs to know.
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// `pod/NAME`, `deploy/NAME`, or a Flux object (`ks/NAME`, `KIND/NAMESPACE/NAME`).
    pub target: String,
    /// Namespace of a Flux object named `KIND/NAME` (`-n`, else the Flux namespace).
    pub default_namespace: String,
    /// The cluster.
    pub connect: ConnectOptions,
    /// Where the Flux controllers run.
    pub flux_namespace: String,
    /// The label key that assigns Flux objects to shards.
    pub shard_label: String,
    /// How much of the log.
    pub window: LogWindow,
    /// Print the lines as written (JSON) instead of `time level message object`.
    pub raw: bool,
}

/// Reads a target as `pod/NAME`, `deploy/NAME` or a Flux object.
pub fn parse_source(target: &str, default_namespace: &str) -> Result<LogSource, String> {
    match target.split_once('/') {
        Some(("pod" | "pods" | "po", name)) if !name.is_empty() => Ok(LogSource::Pod(name.into())),
        Some(("deploy" | "deployment" | "deployments", name)) if !name.is_empty() => {
            Ok(LogSource::Deployments(vec![name.into()]))
        }
        _ => parse_target(target, default_namespace)
            .map(LogSource::Object)
            .map_err(|e| format!("{e}; or pod/NAME, deploy/NAME")),
    }
}

/// Prints the log; returns the exit code.
pub async fn run(opts: &LogsOptions) -> Result<i32> {
    let source = match parse_source(&opts.target, &opts.default_namespace) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shardwatch: {e}");
            return Ok(CANNOT);
        }
    };
    let (client, _) = cluster::connect(&opts.connect).await?;
    let ns = &opts.flux_namespace;
    let resolved = match controller_logs::resolve(&client, ns, &opts.shard_label, &source).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "shardwatch: cannot read the log of {source}: {}",
                crate::redact::redact(&format!("{e:#}"))
            );
            return Ok(CANNOT);
        }
    };
    let from = resolved.deployment.as_ref().map(|d| format!("deployment {ns}/{d}, ")).unwrap_or_default();
    if resolved.pods.is_empty() {
        eprintln!("shardwatch: {source}: {from}no pod to read a log from");
        return Ok(CANNOT);
    }
    let only = resolved.object.as_ref().map(|k| format!("; lines naming {k}")).unwrap_or_default();
    eprintln!("{from}pods {}{only}", resolved.pods.join(", "));
    let several = resolved.pods.len() > 1;
    let (tx, mut rx) = mpsc::channel(256);
    let reading = controller_logs::stream(&client, ns, &resolved, opts.window, tx);
    tokio::pin!(reading);
    let (mut printed, mut errors) = (0usize, 0usize);
    let mut print = |m: LogMessage| match m {
        LogMessage::Line(l) => {
            printed += 1;
            // A controller may log a credential: redacted like our own logs, raw or not.
            let text = crate::redact::redact(&if opts.raw { l.text } else { readable(&l.text) });
            if several { println!("{} {text}", l.pod) } else { println!("{text}") }
        }
        LogMessage::Error { pod, message } => {
            errors += 1;
            eprintln!("shardwatch: {pod}: {}", crate::redact::redact(&message));
        }
        LogMessage::Note(n) => eprintln!("{n}"),
        LogMessage::Ended { .. } => {}
    };
    loop {
        tokio::select! {
            () = &mut reading => break,
            Some(m) = rx.recv() => print(m),
            _ = tokio::signal::ctrl_c() => return Ok(0),
        }
    }
    while let Ok(m) = rx.try_recv() {
        print(m);
    }
    if errors == resolved.pods.len() {
        return Ok(CANNOT);
    }
    if printed == 0 {
        match &resolved.object {
            Some(k) => eprintln!("no line of these pods names {k}"),
            None => eprintln!("the log is empty"),
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::objects::{FluxKey, FluxKind};

    #[test]
    fn targets_are_pods_deployments_or_flux_objects() {
        assert_eq!(parse_source("pod/p-1", "f"), Ok(LogSource::Pod("p-1".into())));
        assert_eq!(
            parse_source("deploy/kc-shard2", "f"),
            Ok(LogSource::Deployments(vec!["kc-shard2".into()]))
        );
        assert_eq!(
            parse_source("ks/apps", "f"),
            Ok(LogSource::Object(FluxKey {
                kind: FluxKind::Kustomization,
                namespace: "f".into(),
                name: "apps".into()
            }))
        );
        assert!(parse_source("nope/x", "f").unwrap_err().contains("pod/NAME"));
    }
}
