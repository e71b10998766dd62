"""The template checkers (cfn-lint, checkov) in their own virtualenv, build/infra-tools.

    .venv/bin/python scripts/infra_tools.py            # create or update it; print the paths
    .venv/bin/python scripts/infra_tools.py cfn-lint build/deploy/prod/sam.json

They cannot share .venv: checkov pins boto3/botocore 1.35 and cfn-lint's aws-sam-translator
caps pydantic below the app's pin (see infra/requirements-tools.txt).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "infra" / "requirements-tools.txt"
VENV = Path(os.environ.get("CHORUS_INFRA_TOOLS", ROOT / "build" / "infra-tools"))
TOOLS = ("cfn-lint", "checkov")


def _stamp() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(python: str | None = None, quiet: bool = True) -> dict[str, Path]:
    """Create or refresh the virtualenv when infra/requirements-tools.txt changed."""
    stamp = VENV / ".installed"
    if not (stamp.exists() and stamp.read_text() == _stamp()
            and all((VENV / "bin" / tool).exists() for tool in TOOLS)):
        if not (VENV / "bin" / "python").exists():
            # the base interpreter, not .venv's: the tools must not see the app's packages
            base = python or getattr(sys, "_base_executable", None) or sys.executable
            subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install",
               "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
        subprocess.run(pip + (["--quiet"] if quiet else []), check=True)
        stamp.write_text(_stamp())
    return {tool: VENV / "bin" / tool for tool in TOOLS}


def main(argv: list[str]) -> int:
    tools = ensure()
    if argv and argv[0] in tools:
        return subprocess.run([str(tools[argv[0]]), *argv[1:]]).returncode
    for tool, path in tools.items():
        print(f"{tool}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
