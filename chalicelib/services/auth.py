"""Who may act as whom (SPEC §10)."""
from __future__ import annotations

from chalicelib.errors import Forbidden
from chalicelib.services.common import Caller


def check_identity(caller: Caller, label: str | None) -> None:
    """An agent token acts only as its own label or `<label>/<session>`."""
    if label is None or caller.role != "agent" or caller.label is None:
        return
    if label != caller.label and not label.startswith(caller.label + "/"):
        raise Forbidden(
            f"This token acts as {caller.label!r}: use that label or one starting with "
            f"{caller.label + '/'!r}.",
            {"allowed_label": caller.label},
        )


def default_author(caller: Caller, author: str | None, fallback: str) -> str:
    """The author a request names, else `fallback`; a token's label stands in for
    `anonymous` (admin tokens too: the feed and the notes then agree on who acted)."""
    if author is not None:
        check_identity(caller, author)
        return author
    if caller.label is not None and fallback == "anonymous":
        return caller.label
    return fallback


def request_actor(caller: Caller) -> str:
    """Who a request acts as when it names nobody (SPEC §14): the token's label, or
    `anonymous` with auth off."""
    return caller.label or "anonymous"
