"""``python -m mdr serve [--host H] [--port P] [--workers N]``: the HTTP API on uvicorn."""
from __future__ import annotations

import argparse
import os
import sys

from mdr.serve.settings import ENV_PREFIX, ServeSettings, SettingsError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the HTTP API (POST /recognize, /health, /models, a drawing page at /)",
        description="Serve the recognizer over HTTP with FastAPI on uvicorn. Each flag can also be set "
                    f"by an environment variable {ENV_PREFIX}<NAME>, e.g. {ENV_PREFIX}MAX_BODY_BYTES; "
                    "a flag wins over the variable.",
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes, each with its own model session (default 1)")
    parser.add_argument("--max-body-bytes", type=int, default=None, help="largest request body (default 10 MiB)")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="largest image, in pixels, read from its header (default 50 million)")
    parser.add_argument("--threads", type=int, default=None,
                        help="recognitions at once per worker (default 1; 0: one per CPU core); "
                             "use --workers for more cores")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from mdr.errors import MdrError
    from mdr.models import registry

    try:
        settings = ServeSettings.from_env().with_changes(
            host=args.host, port=args.port, workers=args.workers, max_body_bytes=args.max_body_bytes,
            max_pixels=args.max_pixels, threads=args.threads)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # As the app does when it starts: a broken active.json names the shipped model again, and
    # what killed training runs left in models/ is removed. Once, before any worker starts.
    for note in filter(None, [registry.repair()]):
        print(f"note: {note}", file=sys.stderr)
    removed = registry.clean_leftovers()
    if removed:
        print(f"note: removed {len(removed)} leftover item(s) of interrupted runs from models/.", file=sys.stderr)
    problem = _cannot_listen(settings.host, settings.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    # The workers build their settings from the environment.
    os.environ.update(settings.to_env())
    try:
        # Loads the model here, so a missing or broken model is an error in words, not a worker crash loop.
        from mdr.recognition.recognizer import Recognizer
        Recognizer(model=None)
    except MdrError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Serving on http://{settings.host}:{settings.port} (docs at /docs)", file=sys.stderr, flush=True)
    uvicorn.run("mdr.serve.app:create_app_from_env", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=args.log_level, access_log=False)
    return 0


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the address cannot be listened on (in use, unknown host), or None; said before any worker starts."""
    import errno
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        reason = "it is in use" if error.errno == errno.EADDRINUSE else error.strerror or str(error)
        return f"Cannot listen on {host}:{port} ({reason}). Choose another with --port or --host."
    return None
