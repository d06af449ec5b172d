//! One Flux controller process as the container of its Deployment's current pod: started
//! as that pod (its hostname, hence its Lease holder, is the pod's name), restarted with
//! back-off when it exits, stopped when the pod goes away or its node dies, moved when
//! the pod is replaced; each change reported on the pod as a kubelet reports it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use tokio::process::Child;
use tokio::task::JoinHandle;

use super::backoff::Backoff;
use super::cri_log::{self, Stream};
use super::pod_choice::ChosenPod;
use super::pod_event::{ContainerEvent, event_object};
use super::pod_report::{ContainerState, Report, Terminated, logs_object};
use super::process;
use super::service_account::{self, Credentials};

/// How long a stopped process may take to release its Lease before it is SIGKILLed.
const GRACE: Duration = Duration::from_secs(20);
/// Events kept for the API while it cannot be reached, at most.
const MAX_PENDING_EVENTS: usize = 20;
/// Field manager of everything the kubelet writes.
pub const MANAGER: &str = "shardwatch-kubelet";

/// What runs for one Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerSpec {
    /// The Deployment's name (its pods carry `app=<name>`).
    pub name: String,
    /// The controller binary.
    pub binary: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Folders it needs before it starts (source-controller's storage).
    pub dirs: Vec<PathBuf>,
}

/// What every container needs from the kubelet.
pub struct Context {
    /// The API client.
    pub client: kube::Client,
    /// The Flux namespace.
    pub namespace: String,
    /// The admin kubeconfig, whose server and CA the pods' own kubeconfigs copy.
    pub kubeconfig: PathBuf,
    /// Where each pod's ServiceAccount token and kubeconfig go.
    pub credentials_dir: PathBuf,
    /// Where the pods' log files go.
    pub log_dir: PathBuf,
}

/// The cluster as last read: pods of the Flux namespace and the live nodes.
pub struct View {
    /// Pods of the Flux namespace.
    pub pods: Vec<Pod>,
    /// Nodes whose kubelet is alive.
    pub alive: HashSet<String>,
}

struct Run {
    child: Child,
    pid: u32,
    started: Instant,
    started_at: DateTime<Utc>,
}

/// One controller process and its pod.
pub struct Container {
    spec: ControllerSpec,
    pod: Option<ChosenPod>,
    run: Option<Run>,
    terminating: Option<JoinHandle<()>>,
    restarts: u32,
    backoff: Backoff,
    retry_at: Option<Instant>,
    last: Option<Terminated>,
    report: Option<Report>,
    logs_pending: bool,
    credentials: Option<Credentials>,
    /// Events not recorded yet, with the pod and the time they are about.
    events: Vec<(ContainerEvent, ChosenPod, DateTime<Utc>)>,
}

impl Container {
    /// A container with no pod yet.
    pub fn new(spec: ControllerSpec) -> Self {
        Self {
            spec,
            pod: None,
            run: None,
            terminating: None,
            restarts: 0,
            backoff: Backoff::default(),
            retry_at: None,
            last: None,
            report: None,
            logs_pending: false,
            credentials: None,
            events: Vec::new(),
        }
    }

    /// One line for the status file: name, running or not, pid, pod, restarts.
    pub fn status_line(&self) -> String {
        match (&self.run, &self.pod) {
            (Some(run), Some(pod)) => format!(
                "{:<28} running pid {:<7} pod {} restarts {}",
                self.spec.name, run.pid, pod.name, self.restarts
            ),
            (None, Some(pod)) if self.retry_at.is_some() => {
                format!("{:<28} back-off pod {} restarts {}", self.spec.name, pod.name, self.restarts)
            }
            _ => format!("{:<28} stopped", self.spec.name),
        }
    }

    /// Whether its process runs.
    pub fn running(&self) -> bool {
        self.run.is_some()
    }

    /// One round: notices an exit, follows the pod (when the cluster could be read),
    /// starts the process when due, and reports. Returns what happened, for the log.
    pub async fn sync(&mut self, view: Option<&View>, ctx: &Context, now: Instant) -> Vec<String> {
        let mut said = Vec::new();
        self.notice_exit(now, &mut said);
        if let Some(view) = view {
            let wanted = super::pod_choice::choose(&view.pods, &view.alive, &self.spec.name);
            if wanted.as_ref().map(|p| &p.uid) != self.pod.as_ref().map(|p| &p.uid) {
                let node_died = self.pod.as_ref().is_some_and(|p| !view.alive.contains(&p.node));
                self.stop(node_died, &mut said);
                if let Some(p) = &wanted {
                    said.push(format!("{} runs as pod {} on {}", self.spec.name, p.name, p.node));
                }
                self.restarts = wanted.as_ref().map_or(0, |p| p.restarts);
                self.pod = wanted;
                self.backoff.reset();
                self.retry_at = None;
                self.last = None;
                self.report = None;
                self.credentials = None;
            }
        }
        self.renew_credentials(ctx, &mut said).await;
        let terminated = self.terminating.as_ref().is_none_or(JoinHandle::is_finished);
        let due = self.retry_at.is_none_or(|t| now >= t);
        if self.run.is_none() && self.pod.is_some() && self.credentials.is_some() && terminated && due {
            self.start(ctx, now, &mut said);
        }
        self.send(ctx, &mut said).await;
        said
    }

