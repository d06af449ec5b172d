"""Records a failover demo of shardwatch: the real dashboard in a pseudo-terminal while a
shard's worker node fails and comes back. Writes an asciinema v2 cast of the whole session
and an SVG screenshot at each step of the scenario. Run through record-failover.sh, which
prepares the cluster and this script's one dependency (pyte, a terminal emulator, from PyPI).

Usage: record_failover.py --binary SHARDWATCH --cluster-sh CLUSTER_SH --kubeconfig FILE
                          --out DIR [--node NODE] [--shard SHARD] [--cols 120] [--rows 34]
"""

import argparse
import codecs
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pyte

# The same look as the README's pictures (src/ui/picture.rs).
CELL_W, CELL_H = 8.4, 17.0
BACKGROUND, FOREGROUND = "#1d1f21", "#d8d8d8"
# pyte names the 16 ANSI colours; ratatui's Gray is ANSI white, DarkGray bright black.
NAMED = {
    "black": "#1d1f21", "red": "#cc6666", "green": "#8abe6a", "brown": "#e0c060",
    "blue": "#81a2be", "magenta": "#b294bb", "cyan": "#8abeb7", "white": "#b0b0b0",
    "brightblack": "#707880", "brightred": "#ff8080", "brightgreen": "#b5e890",
    "brightbrown": "#f0e080", "brightblue": "#a0c0f0", "brightmagenta": "#d0a0e0",
    "brightcyan": "#a0e0e0", "brightwhite": "#ffffff",
}


def colour(name, default):
    if name == "default":
        return default
    if name in NAMED:
        return NAMED[name]
    if len(name) == 6:
        return "#" + name
    return default


