#!/usr/bin/env python3
"""A minimal Git smart-HTTP server: every request goes to `git http-backend` (CGI).

Usage: git_server.py ROOT PORT      serves the bare repositories under ROOT read-only
                                    on http://127.0.0.1:PORT/<name>.git

Only the standard library (wsgiref, threaded) and git. Binds 127.0.0.1 unless a third argument names another address
(the kind network's gateway, so kind's pods can fetch).
"""
import os
import socketserver
import subprocess
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("git-server: %s %s\n" % (self.address_string(), fmt % args))


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def app_for(root):
    def app(environ, start_response):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": root,
            "GIT_HTTP_EXPORT_ALL": "1",
        }
        for key in ("REQUEST_METHOD", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
                    "PATH_INFO", "REMOTE_ADDR", "SERVER_PROTOCOL", "HTTP_GIT_PROTOCOL",
                    "HTTP_CONTENT_ENCODING"):
            value = environ.get(key)
            if value:
                env[key] = value
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.stderr:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
        head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = proc.stdout.partition(b"\n\n")
        status = "200 OK"
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name.strip(), value.strip()))
        if not sep:  # http-backend failed before writing headers
            status, headers, payload = "500 Internal Server Error", [], proc.stdout
        start_response(status, headers)
        return [payload]

    return app


def main():
    root, port = sys.argv[1], int(sys.argv[2])
    addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    server = make_server(addr, port, app_for(os.path.abspath(root)),
                         server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    sys.stderr.write("git-server: serving %s on http://%s:%d/\n" % (root, addr, port))
    server.serve_forever()


if __name__ == "__main__":
    main()
