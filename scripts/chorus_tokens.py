"""Manage Chorus bearer tokens: create (the secret is printed once), list, revoke.

    python scripts/chorus_tokens.py [--data-dir .chorus | --stage prod] create --label L --role agent
    python scripts/chorus_tokens.py [...] list
    python scripts/chorus_tokens.py [...] revoke <hash prefix>

Locally it talks to the running server's DynamoDB Local (or starts one on the data dir);
with --stage it uses your AWS credentials and the stage's tables (chorus-<stage>-*).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", default=str(ROOT / ".chorus"))
    where.add_argument("--stage")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a token and print its secret once")
    create.add_argument("--label", required=True)
    create.add_argument("--role", choices=("agent", "admin"), default="agent")
    commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke the token whose hash starts so")
    revoke.add_argument("hash_prefix")
    return parser.parse_args(argv)


def connect(args: argparse.Namespace):
    """Point the models at the right tables; returns what must be stopped afterwards."""
    from chalicelib.store import tables

    if args.stage:
        tables.configure(endpoint=None, prefix=f"chorus-{args.stage}-")
        return None
    from scripts import dynamodb_local

    data_dir = Path(args.data_dir).resolve()
    running = data_dir / "server.json"
    if running.exists() and _alive(json.loads(running.read_text())["pid"]):
        endpoint = json.loads(running.read_text())["dynamodb_endpoint"]
        key, secret = dynamodb_local.credentials(data_dir)
        os.environ.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret})
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        tables.configure(endpoint=endpoint)
        return None
    database = dynamodb_local.start(data_dir)
    os.environ.update(database.environment())
    tables.configure(endpoint=database.endpoint)
    tables.create_missing_tables()
    return database


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = connect(args)
    try:
        from chalicelib.clock import now_iso
        from chalicelib.services.tokens import create_token
        from chalicelib.store import tokens as token_store

        if args.command == "create":
            secret = create_token(args.label, args.role)
            print(f"{secret}\n(shown once: store it now; Chorus keeps only its hash)")
        elif args.command == "list":
            for record in token_store.list_all():
                state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
                print(f"{record.token_hash[:12]}  {record.role:<5}  {record.label:<30}  "
                      f"created {record.created_at}  last used {record.last_used_at or '-'}  "
                      f"{state}")
        else:
            revoked = token_store.revoke(args.hash_prefix, now_iso())
            if revoked is None:
                print("no active token has a hash starting with that", file=sys.stderr)
                return 1
            print(f"revoked {revoked.token_hash[:12]} ({revoked.label})")
        return 0
    finally:
        if database is not None:
            database.stop()


if __name__ == "__main__":
    sys.exit(main())
