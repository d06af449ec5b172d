//! One watch loop per resource kind: list, then watch, with backoff on failure.
//!
//! Each API object is trimmed the moment it arrives and only the trimmed value goes
//! to the model, so no full objects are ever held here.

use std::fmt::Debug;

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::model::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};
use crate::redact::redact;

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
/// The initial list (and every relist) is sent as one `Listed`, so the model replaces
/// what it held instead of keeping objects deleted while away.
pub async fn run<K>(api: Api<K>, t: Trimmer<K>, tx: mpsc::Sender<ClusterEvent>)
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    run_with(api, None, t, tx).await;
}

/// Why a watch loop returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Nobody listens any more.
    Closed,
    /// The server does not serve this resource (any more): its CRD is absent.
    NotServed,
}

/// What a failed request means for the loop.
enum Failure {
    /// The resource version is too old (etcd compacted): list again.
    Gone,
    /// The API refuses this kind (forbidden, not served): say so, ask again later.
    Refused(WatchState),
    /// The server could not be reached or broke the connection: retry soon.
    Lost(String),
}

fn failure(e: &kube::Error) -> Failure {
    match e {
        kube::Error::Api(s) => status_failure(s),
        _ => Failure::Lost(redact(&e.to_string())),
    }
}

fn status_failure(s: &kube::core::Status) -> Failure {
    match s.code {
        410 => Failure::Gone,
        403 => Failure::Refused(WatchState::Forbidden(redact(&s.message))),
        // A list of a resource the server does not serve: the CRD is not installed.
        404 => Failure::Refused(WatchState::NotInstalled),
        _ => Failure::Lost(redact(&format!("{} ({})", s.message, s.code))),
    }
}

/// How often a refused or absent resource is asked for again (permissions granted, a CRD
/// installed while running).
pub const RECHECK: Duration = Duration::from_secs(5);

/// Waits between retries: short while the server is away, so a watch is back within
/// seconds of the server; longer when the API refused (nothing changes that quickly).
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(200);
    const MAX_LOST: Duration = Duration::from_secs(1);
    const REFUSED: Duration = RECHECK;

    fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    async fn wait(&mut self, f: &Failure) {
        let d = match f {
            Failure::Gone => Duration::ZERO,
            Failure::Refused(_) => Self::REFUSED,
            Failure::Lost(_) => {
                let d = self.next;
                self.next = (self.next * 2).min(Self::MAX_LOST);
                d
            }
        };
        tokio::time::sleep(d).await;
    }
}

/// Where the loop is: how the last request went, and since when the server has been away.
struct Link<'a> {
    kind: ResourceKind,
    tx: &'a mpsc::Sender<ClusterEvent>,
    /// When the current outage began (None: connected). Retries do not move it.
    outage: Option<chrono::DateTime<Utc>>,
}

impl Link<'_> {
    async fn send(&self, change: Change) -> bool {
        self.tx.send(ClusterEvent { at: Utc::now(), change }).await.is_ok()
    }

    /// Reports a failure; false when nobody listens any more.
    async fn failed(&mut self, f: &Failure) -> bool {
        let state = match f {
            Failure::Gone => return true,
            Failure::Refused(state) => {
                self.outage = None;
                state.clone()
            }
            Failure::Lost(error) => {
                let since = *self.outage.get_or_insert_with(Utc::now);
                WatchState::Lost { since, error: error.clone() }
            }
        };
        self.send(Change::Watch(self.kind, state)).await
    }

    /// The server answered: a watch resumed after an outage is live again.
    async fn reached(&mut self) -> bool {
        if self.outage.take().is_some() {
            return self.send(Change::Watch(self.kind, WatchState::Live)).await;
        }
        true
    }
}

/// Lists every page of `api`: the objects, trimmed, and the list's resource version.
async fn list_all<K>(
    api: &Api<K>,
    fields: Option<&str>,
    t: &Trimmer<K>,
) -> Result<(Vec<Object>, String), kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
{
    let mut objects = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(500);
        if let Some(f) = fields {
            lp = lp.fields(f);
        }
        if let Some(c) = &token {
            lp = lp.continue_token(c);
        }
        let page = api.list(&lp).await?;
        objects.extend(page.items.iter().map(|o| (t.trim)(o)));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => token = Some(c),
            None => return Ok((objects, page.metadata.resource_version.unwrap_or_default())),
        }
    }
}

