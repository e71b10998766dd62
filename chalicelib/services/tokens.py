"""Bearer tokens (SPEC §10): random, shown once, stored only as SHA-256 hashes."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib import config
from chalicelib.clock import now_iso
from chalicelib.errors import Unauthorized
from chalicelib.services.common import Caller

TOKEN_BYTES = 32
LAST_USED_RESOLUTION_SECONDS = 60
ROLES = ("agent", "admin")


def new_secret() -> str:
    return "chorus_" + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthorized("An Authorization: Bearer <token> header is required.")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return secret.strip()


def authenticate(header: str | None) -> Caller:
    """The caller behind an Authorization header (anonymous when auth is off)."""
    if config.auth_mode() == "off":
        return Caller()
    from chalicelib.store import tokens as token_store

    digest = token_hash(_bearer(header))
    record = token_store.find(digest)
    # the lookup is by hash; compare again in constant time so timing says nothing more
    if record is None or not hmac.compare_digest(record.token_hash, digest) or record.revoked_at:
        raise Unauthorized("The token is unknown or revoked.")
    token_store.mark_used(record, now_iso(), LAST_USED_RESOLUTION_SECONDS)
    return Caller(label=record.label, role=record.role, scope=digest)


def create_token(label: str, role: str) -> str:
    """A new token; the secret is returned once and only its hash is kept."""
    from chalicelib.store import tokens as token_store

    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    secret = new_secret()
    token_store.create(token_hash(secret), label, role, now_iso())
    return secret


def ensure_first_admin(announce) -> None:
    """The first start of an empty deployment with auth on creates one admin token."""
    if config.auth_mode() == "off":
        return
    from chalicelib.store import tokens as token_store

    if not token_store.has_admin():
        secret = create_token("admin", "admin")
        announce(f"Created the first admin token (shown once): {secret}")
