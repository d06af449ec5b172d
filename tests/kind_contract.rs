//! Contract tests of the kind target: what shardwatch asks `kind` and `docker`, and how it
//! reads their answers. This machine has no Docker engine, so stand-in `kind` and `docker`
//! scripts record their arguments and answer with the outputs and exit codes the real
//! tools give (each answer says where it comes from). They check the contract only, not
//! that a kind cluster works: see the README's kind section for what has run for real.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use shardwatch::bootstrap::kind;
use shardwatch::kind_config::KindConfig;
use shardwatch::kind_host::{NodeVerb, Tools};

/// One contract test at a time: a script being written while another test forks a child
/// can make exec fail with "Text file busy" (the child briefly holds the write handle).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A folder with stand-in `kind` and `docker` scripts and the log they append to.
struct StandIns {
    dir: PathBuf,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl StandIns {
    /// `kind_body` and `docker_body` are `case "$*" in ... esac` arms (sh syntax).
    fn new(test: &str, kind_body: &str, docker_body: &str) -> StandIns {
        let serial = SERIAL.try_lock();
        let serial = match serial {
            Ok(guard) => guard,
            Err(_) => futures::executor::block_on(SERIAL.lock()),
        };
        let dir = std::env::temp_dir().join(format!("sw-kind-contract-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, body) in [("kind", kind_body), ("docker", docker_body)] {
            let script = format!(
                "#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> '{log}'\ncase \"$*\" in\n{body}\n*) echo \"stand-in {name}: unexpected: $*\" >&2; exit 99 ;;\nesac\n",
                log = dir.join("calls.log").display()
            );
            let path = dir.join(name);
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        StandIns { dir, _serial: serial }
    }

    fn tools(&self) -> Tools {
        Tools::in_dir(&self.dir)
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }
}

impl Drop for StandIns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What `kind get kubeconfig --name shardwatch` prints: a kubeconfig whose context is
/// `kind-shardwatch` (kind pkg/cluster/internal/kubeconfig: contexts are `kind-<name>`).
const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: kind-shardwatch\n  cluster: {server: https://127.0.0.1:41234}\nusers:\n- name: kind-shardwatch\n  user: {client-key-data: c2VjcmV0}\ncontexts:\n- name: kind-shardwatch\n  context: {cluster: kind-shardwatch, user: kind-shardwatch}\ncurrent-context: kind-shardwatch\n";

fn config_file(dir: &Path) -> PathBuf {
    let file = dir.join("kind-config.yaml");
    std::fs::write(&file, shardwatch::kind_config::BUILTIN).unwrap();
    file
}

#[tokio::test]
async fn a_new_cluster_is_created_with_shardwatchs_own_kubeconfig_written_0600() {
    let kubeconfig = KUBECONFIG.replace('\n', "\\n");
    let stand = StandIns::new(
        "create",
        // kind get clusters with none: "No kind clusters found." is logged to stderr, exit 0
        // (kind pkg/cmd/kind/get/clusters/clusters.go).
        &format!(
            "'get clusters') echo 'No kind clusters found.' >&2 ;;\n\
             'create cluster '*) ;;\n\
             'get kubeconfig --name shardwatch') printf '{kubeconfig}' ;;"
        ),
        "",
    );
    let file = config_file(&stand.dir);
    let mut said = Vec::new();
    let written = kind::create(&stand.tools(), &file, &KindConfig::builtin(), &stand.cache(), &mut |l| {
        said.push(l.to_string())
    })
    .await
    .unwrap();
    assert_eq!(written, stand.cache().join("kind-shardwatch.kubeconfig"));
    assert_eq!(
        stand.calls(),
        [
            "kind get clusters".to_string(),
            // --kubeconfig: kind writes only there, never merging into the user's kubeconfig
            // nor switching its current context (kind create cluster --help).
            format!(
                "kind create cluster --name shardwatch --config {} --kubeconfig {}",
                file.display(),
                written.display()
            ),
            "kind get kubeconfig --name shardwatch".to_string(),
        ]
    );
    assert_eq!(std::fs::read_to_string(&written).unwrap(), KUBECONFIG);
    let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file holds the admin key");
    assert!(said.iter().any(|l| l.contains("creating kind cluster shardwatch")), "{said:?}");
}

#[tokio::test]
async fn an_existing_cluster_with_stopped_nodes_gets_them_started_not_recreated() {
    let kubeconfig = KUBECONFIG.replace('\n', "\\n");
    let stand = StandIns::new(
        "stopped",
        // A stopped cluster is still listed: kind lists containers with `docker ps -a`
        // (kind pkg/cluster/internal/providers/docker/provider.go, ListClusters).
        &format!(
            "'get clusters') echo shardwatch ;;\n\
             'get kubeconfig --name shardwatch') printf '{kubeconfig}' ;;"
        ),
        // docker ps prints one line per container in the --format given; State is a word
        // such as running or exited (docker ps --format docs: .State).
        "'ps -a --filter label=io.x-k8s.kind.cluster=shardwatch --format {{.Names}}\t{{.State}}') \
         printf 'shardwatch-control-plane\\trunning\\nshardwatch-worker\\trunning\\nshardwatch-worker2\\texited\\nshardwatch-worker3\\trunning\\n' ;;\n\
         'start shardwatch-worker2') echo shardwatch-worker2 ;;",
    );
    let file = config_file(&stand.dir);
    let mut said = Vec::new();
    kind::create(&stand.tools(), &file, &KindConfig::builtin(), &stand.cache(), &mut |l| {
        said.push(l.to_string())
    })
    .await
    .unwrap();
    let calls = stand.calls();
    assert_eq!(calls[0], "kind get clusters");
    assert_eq!(
        calls[1],
        "docker ps -a --filter label=io.x-k8s.kind.cluster=shardwatch --format {{.Names}}\t{{.State}}"
    );
    assert_eq!(calls[2], "docker start shardwatch-worker2");
    assert_eq!(calls[3], "kind get kubeconfig --name shardwatch");
    assert!(!calls.iter().any(|c| c.starts_with("kind create")), "{calls:?}");
    assert!(said.iter().any(|l| l == "starting stopped node containers: shardwatch-worker2"), "{said:?}");
}

#[tokio::test]
async fn stopped_nodes_that_will_not_start_say_what_to_do() {
    let stand = StandIns::new(
        "nostart",
        "'get clusters') echo shardwatch ;;",
        "'ps -a '*) printf 'shardwatch-control-plane\\texited\\n' ;;\n\
         'start shardwatch-control-plane') echo 'Error response from daemon: network kind not found' >&2; \
         echo 'Error: failed to start containers: shardwatch-control-plane' >&2; exit 1 ;;",
    );
    let file = config_file(&stand.dir);
    let err = kind::create(&stand.tools(), &file, &KindConfig::builtin(), &stand.cache(), &mut |_| {})
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("kind delete cluster --name shardwatch"), "{text}");
    assert!(text.contains("network kind not found"), "docker's own words are kept: {text}");
}

#[tokio::test]
async fn docker_info_errors_are_said_not_hidden() {
    // What the Docker CLI prints when the user may not open the socket, exit 1.
    let stand = StandIns::new(
        "info",
        "",
        "'info --format {{.ServerVersion}}') echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.47/info\": dial unix /var/run/docker.sock: connect: permission denied' >&2; exit 1 ;;",
    );
    let why = stand.tools().engine().await.unwrap_err();
    assert!(why.starts_with("`docker info` failed: permission denied while trying to connect"), "{why}");
    drop(stand);
    let ok = StandIns::new("info-ok", "", "'info --format {{.ServerVersion}}') echo 27.3.1 ;;");
    assert_eq!(ok.tools().engine().await, Ok(()));
}

#[tokio::test]
async fn a_node_container_is_stopped_only_when_it_is_a_worker_of_the_connected_cluster() {
    // docker inspect --format with Go templates; a missing label prints "<no value>".
    let stand = StandIns::new(
        "node",
        "",
        "'inspect --type container --format '*' shardwatch-worker2') printf 'shardwatch\\tworker\\n' ;;\n\
         'inspect --type container --format '*' shardwatch-control-plane') printf 'shardwatch\\tcontrol-plane\\n' ;;\n\
         'inspect --type container --format '*' other-worker') printf 'other\\tworker\\n' ;;\n\
         'inspect --type container --format '*' postgres') printf '<no value>\\t<no value>\\n' ;;\n\
         'inspect --type container --format '*' nothing') echo 'Error: No such container: nothing' >&2; exit 1 ;;\n\
         'stop shardwatch-worker2'|'start shardwatch-worker2'|'start shardwatch-control-plane') echo \"$2\" ;;",
    );
    let tools = stand.tools();
    tools.node_container(NodeVerb::Stop, "shardwatch-worker2", "shardwatch").await.unwrap();
    tools.node_container(NodeVerb::Start, "shardwatch-worker2", "shardwatch").await.unwrap();
    let cp =
        tools.node_container(NodeVerb::Stop, "shardwatch-control-plane", "shardwatch").await.unwrap_err();
    assert!(format!("{cp:#}").contains("it is the control plane"), "{cp:#}");
    // Starting a stopped control plane needs no API, and is allowed.
    tools.node_container(NodeVerb::Start, "shardwatch-control-plane", "shardwatch").await.unwrap();
    let other = tools.node_container(NodeVerb::Stop, "other-worker", "shardwatch").await.unwrap_err();
    assert!(
        format!("{other:#}")
            .contains("belongs to kind cluster other, not to the connected kind cluster shardwatch")
    );
    let plain = tools.node_container(NodeVerb::Stop, "postgres", "shardwatch").await.unwrap_err();
    assert!(format!("{plain:#}").contains("belongs to no kind cluster"));
    let none = tools.node_container(NodeVerb::Stop, "nothing", "shardwatch").await.unwrap_err();
    assert!(format!("{none:#}").contains("No such container"), "{none:#}");
    let stops: Vec<String> = stand.calls().into_iter().filter(|c| !c.starts_with("docker inspect")).collect();
    assert_eq!(
        stops,
        [
            "docker stop shardwatch-worker2",
            "docker start shardwatch-worker2",
            "docker start shardwatch-control-plane"
        ]
    );
}

#[tokio::test]
async fn delete_names_shardwatchs_kubeconfig_and_the_gateway_is_the_kind_networks_ipv4() {
    let stand = StandIns::new(
        "delete",
        "'delete cluster --name shardwatch --kubeconfig '*) echo 'Deleting cluster \"shardwatch\" ...' >&2 ;;",
        // docker network inspect kind: an IPv4 and an IPv6 subnet (kind creates both when
        // IPv6 is available: pkg/cluster/internal/providers/docker/network.go).
        "'network inspect kind --format {{range .IPAM.Config}}{{.Gateway}} {{end}}') echo 'fc00:f853:ccd:e793::1 172.18.0.1 ' ;;",
    );
    let cache = stand.cache();
    std::fs::create_dir_all(&cache).unwrap();
    let ours = cache.join("kind-shardwatch.kubeconfig");
    std::fs::write(&ours, KUBECONFIG).unwrap();
    kind::delete(&stand.tools(), "shardwatch", &cache).await.unwrap();
    assert_eq!(
        stand.calls(),
        [format!("kind delete cluster --name shardwatch --kubeconfig {}", ours.display())]
    );
    assert!(!ours.exists());
    assert_eq!(stand.tools().gateway().await.unwrap(), "172.18.0.1");
}

#[tokio::test]
async fn quitting_up_while_kind_create_runs_kills_kind() {
    let stand = StandIns::new(
        "kill",
        &format!(
            "'get clusters') ;;\n'create cluster '*) echo $$ > '{}'; exec sleep 60 ;;",
            std::env::temp_dir().join(format!("sw-kind-contract-kill-{}.pid", std::process::id())).display()
        ),
        "",
    );
    let pid_file = std::env::temp_dir().join(format!("sw-kind-contract-kill-{}.pid", std::process::id()));
    let file = config_file(&stand.dir);
    let tools = stand.tools();
    let config = KindConfig::builtin();
    let cache = stand.cache();
    let mut quiet = |_: &str| {};
    let create = kind::create(&tools, &file, &config, &cache, &mut quiet);
    // The progress screen drops `up`'s future when q is pressed.
    let timed_out = tokio::time::timeout(std::time::Duration::from_secs(2), create).await;
    assert!(timed_out.is_err(), "the stand-in kind create runs for a minute");
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
    let _ = std::fs::remove_file(&pid_file);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
    {
        assert!(std::time::Instant::now() < deadline, "kind create (pid {pid}) outlived the dropped `up`");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