    /// Issues the pod's token when it has none or it is due; keeps the old one (still
    /// valid for a fifth of its lifetime) when the API cannot be reached.
    async fn renew_credentials(&mut self, ctx: &Context, said: &mut Vec<String>) {
        let Some(pod) = &self.pod else { return };
        if self.credentials.as_ref().is_some_and(|c| !service_account::due(c, Utc::now())) {
            return;
        }
        let dir = ctx.credentials_dir.join(format!("{}_{}", ctx.namespace, pod.name));
        let issued = service_account::issue(
            &ctx.client,
            &ctx.namespace,
            &pod.service_account,
            &pod.name,
            &pod.uid,
            &ctx.kubeconfig,
            &dir,
        )
        .await;
        match issued {
            Ok(c) => {
                if self.credentials.is_none() {
                    said.push(format!(
                        "{} authenticates as ServiceAccount {}/{}",
                        self.spec.name, ctx.namespace, pod.service_account
                    ));
                }
                self.credentials = Some(c);
            }
            Err(e) if self.credentials.is_none() => {
                said.push(format!("{}: no credentials yet: {e}", self.spec.name))
            }
            Err(_) => {}
        }
    }

    fn notice_exit(&mut self, now: Instant, said: &mut Vec<String>) {
        let Some(run) = &mut self.run else { return };
        let Ok(Some(status)) = run.child.try_wait() else { return };
        use std::os::unix::process::ExitStatusExt;
        let signal = status.signal();
        let exit_code = status.code().unwrap_or_else(|| 128 + signal.unwrap_or(0));
        let ran_for = now.duration_since(run.started);
        let delay = self.backoff.next(ran_for);
        self.last =
            Some(Terminated { exit_code, signal, started_at: run.started_at, finished_at: Utc::now() });
        self.retry_at = Some(now + delay);
        said.push(format!(
            "{} (pid {}) exited with {status} after {}s; back-off {}s",
            self.spec.name,
            run.pid,
            ran_for.as_secs(),
            delay.as_secs()
        ));
        self.run = None;
        if let Some(pod) = &self.pod {
            self.events.push((ContainerEvent::BackOff(delay.as_secs()), pod.clone(), Utc::now()));
        }
        self.report = self.pod.as_ref().map(|p| Report {
            container: p.container.clone(),
            image: p.image.clone(),
            state: ContainerState::BackOff(delay.as_secs()),
            restarts: self.restarts,
            last: self.last.clone(),
        });
    }

    /// Stops the process: SIGKILL when its node died (a dead node releases nothing),
    /// else SIGTERM, and SIGKILL after the grace period.
    pub fn stop(&mut self, kill: bool, said: &mut Vec<String>) {
        let Some(mut run) = self.run.take() else { return };
        let name = self.spec.name.clone();
        if let Some(pod) = &self.pod {
            let why = if kill { "its node died" } else { "its pod went away" };
            self.events.push((ContainerEvent::Killing(why.into()), pod.clone(), Utc::now()));
        }
        if kill {
            process::signal_group(run.pid, rustix::process::Signal::KILL);
            said.push(format!("{name} (pid {}) killed: its node died", run.pid));
        } else {
            process::signal_group(run.pid, rustix::process::Signal::TERM);
            said.push(format!("{name} (pid {}) stopping: its pod went away", run.pid));
        }
        self.terminating = Some(tokio::spawn(async move {
            if tokio::time::timeout(GRACE, run.child.wait()).await.is_err() {
                process::signal_group(run.pid, rustix::process::Signal::KILL);
                let _ = run.child.wait().await;
            }
        }));
    }

    /// Waits until a stopping process is gone.
    pub async fn stopped(&mut self) {
        if let Some(t) = self.terminating.take() {
            let _ = t.await;
        }
    }

    fn start(&mut self, ctx: &Context, now: Instant, said: &mut Vec<String>) {
        let Some(pod) = self.pod.clone() else { return };
        let restarting = self.retry_at.take().is_some();
        if restarting {
            self.restarts += 1;
        }
        let Some(credentials) = &self.credentials else { return };
        let log = self.log_file(ctx, &pod, self.restarts);
        match spawn(&self.spec, ctx, &credentials.kubeconfig, &pod.name, log) {
            Ok(child) => {
                let pid = child.id().unwrap_or_default();
                let started_at = Utc::now();
                said.push(format!(
                    "{} started as pod {} (pid {pid}, restarts {})",
                    self.spec.name, pod.name, self.restarts
                ));
                self.run = Some(Run { child, pid, started: now, started_at });
                self.events.push((ContainerEvent::Started, pod.clone(), started_at));
                self.report = Some(Report {
                    container: pod.container.clone(),
                    image: pod.image.clone(),
                    state: ContainerState::Running(started_at),
                    restarts: self.restarts,
                    last: self.last.clone(),
                });
                self.logs_pending = true;
            }
            Err(e) => {
                let delay = self.backoff.next(Duration::ZERO);
                self.retry_at = Some(now + delay);
                said.push(format!("{} could not start: {e}; back-off {}s", self.spec.name, delay.as_secs()));
            }
        }
    }

