"""Deployment settings, read from the environment each time they are needed.

Reading at call time (not import time) lets tests and the local server change them freely.
"""
from __future__ import annotations

import os

VERSION = "0.1.0"

LOCK_PURPOSES = ("sizing", "breakdown", "refinement", "implementation")
DEFAULT_LOCK_TTL_SECONDS = {
    "sizing": 15 * 60,
    "breakdown": 30 * 60,
    "refinement": 30 * 60,
    "implementation": 60 * 60,
}


def lock_ttl_seconds(purpose: str) -> int:
    raw = os.environ.get(f"CHORUS_LOCK_TTL_{purpose.upper()}")
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return DEFAULT_LOCK_TTL_SECONDS[purpose]


def table_prefix() -> str:
    return os.environ.get("CHORUS_TABLE_PREFIX", "chorus-")


def dynamodb_endpoint() -> str | None:
    return os.environ.get("CHORUS_DYNAMODB_ENDPOINT") or None


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def auth_mode() -> str:
    return os.environ.get("CHORUS_AUTH", "token")


def cors_origins() -> tuple[str, ...]:
    raw = os.environ.get("CHORUS_CORS_ORIGINS", "")
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


def export_bucket() -> str:
    return os.environ.get("CHORUS_EXPORT_BUCKET", "chorus-exports")


def s3_endpoint() -> str | None:
    return os.environ.get("CHORUS_S3_ENDPOINT") or None


def datastore_label() -> str:
    return os.environ.get("CHORUS_DATASTORE", "dynamodb")
