"""Chorus agents' client: a typed HTTP client, the `chorus` CLI and an MCP server.

Kept free of imports so that `chorus --help` stays quick; import `chorus_client.api` for the client.
"""

__version__ = "0.1.0"
