"""Where the client finds Chorus and who it is: environment variables, overridable by flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chorus_client.errors import ConfigurationError

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Settings:
    """Connection settings; `agent` is the caller label every lock and operation is made under."""

    url: str = DEFAULT_URL
    token: str | None = None
    agent: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_env(
        cls,
        *,
        url: str | None = None,
        token: str | None = None,
        agent: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings from `CHORUS_URL`, `CHORUS_TOKEN` and `CHORUS_AGENT`; a given argument wins."""
        env = os.environ if environ is None else environ
        return cls(
            url=(url or env.get("CHORUS_URL") or DEFAULT_URL).rstrip("/"),
            token=token or env.get("CHORUS_TOKEN") or None,
            agent=agent or env.get("CHORUS_AGENT") or None,
        )

    def require_agent(self) -> str:
        """The caller label, which locks need: two agents sharing a guessed label would share locks."""
        if not self.agent:
            raise ConfigurationError(
                "No caller label: set CHORUS_AGENT (or pass --agent) to a name unique to this agent."
            )
        return self.agent
