"""Interactive API docs at /docs: Swagger UI (the npm package swagger-ui-dist, pinned in
scripts/api-docs/package.json and copied next to this module by `make deps`, so nothing is
fetched from a CDN) rendering /openapi.json."""
from __future__ import annotations

from pathlib import Path

from chalice import Response

ASSETS = Path(__file__).resolve().parent / "docs_assets"
SERVED = {"swagger-ui.css": "text/css; charset=utf-8",
          "swagger-ui-bundle.js": "application/javascript; charset=utf-8"}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chorus API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#ui", deepLinking: true});
</script>
</body>
</html>
"""


def page() -> Response:
    if not all((ASSETS / name).is_file() for name in SERVED):
        return Response(body="The API docs' renderer is not installed: run `make deps`.\n",
                        status_code=503, headers={"Content-Type": "text/plain; charset=utf-8"})
    return Response(body=PAGE, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": "no-cache"})


def asset(name: str) -> Response | None:
    """One of the renderer's files, or None (404)."""
    if name not in SERVED or not (ASSETS / name).is_file():
        return None
    return Response(body=(ASSETS / name).read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": SERVED[name],
                             "Cache-Control": "public, max-age=86400"})
