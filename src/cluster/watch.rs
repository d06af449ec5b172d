//! One watch loop per resource kind: list, then watch, with backoff on failure.
//!
//! Each API object is trimmed the moment it arrives and only the trimmed value goes
//! to the model, so no full objects are ever held here.

use std::fmt::Debug;

use chrono::Utc;
use futures::StreamExt;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::model::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};

/// How to turn one kind's API objects into model values.
pub struct Trimmer<K> {
    /// The resource kind, for connection state.
    pub kind: ResourceKind,
    /// API object → trimmed model object.
    pub trim: Box<dyn Fn(&K) -> Object + Send + Sync>,
    /// API object → its id, for deletions.
    pub id: Box<dyn Fn(&K) -> ObjectId + Send + Sync>,
}

impl<K> Trimmer<K> {
    /// A trimmer for `kind` from its two functions.
    pub fn new(
        kind: ResourceKind,
        trim: impl Fn(&K) -> Object + Send + Sync + 'static,
        id: impl Fn(&K) -> ObjectId + Send + Sync + 'static,
    ) -> Self {
        Trimmer { kind, trim: Box::new(trim), id: Box::new(id) }
    }
}

/// Watches `api` until the receiver is gone, sending trimmed changes.
///
/// The initial list (and every relist after a reconnect) is sent as one `Listed`, so
/// the model replaces what it held instead of keeping objects deleted while away.
pub async fn run<K>(api: Api<K>, t: Trimmer<K>, tx: mpsc::Sender<ClusterEvent>)
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    run_with(api, watcher::Config::default(), t, tx).await;
}

/// [`run`] with a list/watch configuration (a field selector keeps a cluster-wide watch small).
pub async fn run_with<K>(api: Api<K>, config: watcher::Config, t: Trimmer<K>, tx: mpsc::Sender<ClusterEvent>)
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let send = |change: Change| {
        let tx = tx.clone();
        async move { tx.send(ClusterEvent { at: Utc::now(), change }).await.is_ok() }
    };
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    let mut listing: Option<Vec<Object>> = None;
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(Event::Init) => {
                listing = Some(Vec::new());
                continue;
            }
            Ok(Event::InitApply(o)) => {
                listing.get_or_insert_with(Vec::new).push((t.trim)(&o));
                continue;
            }
            Ok(Event::InitDone) => Change::Listed(t.kind, listing.take().unwrap_or_default()),
            Ok(Event::Apply(o)) => Change::Applied((t.trim)(&o)),
            Ok(Event::Delete(o)) => Change::Deleted((t.id)(&o)),
            Err(e) => {
                listing = None;
                Change::Watch(t.kind, classify(&e))
            }
        };
        if !send(change).await {
            return;
        }
    }
}

/// Turns a watcher error into what the user should be told.
fn classify(e: &watcher::Error) -> WatchState {
    let api_status = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some((s.code, s.message.clone())),
        watcher::Error::WatchError(s) => Some((s.code, s.message.clone())),
        _ => None,
    };
    match api_status {
        Some((403, msg)) => WatchState::Forbidden(msg),
        // A list of a resource the server does not serve: the CRD is not installed.
        Some((404, _)) => WatchState::NotInstalled,
        _ => WatchState::Lost { since: Utc::now(), error: redact(&e.to_string()) },
    }
}

/// Errors may quote request URLs or headers; never let a bearer token through.
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut words = s.split(' ').peekable();
    while let Some(w) = words.next() {
        out.push_str(w);
        if w.eq_ignore_ascii_case("bearer") && words.peek().is_some() {
            words.next();
            out.push_str(" [redacted]");
        }
        if words.peek().is_some() {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_bearer_tokens() {
        assert_eq!(
            redact("401: Authorization: Bearer abc.def.ghi denied"),
            "401: Authorization: Bearer [redacted] denied"
        );
        assert_eq!(redact("connection refused"), "connection refused");
    }
}