/// [`run`] with a field selector (it keeps a cluster-wide watch small).
///
/// A list, then watches resumed from the last resource version seen: a watch the server
/// broke is started again without a relist, and the kind is Live again as soon as the
/// server accepts it (not only when an object happens to change). A 410 Gone (history
/// compacted) relists; while listing, the kind is Syncing.
pub async fn run_with<K>(api: Api<K>, fields: Option<&str>, t: Trimmer<K>, tx: mpsc::Sender<ClusterEvent>)
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    // A built-in kind is always served; a 404 is retried like any refusal.
    while watch_served(&api, fields, &t, &tx).await == Ended::NotServed {
        tokio::time::sleep(Backoff::REFUSED).await;
    }
}

/// [`run_with`] until the server stops serving the resource (a CRD removed, or never
/// installed) or the receiver is gone.
pub async fn watch_served<K>(
    api: &Api<K>,
    fields: Option<&str>,
    t: &Trimmer<K>,
    tx: &mpsc::Sender<ClusterEvent>,
) -> Ended
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let mut link = Link { kind: t.kind, tx, outage: None };
    let mut backoff = Backoff::new();
    'list: loop {
        if !link.send(Change::Watch(t.kind, WatchState::Syncing)).await {
            return Ended::Closed;
        }
        let mut version = loop {
            match list_all(api, fields, t).await {
                Ok((objects, version)) => {
                    link.outage = None;
                    backoff.reset();
                    if !link.send(Change::Listed(t.kind, objects)).await {
                        return Ended::Closed;
                    }
                    break version;
                }
                Err(e) => {
                    let f = failure(&e);
                    if !link.failed(&f).await {
                        return Ended::Closed;
                    }
                    if matches!(f, Failure::Refused(WatchState::NotInstalled)) {
                        return Ended::NotServed;
                    }
                    backoff.wait(&f).await;
                }
            }
        };
        loop {
            let mut wp = WatchParams::default().timeout(290);
            if let Some(f) = fields {
                wp = wp.fields(f);
            }
            let failed = match api.watch(&wp, &version).await {
                Ok(stream) => {
                    if !link.reached().await {
                        return Ended::Closed;
                    }
                    backoff.reset();
                    let mut stream = std::pin::pin!(stream);
                    let mut failed = None;
                    while let Some(item) = stream.next().await {
                        let change = match item {
                            Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                                version = o.resource_version().unwrap_or(version);
                                Change::Applied((t.trim)(&o))
                            }
                            Ok(WatchEvent::Deleted(o)) => {
                                version = o.resource_version().unwrap_or(version);
                                Change::Deleted((t.id)(&o))
                            }
                            Ok(WatchEvent::Bookmark(b)) => {
                                version = b.metadata.resource_version;
                                continue;
                            }
                            Ok(WatchEvent::Error(s)) => {
                                failed = Some(status_failure(&s));
                                break;
                            }
                            Err(e) => {
                                failed = Some(failure(&e));
                                break;
                            }
                        };
                        if !link.send(change).await {
                            return Ended::Closed;
                        }
                    }
                    // A stream that simply ends (the server's timeout, or a server that
                    // went away: the next request tells which) is watched again at once.
                    match failed {
                        Some(f) => f,
                        None => continue,
                    }
                }
                Err(e) => failure(&e),
            };
            if matches!(failed, Failure::Gone) {
                // Logged so a relist can be told from a resumed watch (tests/apiserver_outage.rs).
                tracing::info!(
                    kind = t.kind.label(),
                    "410 Gone: history compacted past the last version seen; listing again"
                );
                continue 'list;
            }
            if !link.failed(&failed).await {
                return Ended::Closed;
            }
            if matches!(failed, Failure::Refused(WatchState::NotInstalled)) {
                return Ended::NotServed;
            }
            backoff.wait(&failed).await;
            if matches!(failed, Failure::Refused(_)) {
                // Permissions or CRDs changed under a running watch: start from a list.
                continue 'list;
            }
        }
    }
}