    fn log_file(&self, ctx: &Context, pod: &ChosenPod, run: u32) -> PathBuf {
        cri_log::path(&ctx.log_dir, &ctx.namespace, &pod.name, &pod.uid, &pod.container, run)
    }

    /// Sends the pending status and Logs object; kept for the next round if the API
    /// cannot be reached (during an API server outage the processes run on regardless).
    async fn send(&mut self, ctx: &Context, said: &mut Vec<String>) {
        self.record_events(ctx).await;
        let Some(pod) = self.pod.clone() else { return };
        if let Some(report) = &self.report {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
            let patch = report.status_patch(&pod.name, Utc::now());
            match pods.patch_status(&pod.name, &PatchParams::default(), &Patch::Strategic(patch)).await {
                Ok(_) => self.report = None,
                Err(kube::Error::Api(e)) if e.code == 404 => self.report = None,
                Err(_) => {}
            }
        }
        if self.logs_pending {
            let current = self.log_file(ctx, &pod, self.restarts);
            let previous = (self.restarts > 0).then(|| self.log_file(ctx, &pod, self.restarts - 1));
            let object = logs_object(
                &ctx.namespace,
                &pod.name,
                &pod.uid,
                &pod.container,
                &current.to_string_lossy(),
                previous.as_ref().map(|p| p.to_string_lossy()).as_deref(),
            );
            let resource = ApiResource {
                group: "kwok.x-k8s.io".into(),
                version: "v1alpha1".into(),
                api_version: "kwok.x-k8s.io/v1alpha1".into(),
                kind: "Logs".into(),
                plural: "logs".into(),
            };
            let logs: Api<DynamicObject> =
                Api::namespaced_with(ctx.client.clone(), &ctx.namespace, &resource);
            let params = PatchParams::apply(MANAGER).force();
            match logs.patch(&pod.name, &params, &Patch::Apply(object)).await {
                Ok(_) => self.logs_pending = false,
                Err(kube::Error::Api(e)) => {
                    // No Logs kind (a cluster created before kwok served logs) or no pod: give up.
                    said.push(format!(
                        "{}: no Logs object for pod {}: {}",
                        self.spec.name, pod.name, e.message
                    ));
                    self.logs_pending = false;
                }
                Err(_) => {}
            }
        }
    }
}

impl Container {
    /// Records the pending Events, oldest first; what the API refuses is dropped (a pod
    /// gone meanwhile), what cannot reach it is kept for the next round.
    async fn record_events(&mut self, ctx: &Context) {
        // A long API server outage must not pile them up: the newest tell the story.
        let excess = self.events.len().saturating_sub(MAX_PENDING_EVENTS);
        self.events.drain(..excess);
        let events: Api<Event> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
        while let Some((event, pod, at)) = self.events.first().cloned() {
            let object: Event = match serde_json::from_value(event_object(&event, &pod, &ctx.namespace, at)) {
                Ok(e) => e,
                Err(_) => {
                    self.events.remove(0);
                    continue;
                }
            };
            match events.create(&PostParams::default(), &object).await {
                Ok(_) | Err(kube::Error::Api(_)) => {
                    self.events.remove(0);
                }
                Err(_) => return,
            }
        }
    }
}

/// The shell run inside the new namespaces: the pod's name as hostname, and the one file
/// controller-runtime reads its namespace from out of a cluster (Flux has no flag for it)
/// on a private tmpfs; then the controller itself, in place (same pid).
const IN_NAMESPACES: &str = "hostname \"$HOLDER\" && \
    mount -t tmpfs -o size=64k,mode=755 shardwatch-flux /run && \
    mkdir -p /run/secrets/kubernetes.io/serviceaccount && \
    printf %s \"$RUNTIME_NAMESPACE\" >/run/secrets/kubernetes.io/serviceaccount/namespace && \
    exec \"$0\" \"$@\"";

fn spawn(
    spec: &ControllerSpec,
    ctx: &Context,
    kubeconfig: &std::path::Path,
    pod: &str,
    log: PathBuf,
) -> std::io::Result<Child> {
    for dir in spec.dirs.iter().map(PathBuf::as_path).chain(log.parent()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut cmd = process::dying_with_parent("unshare");
    cmd.args(["--mount", "--uts", "--propagation", "private", "sh", "-c", IN_NAMESPACES])
        .arg(&spec.binary)
        .args(&spec.args)
        .env("KUBECONFIG", kubeconfig)
        .env("RUNTIME_NAMESPACE", &ctx.namespace)
        .env("HOLDER", pod)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    if let Some(out) = child.stdout.take() {
        tokio::spawn(cri_log::pump(out, Stream::Stdout, log.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(cri_log::pump(err, Stream::Stderr, log));
    }
    Ok(child)
}
