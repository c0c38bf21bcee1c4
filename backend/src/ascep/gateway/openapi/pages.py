"""The two documentation pages, their start-up scripts and where their vendored assets live.

The assets (Swagger UI's ``swagger-ui-dist``, ReDoc's ``redoc`` standalone bundle) are npm
packages of the dashboard, copied into ``frontend/dist/api-docs/`` by its build (``vite.config.ts``)
and served from there by the gateway: no CDN, nothing fetched by the browser from elsewhere. The
pages run no inline script (each loads its own small start-up file), so the strict
``Content-Security-Policy`` below holds; inline *styles* stay allowed because both UIs set them.
"""

from __future__ import annotations

ASSETS_DIR = "api-docs"
SPEC_URL = "/api/openapi.json"

SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")
REDOC_FILES = ("redoc.standalone.js",)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ASCEP API — Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"""

SWAGGER_INIT = f"""window.ui = SwaggerUIBundle({{
  url: "{SPEC_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: false,
  tryItOutEnabled: false,
  persistAuthorization: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
}});
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ASCEP API — ReDoc</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="redoc"></div>
<script src="/docs/assets/redoc.standalone.js"></script>
<script src="/docs/redoc-init.js"></script>
</body>
</html>
"""

REDOC_INIT = f"""Redoc.init("{SPEC_URL}", {{ hideDownloadButton: false, expandResponses: "200" }},
  document.getElementById("redoc"));
"""
