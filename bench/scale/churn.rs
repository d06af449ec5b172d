//! Churn: Kustomization statuses rewritten at a requested rate, as kustomize-controller
//! does when a new revision is applied, and the rate the apiserver actually sustained.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::scenario::{Kind, Scenario, flux_status};

/// At most this many status patches in flight: beyond it a tick is dropped, so the
/// sustained rate shows what the apiserver could take rather than a growing queue.
const IN_FLIGHT: usize = 32;

/// A running churn; `stop` returns what it achieved.
pub struct Churn {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<ChurnResult>,
}

/// What a churn window achieved.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ChurnResult {
    /// The requested rate (updates/s).
    pub requested: f64,
    /// Successful status updates per second over the window.
    pub sustained: f64,
    /// Updates that failed (conflicts, timeouts).
    pub failed: u64,
    /// Ticks dropped because IN_FLIGHT updates were still pending.
    pub dropped: u64,
    /// Length of the window (s).
    pub secs: f64,
}

impl Churn {
    /// Starts patching the scenario's Kustomizations round-robin at `rate` per second;
    /// `start_rev` makes each run's revisions new.
    pub fn start(client: &Client, s: &Scenario, rate: f64, start_rev: u64) -> Churn {
        let targets: Vec<(String, String)> = (0..s.shards)
            .flat_map(|k| {
                let ns = s.namespace(k);
                let n = s.count(Kind::Kustomization) / s.shards
                    + usize::from(k < s.count(Kind::Kustomization) % s.shards);
                (0..n).map(move |i| (ns.clone(), format!("ks-{i:05}")))
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let client = client.clone();
        let task = tokio::spawn(async move { run(client, targets, rate, start_rev, flag).await });
        Churn { stop, task }
    }

    /// Stops and reports.
    pub async fn stop(self) -> ChurnResult {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

async fn run(
    client: Client,
    targets: Vec<(String, String)>,
    rate: f64,
    start_rev: u64,
    stop: Arc<AtomicBool>,
) -> ChurnResult {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut dropped = 0;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let resource = Kind::Kustomization.resource();
    let start = Instant::now();
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) && !targets.is_empty() {
        tick.tick().await;
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        let (ns, name) = targets[n as usize % targets.len()].clone();
        n += 1;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
        let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
        let rev = start_rev + n;
        tokio::spawn(async move {
            // A new revision applied: Ready's message, lastAppliedRevision and the
            // transition time change, the way a real reconcile of a new commit writes them.
            let obj = json!({ "metadata": { "namespace": ns, "name": name, "generation": 1 } });
            let status = flux_status(Kind::Kustomization, &obj, rev);
            let patch = json!({ "status": {
                "conditions": status["conditions"],
                "lastAppliedRevision": status["lastAppliedRevision"],
                "lastAttemptedRevision": status["lastAttemptedRevision"],
                "lastHandledReconcileAt": chrono::Utc::now().to_rfc3339(),
            }});
            match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(patch)).await {
                Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                Err(_) => failed.fetch_add(1, Ordering::Relaxed),
            };
            drop(permit);
        });
    }
    // Let the last ones land so they are counted against the time they took.
    let _ = slots.acquire_many(IN_FLIGHT as u32).await;
    let secs = start.elapsed().as_secs_f64();
    ChurnResult {
        requested: rate,
        sustained: ok.load(Ordering::Relaxed) as f64 / secs.max(1e-3),
        failed: failed.load(Ordering::Relaxed),
        dropped,
        secs,
    }
}
