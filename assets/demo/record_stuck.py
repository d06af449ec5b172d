"""Records the stuck-reconciliation demo: applies manifests/clusters/demo/stuck.yaml, waits
for the real kustomize-controller to give up on its health check, opens the explanation of
the waiting Kustomization in the real dashboard and saves it as an SVG screenshot. Run
through record-stuck.sh.

Usage: record_stuck.py --binary SHARDWATCH --cluster-sh CLUSTER_SH --kubeconfig FILE
                       --scenario FILE --out DIR [--cols 120] [--rows 34]
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record_failover import Session, log  # noqa: E402  (same folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--binary", "--cluster-sh", "--kubeconfig", "--scenario", "--out"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=34)
    ap.add_argument("--timeout", type=int, default=180)
    a = ap.parse_args()

    kubectl = [a.cluster_sh, "kubectl"]
    subprocess.run(kubectl + ["apply", "-f", a.scenario], check=True, stdout=subprocess.DEVNULL)
    log_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "shardwatch-demo.log")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color")
    s = Session([a.binary, "--kubeconfig", a.kubeconfig, "--log-file", log_file], env, a.cols, a.rows)
    try:
        s.wait_for(["demo-stuck", "HealthCheckFailed"], a.timeout)
        s.send("3")
        s.send("/demo-after")
        s.send("\r")
        s.send("e")
        s.wait_for(["cause: pod shardwatch-demo/never-scheduled-", "Unschedulable"], a.timeout)
        s.pump(1)
        path = os.path.join(a.out, "explain-stuck.svg")
        with open(path, "w") as f:
            f.write(s.svg())
        log(f"screenshot {path}")
        s.send("\x1b")
        s.quit()
    finally:
        s.close()
        subprocess.run(kubectl + ["delete", "--ignore-not-found", "-f", a.scenario], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