def log(msg):
    print(f"[record {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Session:
    """The dashboard in a pseudo-terminal, its screen emulated, every byte kept for the cast."""

    def __init__(self, argv, env, cols, rows):
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.events = []
        self.start = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def pump(self, seconds):
        """Reads the terminal for `seconds`, feeding the emulator and the cast."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.1))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                raise SystemExit("shardwatch exited; see its log")
            if not data:
                raise SystemExit("shardwatch closed the terminal")
            self.stream.feed(data)
            text = self.decoder.decode(data)
            if text:
                self.events.append([round(time.monotonic() - self.start, 3), "o", text])

    def text(self):
        return "\n".join(self.screen.display)

    def wait_for(self, words, timeout):
        """Waits until one screen line holds every word; returns that line."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.25)
            for line in self.screen.display:
                if all(w in line for w in words):
                    return line.strip()
        raise SystemExit(f"timed out after {timeout}s waiting for {words} on screen:\n{self.text()}")

    def send(self, keys):
        os.write(self.fd, keys.encode())
        self.pump(0.5)

    def svg(self):
        w, h = self.cols * CELL_W + 16, self.rows * CELL_H + 16
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
               f'viewBox="0 0 {w:.0f} {h:.0f}">',
               f'<rect width="100%" height="100%" rx="6" fill="{BACKGROUND}"/>',
               '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" '
               'xml:space="preserve">']
        for y in range(self.rows):
            row = self.screen.buffer[y]
            top = 8 + y * CELL_H
            cells = [row[x] for x in range(self.cols)]

            def bg_of(c):
                if c.reverse:
                    return colour(c.fg, FOREGROUND)
                return colour(c.bg, None)

            x = 0
            while x < self.cols:
                bg, start = bg_of(cells[x]), x
                while x < self.cols and bg_of(cells[x]) == bg:
                    x += 1
                if bg:
                    out.append(f'<rect x="{8 + start * CELL_W:.1f}" y="{top:.1f}" '
                               f'width="{(x - start) * CELL_W:.1f}" height="{CELL_H:.1f}" fill="{bg}"/>')
            base = top + CELL_H * 0.78
            for x, c in enumerate(cells):
                if not c.data.strip():
                    continue
                fg = colour(c.bg, BACKGROUND) if c.reverse else colour(c.fg, FOREGROUND)
                weight = ' font-weight="bold"' if c.bold else ""
                data = c.data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                out.append(f'<text x="{8 + x * CELL_W:.1f}" y="{base:.1f}" fill="{fg}"{weight}>{data}</text>')
        out.append("</g>\n</svg>\n")
        return "\n".join(out)

    def quit(self):
        """Presses q and reads until the dashboard has closed the terminal."""
        os.write(self.fd, b"q")
        try:
            self.pump(5)
        except SystemExit:
            return
        raise SystemExit("shardwatch did not exit on q")

    def close(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--cluster-sh", required=True)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--node", default="shardwatch-worker2")
    ap.add_argument("--shard", default="shard2")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=34)
    ap.add_argument("--timeout", type=int, default=180, help="seconds to wait for each step")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
    env.update(TERM="xterm-256color", COLUMNS=str(a.cols), LINES=str(a.rows))
    # The log stays out of the assets folder: it is not part of the demo.
    log_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "shardwatch-demo.log")
    argv = [a.binary, "--kubeconfig", a.kubeconfig, "--log-file", log_file]
    s = Session(argv, env, a.cols, a.rows)
    shots = []

    def shot(name, caption):
        path = os.path.join(a.out, f"{len(shots) + 1}-{name}.svg")
        with open(path, "w") as f:
            f.write(s.svg())
        shots.append((os.path.basename(path), caption))
        log(f"screenshot {path}: {caption}")

    def node(action):
        log(f"cluster.sh {action} {a.node}")
        subprocess.run([a.cluster_sh, action, a.node], check=True, stdout=subprocess.DEVNULL)

    try:
        s.wait_for(["HEALTHY"], a.timeout)
        s.wait_for([a.shard, "1/1"], a.timeout)
        s.pump(2)
        shot("healthy", "Every shard Ready, each on its own worker node.")

        t0 = time.monotonic()
        node("fail-node")
        # The header's reasons name the shard's controllers without a ready replica.
        s.wait_for([f"{a.shard}:", "0/1 ready"], a.timeout)
        s.pump(1)
        shot("node-failed", f"{a.node} stopped heartbeating: {a.shard} lost readiness and its leader.")
        s.send("5")
        s.wait_for([a.shard, "open"], a.timeout)
        shot("incident-open", "The failover timeline: the incident is open and names its cause.")
        s.send("3")
        s.pump(1)
        shot("objects-frozen", f"{a.shard}'s Flux objects wait: nobody reconciles them meanwhile.")

        # Required placement: after the toleration (30 s here) the pods are evicted and the
        # replacements stay Pending, because no other node carries the shard's label.
        s.send("2")
        s.pump(max(0, 45 - (time.monotonic() - t0)))
        shot("stays-down", "Required placement: the evicted pods have no other node, so the shard stays down.")

        node("restore-node")
        s.send("1")
        s.wait_for(["HEALTHY"], a.timeout)
        s.send("5")
        line = s.wait_for([a.shard, "recovered in"], a.timeout)
        s.pump(1)
        shot("recovered", "Back: " + line.strip("│ ") + ". The time runs from NotReady until every "
             "controller of the shard is led again: the new pods wait out the dead leaders' 35 s Leases.")
        s.quit()
    finally:
        s.close()

    header = {"version": 2, "width": a.cols, "height": a.rows, "timestamp": int(time.time()),
              "title": f"shardwatch: {a.node} fails and comes back", "env": {"TERM": "xterm-256color"}}
    cast = os.path.join(a.out, "failover.cast")
    with open(cast, "w") as f:
        f.write(json.dumps(header) + "\n")
        for e in s.events:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write("# Failover demo\n\nRecorded by `assets/demo/record-failover.sh` "
                f"({a.node}, {a.cols}×{a.rows}); play the whole session with "
                "`asciinema play assets/demo/failover.cast`.\n\n")
        for name, caption in shots:
            f.write(f"{caption}\n\n![{name}]({name})\n\n")
    log(f"wrote {cast} ({len(s.events)} frames) and {len(shots)} screenshots")


if __name__ == "__main__":
    main()
