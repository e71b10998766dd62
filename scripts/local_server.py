"""Run all of Chorus on this machine: DynamoDB Local, a loopback moto server for S3, the
Chalice app on Chalice's own local server, the lock sweep every minute, and the built
frontend.

Stopping: Ctrl-C, SIGTERM, SIGHUP, SIGQUIT (and any other signal that would end the process
and can be caught) stop it in order: no new requests, the ones in progress finish (up to
10 s), then DynamoDB Local gets SIGTERM. A kill -9 takes DynamoDB Local down with it
(parent-death signal), and loses no acknowledged write: with --data-dir, a transaction is
answered only once DynamoDB Local has committed it (dynamodb_local.commit_before_answering).

    python scripts/local_server.py [--host 127.0.0.1] [--port 8000] [--frontend-port 8080]
        [--data-dir .chorus] [--in-memory] [--no-frontend]

CHORUS_SWEEP_SECONDS (default 60) sets how often the lock sweep runs (tests use a few seconds).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

SWEEP_SECONDS = 60
DRAIN_SECONDS = 10  # how long requests in progress may take to finish when stopping
# every signal whose default action ends the process and that can be caught
STOP_SIGNALS = tuple(getattr(signal, name) for name in (
    "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM",
    "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPWR") if hasattr(signal, name))


def sweep_seconds() -> float:
    return float(os.environ.get("CHORUS_SWEEP_SECONDS") or SWEEP_SECONDS)


class Gate:
    """Requests in progress; once closed, new requests are refused (503) and `drain` waits for
    the ones in progress."""

    def __init__(self):
        self._lock = threading.Condition()
        self._inside = 0
        self.closed = False

    def enter(self) -> bool:
        with self._lock:
            if self.closed:
                return False
            self._inside += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1
            self._lock.notify_all()

    def close(self) -> None:
        with self._lock:
            self.closed = True

    def drain(self, seconds: float) -> int:
        """Wait until no request is in progress (at most `seconds`); the number still left."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while self._inside and time.monotonic() < deadline:
                self._lock.wait(max(0.0, deadline - time.monotonic()))
            return self._inside


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run Chorus locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--frontend-port", type=int, default=8080)
    parser.add_argument("--data-dir", default=str(ROOT / ".chorus"))
    parser.add_argument("--in-memory", action="store_true")
    parser.add_argument("--no-frontend", action="store_true")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("the local server listens on loopback only (SPEC §10): use 127.0.0.1")
    return args


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_s3() -> str:
    """moto's server, on loopback only, standing in for S3 (export files)."""
    from moto.server import ThreadedMotoServer

    port = dynamodb_local.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return f"http://127.0.0.1:{port}"


def make_api_server(host: str, port: int, gate: Gate | None = None):
    """Chalice's local server, with SPEC §5 envelopes for what the gateway itself answers."""
    from chalice.config import Config
    from chalice.local import (
        ChaliceRequestHandler,
        CustomLocalChalice,
        LocalChalice,
        LocalDevServer,
        ThreadedHTTPServer,
    )

    from app import app

    # what `chalice local` does: app.current_request becomes per thread (the server is
    # threaded; without this, concurrent requests would read each other's bodies)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    from chalicelib.api.http import chosen_request_id, dumps, error_body, _request_id

    gate = gate or Gate()

    class Handler(ChaliceRequestHandler):
        def _generic_handle(self) -> None:
            if not gate.enter():  # stopping: finish what is in progress, start nothing new
                self.close_connection = True
                _request_id.set(chosen_request_id({k.lower(): v for k, v in
                                                   self.headers.items()}))
                body = dumps(error_body("UNAVAILABLE", "The server is stopping.")).encode()
                self._send_http_response(503, {"X-Request-ID": _request_id.get(),
                                               "Content-Type": "application/json",
                                               "Connection": "close"}, body)
                return
            try:
                super()._generic_handle()
            finally:
                gate.leave()

        def _send_error_response(self, error) -> None:
            # no route matched: API Gateway's 403 becomes the SPEC's 404
            _request_id.set(chosen_request_id({k.lower(): v for k, v in self.headers.items()}))
            body = dumps(error_body("NOT_FOUND", "No such route.")).encode()
            self._send_http_response(404, {"X-Request-ID": _request_id.get(),
                                           "Content-Type": "application/json"}, body)

        def _not_an_api_method(self) -> None:
            """A method no route takes. A known route answers the SPEC's 405
            (with Allow), an unknown one 404, both in the envelope, not http.server's HTML."""
            from chalice.local import RouteMatcher

            length = int(self.headers.get("Content-Length") or 0)
            if length:  # read the body, else it would be taken for the next request
                self.rfile.read(length)
            _request_id.set(chosen_request_id({k.lower(): v for k, v in self.headers.items()}))
            try:
                route = RouteMatcher(list(app.routes)).match_route(self.path).route
            except ValueError:
                self._send_error_response(None)
                return
            methods = sorted(method for method, entry in app.routes[route].items()
                             if not entry.view_name.startswith(("not_allowed_", "preflight_")))
            body = dumps(error_body("METHOD_NOT_ALLOWED",
                                    "This route does not accept that method.",
                                    {"allowed": methods}))
            self._send_http_response(405, {"X-Request-ID": _request_id.get(),
                                           "Allow": ", ".join(methods + ["OPTIONS"]),
                                           "Content-Type": "application/json"}, body.encode())

        def __getattr__(self, name: str):
            # TRACE, CONNECT, QUERY or any other verb: http.server would answer 501 in HTML
            if name.startswith("do_"):
                return self._not_an_api_method
            raise AttributeError(name)

        def _send_http_response_with_body(self, code, headers, body) -> None:
            if self.command == "HEAD":
                self.send_response(code)
                headers.pop("Content-Type", None)
                self._send_headers({**headers, "Content-Length": "0"})
                return
            super()._send_http_response_with_body(code, headers, body)

        def log_message(self, format, *args) -> None:  # the app logs one JSON line instead
            pass

    class Server(ThreadedHTTPServer):
        request_queue_size = 128  # a swarm of agents connects at once

    return LocalDevServer(app, Config.create(lambda_timeout=900), host, port,
                          handler_cls=Handler, server_cls=Server)


