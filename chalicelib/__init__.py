"""Chorus: the code behind the Chalice routes in app.py."""
