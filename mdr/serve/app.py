"""The FastAPI application: routes, error answers and the drawing page.

``create_app(settings)`` builds it (uvicorn calls :func:`create_app_from_env` in each worker).
Every refusal is JSON ``{"error": sentence, "code": kind}`` with a 4xx status; anything
unexpected becomes a 500 with a sentence, and its traceback goes to the log, not the client.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import time
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mdr.errors import MdrError
from mdr.models import registry
from mdr.models.operations import model_rows
from mdr.recognition.config import RecognizerConfig
from mdr.serve import knobs as knob_parsing
from mdr.serve.body import read_image_request
from mdr.serve.engine import Engine
from mdr.serve.errors import ApiError, from_mdr_error
from mdr.serve.schemas import (ErrorResponse, HealthResponse, Knobs, ModelRow, ModelsResponse,
                               RecognizeRequest, RecognizeResponse)
from mdr.serve.settings import ServeSettings

STATIC = Path(__file__).resolve().parent / "static"
DOCS_STATIC = Path(importlib.util.find_spec("fastapi_offline").origin).parent / "static"
"""Swagger UI and ReDoc files shipped in the fastapi-offline package: /docs works without the internet."""
log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


def _recognize_body_doc() -> dict[str, Any]:
    """The request body of POST /recognize in OpenAPI terms: the route reads it itself, in three forms."""
    knob_props = Knobs.model_json_schema()["properties"]
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": RecognizeRequest.model_json_schema()},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "The image file (PNG, JPEG, ...)."}}}},
        "image/*": {"schema": {"type": "string", "format": "binary",
                               "description": "The raw bytes of the image."}},
    }}, "parameters": [
        {"name": name, "in": "query", "required": False, "schema": prop,
         "description": prop.get("description", "")} for name, prop in knob_props.items()
    ]}


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The service with its own engine (one ONNX session, loaded now)."""
    settings = settings or ServeSettings()
    engine = Engine()
    limiter = anyio.CapacityLimiter(settings.recognition_threads)
    app = FastAPI(
        title="mdr — Multi-Digit Recognizer",
        description="Reads handwritten multi-digit numbers. POST an image to /recognize: JSON with a "
                    "base64 PNG, a multipart upload in 'file', or the raw image bytes. Refusals are "
                    "JSON {\"error\": sentence, \"code\": kind} with a 4xx status.",
        version="1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else "The request was refused."
        sentence = {404: "There is no such page: see /docs for the routes.",
                    405: "This route does not take that method: see /docs."}.get(error.status_code, detail)
        return _error(error.status_code, _HTTP_CODES.get(error.status_code, "bad_request"), sentence)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = (error.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return _error(422, "invalid_field", f"The {where} is invalid: {first.get('msg', 'not accepted')}.")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("Unexpected error while answering a request")
        return _error(500, "internal_error",
                      f"The server failed while answering this request ({type(error).__name__}). "
                      "It has been logged; try again, or send another image.")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-static", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - API docs",
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/docs-static/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - API docs",
                              redoc_js_url="/docs-static/redoc.standalone.js",
                              redoc_favicon_url="/docs-static/favicon.png", with_google_fonts=False)

    @app.get("/health", response_model=HealthResponse, summary="The service is up; which model serves")
    async def health() -> dict[str, Any]:
        # Not behind the recognitions' limiter: /health answers while requests queue.
        recognizer = await anyio.to_thread.run_sync(engine.current)
        return {"status": "ok", "model": recognizer.model_name, "active": registry.active_model_name(),
                "warning": engine.warning(), "loads": engine.loads, "pid": os.getpid(),
                "uptime_s": round(time.time() - engine.started, 1)}

    @app.get("/models", response_model=ModelsResponse, summary="The registered models with their figures")
    async def models() -> dict[str, Any]:
        rows = await anyio.to_thread.run_sync(model_rows)
        serving = engine.serving.model_name
        return {"active": registry.active_model_name(), "serving": serving,
                "models": [_model_row(row, serving) for row in rows]}

    @app.post("/recognize", response_model=RecognizeResponse, summary="Read the number in an image",
              responses=_errors(400, 413, 415, 422, 500, 503), openapi_extra=_recognize_body_doc())
    async def recognize(request: Request) -> dict[str, Any]:
        """Read the handwritten number in the image sent: JSON ``{"image": "<base64 PNG>"}`` (with
        knobs as keys beside ``image``), a multipart upload in the field ``file``, or the raw image
        bytes with an ``image/*`` content type. Knobs may also be query parameters."""
        sent = await read_image_request(request, settings)
        config = knob_parsing.to_config(sent.knobs, settings)
        try:
            return await anyio.to_thread.run_sync(_answer, engine, sent.data, config, limiter=limiter)
        except MdrError as error:
            raise from_mdr_error(error) from None

    return app


def _answer(engine: Engine, data: bytes, config: RecognizerConfig) -> dict[str, Any]:
    """Read ``data`` and build the answer, all in a worker thread: the other likely readings are
    computed after the reading (a Viterbi pass per touching part), off the event loop too."""
    recognition, ms = engine.read(data, config)
    return {**recognition.to_dict(),
            "digits": [{**d.to_dict(), "low_confidence": bool(d.low_confidence)} for d in recognition.digits],
            "ms": round(ms, 2), "model": recognition.model_name, "precision": recognition.precision}


def _model_row(row: dict[str, Any], serving: str) -> ModelRow:
    """A registry row as the response model; card values of an unexpected type become null."""
    values = {**row, "name": str(row["name"]), "serving": row["name"] == serving}
    try:
        return ModelRow(**values)
    except ValidationError as error:
        for problem in error.errors():
            values[str(problem["loc"][0])] = None
        return ModelRow(**values)


def create_app_from_env() -> FastAPI:
    """uvicorn's factory in each worker: the settings come from ``MDR_SERVE_*`` variables."""
    return create_app(ServeSettings.from_env())