def make_frontend_server(host: str, port: int, api_url: str):
    dist = ROOT / "frontend" / "dist"
    if not (dist / "index.html").exists():
        print("frontend/dist is missing (make frontend); serving the API only", flush=True)
        return None
    config_body = json.dumps({"apiBaseUrl": api_url}).encode()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/config.json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(config_body)))
                self.end_headers()
                self.wfile.write(config_body)
                return
            if not (dist / path.lstrip("/")).is_file():
                self.path = "/index.html"  # single-page app: every route is index.html
            super().do_GET()

        def log_message(self, format, *args) -> None:
            pass

    return ThreadingHTTPServer((host, port), partial(Handler, directory=str(dist)))


def sweep_forever(stop: threading.Event, gate: Gate) -> None:
    from chalicelib.services.maintenance import run_maintenance

    while not stop.wait(sweep_seconds()):
        if not gate.enter():  # stopping
            return
        try:
            run_maintenance()
        except Exception as error:  # keep sweeping; the next minute may succeed
            print(json.dumps({"event": "sweep_failed", "error": str(error)[:300]}), flush=True)
        finally:
            gate.leave()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = None if args.in_memory else Path(args.data_dir).resolve()
    started = time.monotonic()
    stop = threading.Event()
    received: list[int] = []

    def shutdown(signum, _frame) -> None:
        received.append(signum)
        stop.set()

    for signum in STOP_SIGNALS:  # from here on, each of them stops everything in order
        signal.signal(signum, shutdown)
    database = dynamodb_local.start(data_dir)
    gate = Gate()
    serving: list = []  # the HTTP servers whose serve_forever runs (each needs a shutdown)
    try:
        if data_dir is not None:  # acknowledge a transaction only once it is on disk
            dynamodb_local.commit_before_answering(database)
        os.environ.update(database.environment())
        os.environ.setdefault("CHORUS_AUTH", "off")
        os.environ["CHORUS_DATASTORE"] = "dynamodb-local"
        os.environ["CHORUS_S3_ENDPOINT"] = start_s3()
        frontend_origin = f"http://{args.host}:{args.frontend_port}"
        os.environ["CHORUS_CORS_ORIGINS"] = ",".join(
            {frontend_origin, f"http://localhost:{args.frontend_port}",
             f"http://127.0.0.1:{args.frontend_port}"})

        from chalicelib.store import tables

        tables.configure(endpoint=database.endpoint)
        tables.create_missing_tables()
        from chalicelib.store.objects import ensure_bucket

        ensure_bucket()
        from chalicelib.services.tokens import ensure_first_admin

        ensure_first_admin(print)

        api = make_api_server(args.host, args.port, gate)
        api_url = f"http://{args.host}:{args.port}"
        frontend = None if args.no_frontend else make_frontend_server(
            args.host, args.frontend_port, api_url)
        if stop.is_set():  # a signal during startup
            return 0
        for server in (api, frontend):
            if server is not None:
                threading.Thread(target=server.serve_forever, daemon=True).start()
                serving.append(server)
        threading.Thread(target=sweep_forever, args=(stop, gate), daemon=True).start()
        from scripts import job_worker  # the job worker Lambda's stand-in: the jobs stream

        job_worker.start(database.endpoint, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                         stop)
        if data_dir is not None:
            (data_dir / "server.json").write_text(json.dumps(
                {"api_url": api_url, "dynamodb_endpoint": database.endpoint, "pid": os.getpid()}))
        print(f"Chorus API: {api_url} (DynamoDB Local: {database.endpoint}, "
              f"data: {data_dir or 'in memory'}, ready in {time.monotonic() - started:.1f}s)",
              flush=True)
        if frontend is not None:
            print(f"Chorus web app: http://{args.host}:{args.frontend_port}", flush=True)
        stop.wait()
        names = ", ".join(signal.Signals(signum).name for signum in received) or "a stop"
        print(f"Stopping ({names}): finishing requests in progress, then DynamoDB Local",
              flush=True)
    finally:
        stop.set()
        gate.close()  # new requests answer 503 from here on
        for server in serving:
            server.shutdown()  # no new connections
        left = gate.drain(DRAIN_SECONDS)
        if left:
            print(f"{left} request(s) still in progress after {DRAIN_SECONDS}s; stopping "
                  "anyway (they were not answered)", flush=True)
        database.stop()
        if data_dir is not None:
            (data_dir / "server.json").unlink(missing_ok=True)
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
