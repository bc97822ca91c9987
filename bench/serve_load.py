"""``python -m bench.serve_load``: the HTTP API under load, beside one client alone.

Starts ``python -m mdr serve`` on 127.0.0.1 (a free port; loopback only) once per worker count,
then, against the same server, times one client sending requests one after another, and
50 clients x 40 requests at once (``--clients``, ``--requests``). Every request is a JSON
base64 PNG of a canvas-like number (``mdr.data.synth``: MNIST test digits stroked like a mouse
drawing), and every answer is checked against the number drawn. Figures: errors, share read
right, throughput, and p50/p95/p99 latency (request sent to answer read, on the client).
Written as a section of ``--out`` (bench/results.md; its other sections are kept) and printed.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report import write_sections

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results.md"
TITLE = "7. HTTP API under load"
CONDITIONS = ("spaced-thin", "dark-on-light", "transparent", "two-rows")
"""The drawings sent: the conditions a canvas gives (touching digits left out: the reader is not
meant for them, and their slow split search would dominate the figures)."""
REQUEST_TIMEOUT_S = 30.0
PHASE_TIMEOUT_S = 300.0


@dataclass
class Outcome:
    seconds: float
    status: int  # 0: no answer
    right: bool = False
    server_ms: float | None = None
    error: str | None = None


@dataclass
class Phase:
    name: str
    workers: int
    clients: int
    outcomes: list[Outcome]
    wall_s: float

    @property
    def errors(self) -> int:
        return sum(1 for o in self.outcomes if o.status != 200)

    def row(self) -> list[str]:
        ok = [o for o in self.outcomes if o.status == 200]
        latencies = np.array([o.seconds for o in ok]) * 1000.0 if ok else np.array([np.nan])
        server = np.array([o.server_ms for o in ok if o.server_ms is not None] or [np.nan])
        right = sum(o.right for o in ok) / max(1, len(ok))
        return [self.name, str(self.workers), str(self.clients), str(len(self.outcomes)), str(self.errors),
                f"{right:.0%}", f"{len(ok) / self.wall_s:.0f}",
                f"{np.percentile(latencies, 50):.1f}", f"{np.percentile(latencies, 95):.1f}",
                f"{np.percentile(latencies, 99):.1f}", f"{np.median(server):.1f}"]


def payloads(per_condition: int, data_dir: str | None) -> list[tuple[bytes, str]]:
    """JSON request bodies with the number each one shows."""
    from PIL import Image

    from mdr.data.synth import make_set

    bodies = []
    for condition in CONDITIONS:
        for sample in make_set(condition, per_condition, seed=0, data_dir=data_dir):
            buffer = io.BytesIO()
            Image.fromarray(sample.image).save(buffer, format="PNG")
            body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()})
            bodies.append((body.encode(), sample.number))
    return bodies


def _client(port: int, bodies: list[tuple[bytes, str]], count: int, first: int, start: threading.Barrier,
            deadline: float, into: list[Outcome]) -> None:
    """``count`` requests one after another on one keep-alive connection (reopened after a failure)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    start.wait(timeout=60)
    for k in range(count):
        body, truth = bodies[(first + k) % len(bodies)]
        if time.monotonic() > deadline:
            into.append(Outcome(0.0, 0, error="not sent before the phase's deadline"))
            continue
        began = time.perf_counter()
        try:
            connection.request("POST", "/recognize", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - began
            answer = json.loads(data)
            if response.status == 200:
                into.append(Outcome(seconds, 200, answer.get("number") == truth, answer.get("ms")))
            else:
                into.append(Outcome(seconds, response.status, error=str(answer.get("error"))))
        except (OSError, http.client.HTTPException, ValueError) as error:
            into.append(Outcome(time.perf_counter() - began, 0, error=f"{type(error).__name__}: {error}"))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    connection.close()


def run_phase(name: str, port: int, workers: int, bodies: list[tuple[bytes, str]], clients: int,
              per_client: int) -> Phase:
    """``clients`` threads, each sending ``per_client`` requests, all starting together."""
    start = threading.Barrier(clients + 1)
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    results: list[list[Outcome]] = [[] for _ in range(clients)]
    threads = [threading.Thread(target=_client, args=(port, bodies, per_client, c * 7, start, deadline, results[c]),
                                daemon=True) for c in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT_S))
    wall = time.perf_counter() - began
    outcomes = [o for r in results for o in r]
    outcomes += [Outcome(0.0, 0, error="client did not finish")] * (clients * per_client - len(outcomes))
    return Phase(name, workers, clients, outcomes, wall)


