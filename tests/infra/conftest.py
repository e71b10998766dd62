"""Fixtures for the infra checks: one `chalice package` of each stage per session (per
pytest-xdist worker), and the cfn-lint/checkov virtualenv.

What they build in the working tree (build/lambda-python3.X, the packaging virtualenv, and
build/infra-tools) is built under an exclusive file lock, so parallel workers (and two test
runs in one tree) never build it at the same time: the first builds, the others wait, then
find it built."""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts import build_template, deploy

ROOT = Path(__file__).resolve().parents[2]

# what the ${AWS::...} pseudo parameters resolve to in these checks
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
          "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "chorus-prod"}


def resolve_sub(value, extra: dict | None = None):
    """A string, or {"Fn::Sub": "..."} with pseudo parameters (and `extra`) filled in."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for name, replacement in {**PSEUDO, **(extra or {})}.items():
            text = text.replace("${%s}" % name, replacement)
        return text
    return value


class Packaged:
    def __init__(self, stage: str, package: deploy.Package, log: list[str]):
        self.stage = stage
        self.package = package
        self.log = log
        self.template = json.loads(package.template.read_text())
        self.resources = self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}


_packages: dict[str, Packaged] = {}


@contextmanager
def _build_lock():
    """One process at a time builds what lives under build/ (a lock file beside it)."""
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / ".tests.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def packaged(stage: str, tmp_root: Path) -> Packaged:
    """`chalice package` (the deploy's own step) once per stage and session."""
    if stage not in _packages:
        log: list[str] = []
        plan = deploy.Plan(out=log.append)
        plan.env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        with _build_lock():  # the packaging virtualenv is shared by every worker
            result = deploy.package(stage, tmp_root / stage, plan)
        _packages[stage] = Packaged(stage, result, log)
    return _packages[stage]


@pytest.fixture(scope="session")
def package_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chalice-package")


@pytest.fixture(scope="session")
def prod(package_root) -> Packaged:
    return packaged("prod", package_root)


@pytest.fixture(scope="session", params=build_template.stage_names())
def each_stage(request, package_root) -> Packaged:
    return packaged(request.param, package_root)


@pytest.fixture(scope="session")
def tools() -> dict[str, Path]:
    """cfn-lint and checkov from their own virtualenv (created on first use)."""
    from scripts import infra_tools

    with _build_lock():
        return infra_tools.ensure()


@pytest.fixture(scope="session")
def tool_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env
