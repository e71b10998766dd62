"""Chorus's rules as pure functions: no I/O, so they are tested exhaustively and fast."""
