#!/usr/bin/env python3
"""Turns kind-config.yaml into the Node objects kind would register, as a JSON List.

Usage: kind_nodes.py KIND_CONFIG           (prints a v1 List of Nodes for kubectl apply)
       kind_nodes.py KIND_CONFIG --names   (prints the node names, one per line)

Only the subset of kind's format the seed uses is understood (name, nodes[].role,
nodes[].labels), with a tiny line parser so no PyYAML is needed. Nodes are named as
kind names them: <name>-control-plane, <name>-control-plane2, <name>-worker,
<name>-worker2, ...
"""
import json
import sys


def unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def strip_comment(line):
    # Good enough for kind configs: a '#' starting a comment is preceded by a space.
    if line.lstrip().startswith("#"):
        return ""
    cut = line.find(" #")
    return line if cut < 0 else line[:cut]


def parse(text):
    """Returns (cluster name, [(role, {label: value})])."""
    name = "kind"
    nodes = []
    section = None  # "nodes" while inside the top-level nodes: list
    in_labels = False
    labels_indent = 0
    for raw in text.splitlines():
        line = strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0 and not (section == "nodes" and body.startswith("- ")):
            in_labels = False
            key, _, value = body.partition(":")
            section = key.strip()
            if section == "name":
                name = unquote(value)
            continue
        if section != "nodes":
            continue
        if body.startswith("- "):
            in_labels = False
            nodes.append(["worker", {}])
            body = body[2:].strip()
            indent += 2
        if not nodes:
            continue
        if in_labels and indent > labels_indent:
            key, _, value = body.partition(":")
            nodes[-1][1][unquote(key)] = unquote(value)
            continue
        in_labels = False
        key, _, value = body.partition(":")
        key = key.strip()
        if key == "role":
            nodes[-1][0] = unquote(value)
        elif key == "labels" and not value.strip():
            in_labels = True
            labels_indent = indent
    return name, [(role, labels) for role, labels in nodes]


def node_names(name, nodes):
    counts = {}
    out = []
    for role, labels in nodes:
        counts[role] = counts.get(role, 0) + 1
        suffix = "" if counts[role] == 1 else str(counts[role])
        out.append((f"{name}-{role}{suffix}", role, labels))
    return out


def node_object(node_name, role, extra_labels):
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
    }
    taints = []
    if role == "control-plane":
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    labels.update(extra_labels)
    # Modest, kind-like capacity so scheduling and "pods: 110" behave as on a laptop.
    resources = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node_name,
            "labels": labels,
            # kwok manages the nodes that carry this annotation (see cluster.sh).
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": taints} if taints else {},
        "status": {"capacity": resources, "allocatable": dict(resources)},
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        name, nodes = parse(f.read())
    if not nodes:
        sys.exit(f"{sys.argv[1]}: no nodes found")
    named = node_names(name, nodes)
    if "--names" in sys.argv[2:]:
        for node_name, _, _ in named:
            print(node_name)
        return
    items = [node_object(n, role, labels) for n, role, labels in named]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
