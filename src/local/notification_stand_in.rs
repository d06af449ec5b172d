//! What runs as notification-controller's pod on the local target. Flux v2.7.3's
//! notification-controller is not on the Go module proxy (403), so it cannot be built like
//! the other three; this stand-in does the part of it the sharded stack shows: it answers
//! its health probes and holds its leader-election Lease
//! (`notification-controller-leader-election`, holder `<pod>_<uuid>`, 35 s, renewed every
//! 2 s, released on SIGTERM) the way client-go's leader election does, as its pod's
//! ServiceAccount. It receives no events and reconciles no Alerts (there are no such CRDs).

use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};

/// The Lease the real notification-controller elects its leader with.
pub const LEASE: &str = "notification-controller-leader-election";
/// client-go's defaults as Flux sets them: lease 35 s.
const LEASE_SECONDS: i32 = 35;
/// How often the holder renews (and a candidate retries).
const RENEW: Duration = Duration::from_secs(2);

/// What to do with the Lease as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No Lease yet: create it, held by us.
    Create,
    /// Ours, or free (expired, released): write it as held by us; true when it changes hands.
    Hold { taken_over: bool },
    /// Someone else's and not expired: wait.
    Wait,
}

/// Decides from the Lease (None: absent) who holds it at `now`.
pub fn step(lease: Option<&Lease>, me: &str, now: Timestamp) -> Step {
    let Some(spec) = lease.map(|l| l.spec.clone().unwrap_or_default()) else { return Step::Create };
    let holder = spec.holder_identity.unwrap_or_default();
    if holder == me {
        return Step::Hold { taken_over: false };
    }
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    let renewed = spec.renew_time.map(|t| t.0);
    let expired = renewed
        .is_none_or(|t| t.saturating_add(SignedDuration::from_secs(duration)).is_ok_and(|end| end < now));
    if holder.is_empty() || expired { Step::Hold { taken_over: true } } else { Step::Wait }
}

fn held_spec(old: Option<&LeaseSpec>, me: &str, now: Timestamp, taken_over: bool) -> LeaseSpec {
    let transitions = old.and_then(|s| s.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(LEASE_SECONDS),
        acquire_time: if taken_over {
            Some(MicroTime(now))
        } else {
            old.and_then(|s| s.acquire_time.clone())
        },
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(if taken_over && old.is_some() { transitions + 1 } else { transitions }),
        ..LeaseSpec::default()
    }
}

/// One round of the election; true while we hold the Lease.
async fn elect(leases: &Api<Lease>, me: &str) -> Result<bool> {
    let now = Timestamp::now();
    let current = leases.get_opt(LEASE).await?;
    match step(current.as_ref(), me, now) {
        Step::Wait => Ok(false),
        Step::Create => {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(LEASE.into()), ..ObjectMeta::default() },
                spec: Some(held_spec(None, me, now, true)),
            };
            leases.create(&PostParams::default(), &lease).await?;
            Ok(true)
        }
        Step::Hold { taken_over } => {
            let mut lease = current.expect("a Lease to hold");
            lease.spec = Some(held_spec(lease.spec.as_ref(), me, now, taken_over));
            // The resourceVersion read makes this a compare-and-swap, as in client-go.
            leases.replace(LEASE, &PostParams::default(), &lease).await?;
            Ok(true)
        }
    }
}

/// Releases the Lease if we hold it (holder emptied, 1 s), as Flux's ReleaseOnCancel does.
async fn release(leases: &Api<Lease>, me: &str) {
    let Ok(Some(mut lease)) = leases.get_opt(LEASE).await else { return };
    let Some(spec) = lease.spec.as_mut().filter(|s| s.holder_identity.as_deref() == Some(me)) else { return };
    spec.holder_identity = Some(String::new());
    spec.lease_duration_seconds = Some(1);
    let _ = leases.replace(LEASE, &PostParams::default(), &lease).await;
}

/// Answers every HTTP request on `listener` with 200 ok (its /healthz and /readyz).
async fn health(listener: tokio::net::TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
        });
    }
}

fn log(line: &str) {
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let line =
        serde_json::json!({ "level": "info", "ts": at, "logger": "notification-stand-in", "msg": line });
    println!("{line}");
}

/// Runs until SIGTERM or SIGINT: health answers on `health_addr`, the Lease of the
/// namespace in `RUNTIME_NAMESPACE` held as `HOLDER` (the pod's name) plus a uuid.
pub async fn run(health_addr: &str) -> Result<()> {
    let namespace = std::env::var("RUNTIME_NAMESPACE").unwrap_or_else(|_| "flux-system".into());
    let pod = std::env::var("HOLDER").unwrap_or_else(|_| "notification-controller".into());
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let me = format!("{pod}_{}", uuid.trim());
    let listener = tokio::net::TcpListener::bind(health_addr)
        .await
        .wrap_err_with(|| format!("listening on {health_addr}"))?;
    tokio::spawn(health(listener));
    let client = kube::Client::try_default().await.wrap_err("no kubeconfig")?;
    let leases: Api<Lease> = Api::namespaced(client, &namespace);
    log(&format!("attempting to acquire leader lease {namespace}/{LEASE}..."));
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut leading = false;
    loop {
        match elect(&leases, &me).await {
            Ok(true) if !leading => {
                leading = true;
                log(&format!("successfully acquired lease {namespace}/{LEASE}"));
            }
            Ok(false) if leading => {
                // Someone else holds it now: a real controller exits here ("leader election lost").
                log("leader election lost");
                return Ok(());
            }
            Err(e) => log(&format!("error retrieving or updating lease {namespace}/{LEASE}: {e}")),
            _ => {}
        }
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = tokio::time::sleep(RENEW) => {}
        }
    }
    if leading {
        release(&leases, &me).await;
        log("released the lease");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, renewed_secs_ago: i64, now: Timestamp) -> Lease {
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                lease_duration_seconds: Some(35),
                renew_time: Some(MicroTime(now - SignedDuration::from_secs(renewed_secs_ago))),
                ..LeaseSpec::default()
            }),
        }
    }

    #[test]
    fn a_lease_is_taken_only_when_absent_free_or_expired() {
        let now = Timestamp::now();
        assert_eq!(step(None, "me", now), Step::Create);
        assert_eq!(step(Some(&lease("me", 3, now)), "me", now), Step::Hold { taken_over: false });
        assert_eq!(step(Some(&lease("other", 3, now)), "me", now), Step::Wait);
        assert_eq!(step(Some(&lease("other", 36, now)), "me", now), Step::Hold { taken_over: true });
        assert_eq!(step(Some(&lease("", 0, now)), "me", now), Step::Hold { taken_over: true });
    }

    #[test]
    fn taking_over_counts_a_transition_and_renewing_keeps_the_acquire_time() {
        let now = Timestamp::now();
        let old = lease("other", 40, now).spec.unwrap();
        let taken = held_spec(Some(&old), "me", now, true);
        assert_eq!(taken.lease_transitions, Some(1));
        assert_eq!(taken.acquire_time, Some(MicroTime(now)));
        let later = now + SignedDuration::from_secs(2);
        let renewed = held_spec(Some(&taken), "me", later, false);
        assert_eq!(
            (renewed.acquire_time, renewed.renew_time),
            (Some(MicroTime(now)), Some(MicroTime(later)))
        );
        assert_eq!(renewed.lease_transitions, Some(1));
    }
}