def measure(workers: int, bodies: list[tuple[bytes, str]], args: argparse.Namespace, log: Path) -> list[Phase]:
    from mdr.serve.process import running_server

    with running_server(log, "--workers", str(workers), start_timeout=120.0) as server:
        run_phase("warm-up", server.port, workers, bodies, max(2, workers * 2), 10)
        single = run_phase("one client", server.port, workers, bodies, 1, args.single)
        loaded = run_phase(f"{args.clients} clients", server.port, workers, bodies, args.clients, args.requests)
    if not server.stopped_cleanly:
        raise RuntimeError(f"The server did not stop cleanly ({server.process.returncode}):\n{server.log()}")
    return [single, loaded]


def machine() -> str:
    import onnxruntime

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (load average before the run: "
            f"{load}); Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}")


def report(phases: list[Phase], bodies: list[tuple[bytes, str]], args: argparse.Namespace, seconds: float) -> str:
    header = ["phase", "workers", "clients", "requests", "errors", "read right", "req/s", "p50 ms", "p95 ms",
              "p99 ms", "server ms (p50)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(p.row()) + " |" for p in phases]
    sizes = [len(b) for b, _ in bodies]
    failures = [o.error for p in phases for o in p.outcomes if o.error][:5]
    text = "\n".join([
        f"Machine: {machine()}. Command: `python -m bench.serve_load` "
        f"(`--clients {args.clients} --requests {args.requests} --single {args.single}`).",
        "",
        *lines,
        "",
        f"`python -m mdr serve` on 127.0.0.1, one server per worker count; each row against the same running "
        f"server, one client alone first. Requests: JSON base64 PNGs of {len(bodies)} canvas-like numbers "
        f"({', '.join(CONDITIONS)}; bodies {min(sizes) / 1e3:.0f}-{max(sizes) / 1e3:.0f} kB), each answer checked "
        "against the number drawn. Latency: request sent to answer read, on the client (the client threads "
        "share the CPU with the server); server ms: the `ms` of the answers (decoding and reading). "
        "req/s: answers per second of wall time.",
    ])
    if failures:
        text += "\n\nFirst errors: " + "; ".join(failures)
    return text + f"\n\n_({seconds:.0f} s)_\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--requests", type=int, default=40, help="requests per concurrent client (default 40)")
    parser.add_argument("--single", type=int, default=200, help="requests of the client alone (default 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure (default 1 2)")
    parser.add_argument("--per-condition", type=int, default=10, help="drawings per condition (default 10)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"markdown file (default: {DEFAULT_OUT})")
    parser.add_argument("--data", default=os.environ.get("MDR_DATA_DIR"), help="MNIST folder")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    bodies = payloads(args.per_condition, args.data)
    phases: list[Phase] = []
    for workers in args.workers:
        phases += measure(workers, bodies, args, ROOT / "test-artifacts" / f"serve-load-w{workers}.log")
    text = report(phases, bodies, args, time.perf_counter() - began)
    write_sections(args.out, {TITLE: text})
    print(f"## {TITLE}\n\n{text}")
    return 1 if any(p.errors for p in phases) else 0


if __name__ == "__main__":
    raise SystemExit(main())
