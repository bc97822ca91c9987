"""The HTTP API: ``python -m mdr serve``, FastAPI on uvicorn.

``POST /recognize`` reads a number from a base64 PNG (JSON), a multipart upload or raw image
bytes, with the same recognizer and model registry as the dashboard. ``GET /health``,
``GET /models`` and a drawing page at ``GET /`` complete it.

Modules: :mod:`settings` (the limits, one dataclass), :mod:`schemas` (request and response
models), :mod:`errors` (refusals: a status, a code, a sentence), :mod:`knobs` (RecognizerConfig
from request fields), :mod:`body` (a request read into image bytes within the limits),
:mod:`engine` (the active model's recognizer, reloaded when the model changes), :mod:`app` (the
routes) and :mod:`process` (a server process for tests and benchmarks). Nothing here imports torch.
"""
