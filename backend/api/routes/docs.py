"""Interactive API docs (Swagger UI) served from the ``swagger-ui-bundle`` package: no CDN, works offline.

The page loads only files from this server, and its start-up script is a file too (not inline),
so the page's Content-Security-Policy can forbid inline scripts (:mod:`backend.middleware`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ReadCrumbs API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
INIT_SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


@router.get("/docs")
async def get_docs() -> HTMLResponse:
    """Swagger UI."""
    return HTMLResponse(DOCS_PAGE)


@router.get("/docs/init.js")
async def get_docs_init() -> Response:
    """Swagger UI's start-up script."""
    return Response(INIT_SCRIPT, media_type="text/javascript")


def mount_docs(app: FastAPI) -> None:
    """The docs page, its start-up script and the Swagger UI files."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
