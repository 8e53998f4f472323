"""Benchmark of the search service over HTTP (issue 17): ``registry-link serve`` on 127.0.0.1.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_service.py --registry 50000 --requests 1000
    .venv/bin/python benchmarks/bench_service.py            # 1,000,000 persons

Steps: (1) the synthetic registry and partner lists of ``bench_linkage.py`` (generated once
into ``benchmarks/data/``, cached); (2) a model trained on them (``Linker.train``), saved as
JSON; (3) an API key (``registry-link keys add``) and ``registry-link serve`` started as a
separate process on a free port of 127.0.0.1: start-up time (until ``GET /ready`` is 200) and
the server's RSS; (4) ``POST /registry/sync/search`` of one partner record per envelope (its
canonical fields as ``predicate`` terms), in four phases: ``--single`` records from one client,
then the same records again; ``--requests`` other records from ``--clients`` concurrent
clients, then those again; then ``--batched`` further records ``--per-envelope`` to an
envelope (DCI envelopes may hold many queries: a partner checking a list sends them so) from
``--clients``, first and again. Each phase gives the envelopes' latency p50/p99, searches
(queries) per second, and the server process's CPU time per search (user + system, from
``psutil``: what the server itself spent, much less sensitive to other jobs on the machine
than the latencies; summed over its processes with ``--workers``) with the load average
and the hypervisor's steal during the phase. A
record's first search meets names, dates and places the index has not seen (as a counter's
new applicant does); the second one shows what the service costs when they are known. The
load is bounded in count and in time (``--seconds``) and targets only 127.0.0.1. A markdown
file is written to ``benchmarks/results/service.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # helper modules live next to this script
    sys.path.insert(0, str(HERE))

from linkage_data import prepare_data  # noqa: E402
from linkage_report import add_run  # noqa: E402

REPO = HERE.parent
#: The canonical fields sent as predicate terms (those the DCI predicate accepts).
SENT_FIELDS = (
    "cin",
    "cnss_number",
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
    "birth_date",
    "sex",
    "residence",
    "birth_place",
    "father_given_name",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--registry", type=int, default=1_000_000, help="registry persons N")
    p.add_argument("--partners", type=int, default=20_000, help="partner records (training)")
    p.add_argument("--single", type=int, default=300, help="requests from one client")
    p.add_argument("--requests", type=int, default=2_000, help="requests from --clients")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients")
    p.add_argument(
        "--batched",
        type=int,
        default=2_000,
        help="further records sent --per-envelope to an envelope (DCI: one envelope may hold "
        "many queries) from --clients, first and again; 0: no such phases",
    )
    p.add_argument("--per-envelope", type=int, default=10, help="queries per envelope there")
    p.add_argument("--seconds", type=float, default=300.0, help="time bound of each phase")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--data-dir", type=Path, default=HERE / "data")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="add the run to this file (appended as its latest section if it exists; e.g. "
        "benchmarks/results/service.md); default: printed only",
    )
    p.add_argument(
        "--server-log",
        type=Path,
        default=None,
        help="keep the server's output here (its log lines: route, status, ms; an error's "
        "incident number and traceback); default: discarded",
    )
    p.add_argument(
        "--search-batch",
        default="64",
        help="serve's --search-batch values, comma-separated: one server per value, same "
        "requests (e.g. 1,64 compares searching each alone with coalescing)",
    )
    p.add_argument(
        "--gc-freeze",
        default="on",
        help="serve's garbage-collector setting, comma-separated on/off: one server per value "
        "and search batch, same requests (on: serve's default; off: --no-gc-freeze). Each "
        "server's full collections are counted per phase (a sitecustomize of the run's "
        "own on the server's PYTHONPATH logs them)",
    )
    p.add_argument(
        "--workers",
        default="1",
        help="serve's --workers values, comma-separated, run in this order (e.g. 1,2,1,2: "
        "one and two server processes interleaved, the same requests); the server's CPU and "
        "RSS are summed over its processes",
    )
    p.add_argument(
        "--model-cache",
        type=Path,
        default=None,
        help="the trained model: loaded from this file if it exists, else trained and saved "
        "there (paired runs of one data set: the same model, no training each time)",
    )
    return p.parse_args(argv)


#: The server's sitecustomize: each full (generation-2) garbage collection's CPU ms, a line
#: each, appended to the file named by ``RL_BENCH_GC_LOG``.
_GC_LOGGER = """
import gc, os, time
_path, _started = os.environ["RL_BENCH_GC_LOG"], [0.0]
def _seen(phase, info):
    if info.get("generation") != 2:
        return
    if phase == "start":
        _started[0] = time.process_time()
        return
    with open(_path, "a") as out:
        out.write(f"{1000 * (time.process_time() - _started[0]):.1f}\\n")
gc.callbacks.append(_seen)
"""


def _full_collections(log: Path) -> tuple[int, float]:
    """The full collections the server logged so far: count, CPU ms in all."""
    if not log.exists():
        return 0, 0.0
    ms = [float(line) for line in log.read_text().split()]
    return len(ms), sum(ms)


class _Server:
    """The server's processes (the one started and, with ``--workers``, those it spawned):
    CPU times and RSS summed over them."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)

    def _processes(self) -> list[Any]:
        return [self.root, *self.root.children(recursive=True)]

    def cpu_times(self) -> Any:
        """User and system seconds of all the processes (``.user``, ``.system``)."""
        import types

        times = [p.cpu_times() for p in self._processes()]
        return types.SimpleNamespace(
            user=sum(t.user for t in times), system=sum(t.system for t in times)
        )

    def rss_gb(self) -> float:
        """Resident memory of all the processes (GB; pages shared between them counted in
        each)."""
        return sum(p.memory_info().rss for p in self._processes()) / 1e9


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(seconds: list[float], wall: float) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50_ms": q[49], "p99_ms": q[98], "per_s": len(ms) / wall}


def _steal_ticks() -> int:
    """The machine's CPU time stolen by the hypervisor so far (clock ticks; 0 off Linux)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0
    return int(fields[8]) if len(fields) > 8 else 0


def _phase(
    base: str,
    key: str,
    bodies: list[dict[str, Any]],
    clients: int,
    seconds: float,
    server: Any,
    gc_log: Path,
) -> dict[str, Any]:
    """One load phase: latencies of the envelopes (p50/p99), searches (queries) per second,
    statuses, and the server's CPU ms per search and full garbage collections, with the load
    average at its end and the steal during it (% of two cores)."""
    full, full_ms = _full_collections(gc_log)
    cpu = server.cpu_times()
    steal, started = _steal_ticks(), time.perf_counter()
    latencies, statuses, answered_by, wall = asyncio.run(_load(base, key, bodies, clients, seconds))
    after = server.cpu_times()
    per_envelope = len(bodies[0]["message"]["search_request"]) if bodies else 1
    searches = len(latencies) * per_envelope
    used = (after.user - cpu.user) + (after.system - cpu.system)
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stolen = (_steal_ticks() - steal) / ticks / max(time.perf_counter() - started, 1e-9)
    full_after, full_ms_after = _full_collections(gc_log)
    return {
        **_summary(latencies, wall),
        "full_gcs": full_after - full,
        "full_gc_ms": full_ms_after - full_ms,
        "per_envelope": per_envelope,
        "searches_per_s": searches / wall,
        "statuses": statuses,
        "answered_by": sorted(answered_by.values(), reverse=True),
        "cpu_ms": 1000 * used / max(searches, 1),
        "load": os.getloadavg()[0],
        "steal_pct": 100 * stolen / (os.cpu_count() or 1),
    }


def _envelope(n: int, *records: dict[str, Any]) -> dict[str, Any]:
    """One DCI search envelope with a predicate query per record."""
    now = dt.datetime.now(dt.UTC).isoformat()

    def terms(record: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "seq_num": i + 1,
                "expression1": {"attribute_name": f, "operator": "eq", "attribute_value": str(v)},
            }
            for i, (f, v) in enumerate((f, record[f]) for f in SENT_FIELDS if record.get(f))
        ]

    return {
        "header": {
            "message_id": f"bench-{n}",
            "message_ts": now,
            "action": "search",
            "sender_id": "bench",
            "total_count": len(records),
        },
        "message": {
            "transaction_id": f"bench-{n}",
            "search_request": [
                {
                    "reference_id": f"r{n}-{j}",
                    "timestamp": now,
                    "search_criteria": {"query_type": "predicate", "query": terms(record)},
                }
                for j, record in enumerate(records)
            ],
        },
    }


def _records(paths: Any, n: int) -> list[dict[str, Any]]:
    """``n`` raw partner records (canonical fields), cycling over the lists."""
    from registry_link.config.loader import load_source_config
    from registry_link.io.readers import read_source

    per_list = []
    for _source, data, config in paths.partner_sources():
        raw = read_source(data, load_source_config(config))
        per_list.append(raw.select([c for c in SENT_FIELDS if c in raw.columns]).to_dicts())
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n and any(i < len(rows) for rows in per_list):
        out += [rows[i] for rows in per_list if i < len(rows)]
        i += 1
    return [r for r in out if any(r.values())][:n]


async def _load(
    base: str, key: str, bodies: list[dict[str, Any]], clients: int, seconds: float
) -> tuple[list[float], dict[int, int], dict[str, int], float]:
    """Send the bodies from ``clients`` concurrent clients; latencies, statuses, answers per
    server process (``X-Registry-Link-Worker``, with ``--workers`` above 1), wall time."""
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answered_by: dict[str, int] = {}
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty() and time.monotonic() < deadline:
            body = queue.get_nowait()
            t = time.perf_counter()
            response = await http.post("/registry/sync/search", json=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            worker = response.headers.get("x-registry-link-worker", "-")
            answered_by[worker] = answered_by.get(worker, 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, statuses, answered_by, time.perf_counter() - started


def _serve_and_load(
    args: argparse.Namespace,
    cli: list[str],
    paths: Any,
    work: Path,
    db: str,
    key: str,
    bodies: list[dict[str, Any]],
    batched: list[dict[str, Any]],
    batch: int,
    gc_freeze: str,
    workers: int,
) -> dict[str, Any]:
    """Start ``registry-link serve --search-batch batch --workers workers`` (``--no-gc-freeze``
    when ``gc_freeze`` is off), load it, stop it: its figures."""
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log: Any = subprocess.DEVNULL
    if args.server_log is not None:
        name = f"{args.server_log.stem}-{batch}-w{workers}-{time.time():.0f}"
        log = args.server_log.with_name(name + args.server_log.suffix)
        log = log.open("w", encoding="utf-8")
    site = Path(tempfile.mkdtemp(prefix=f"gc-site-{batch}-{gc_freeze}-w{workers}-", dir=work))
    (site / "sitecustomize.py").write_text(_GC_LOGGER, encoding="utf-8")
    gc_log = site / "full-collections.txt"
    env = {
        **os.environ,
        "RL_BENCH_GC_LOG": str(gc_log),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            *cli,
            "serve",
            "--registry",
            str(paths.raw_registry),
            "--registry-config",
            str(paths.registry_config),
            "--model",
            str(work / "model.json"),
            "--db",
            db,
            "--port",
            str(port),
            "--rate",
            "1000000",
            "--search-batch",
            str(batch),
            "--jobs-dir",
            str(work / "jobs"),
            *(["--no-gc-freeze"] if gc_freeze == "off" else []),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready_s = None
        ready: set[str] = set()  # (each request on a new connection: any process takes it)
        while time.perf_counter() - started < 3600 and server.poll() is None:
            try:
                answer = httpx.get(f"{base}/ready", timeout=5)
                if answer.status_code == 200:
                    ready.add(answer.headers.get("x-registry-link-worker", "-"))
                    if len(ready) == workers:
                        ready_s = time.perf_counter() - started
                        break
                    continue
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        if ready_s is None:
            raise SystemExit("the server did not become ready")
        process = _Server(server.pid)
        rss_gb = process.rss_gb()
        start_gcs = _full_collections(gc_log)
        first, rest = bodies[: args.single], bodies[args.single :]
        phases = [
            ("1 client, first search", _phase(base, key, first, 1, args.seconds, process, gc_log)),
            (
                "1 client, same records again",
                _phase(base, key, first, 1, args.seconds, process, gc_log),
            ),
            (
                f"{args.clients} clients, first search",
                _phase(base, key, rest, args.clients, args.seconds, process, gc_log),
            ),
            (
                f"{args.clients} clients, same records again",
                _phase(base, key, rest, args.clients, args.seconds, process, gc_log),
            ),
        ]
        if batched:
            phases += [
                (
                    f"{args.clients} clients, {args.per_envelope} queries an envelope, "
                    "first search",
                    _phase(base, key, batched, args.clients, args.seconds, process, gc_log),
                ),
                (
                    f"{args.clients} clients, {args.per_envelope} queries an envelope, again",
                    _phase(base, key, batched, args.clients, args.seconds, process, gc_log),
                ),
            ]
        rss_after = process.rss_gb()
    finally:
        server.terminate()
        server.wait(timeout=60)
        if log is not subprocess.DEVNULL:
            log.close()
    return {
        "workers": workers,
        "gc_freeze": gc_freeze,
        "start_gcs": start_gcs,
        "batch": batch,
        "ready_s": ready_s,
        "rss_gb": rss_gb,
        "rss_after": rss_after,
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write its markdown report."""

    from registry_link.jobs import load_job_inputs
    from registry_link.linker import Linker
    from registry_link.model import save_model

    args = parse_args(argv)
    batches = [int(b) for b in args.search_batch.split(",")]
    runs: list[dict[str, Any]] = []
    load = os.getloadavg()
    paths, note = prepare_data(args.registry, args.partners, args.seed, args.data_dir)
    print(f"data: {note}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    try:
        from registry_link.jobs import MatchJob

        sources = paths.partner_sources()
        job = MatchJob(
            registry=paths.raw_registry,
            registry_config=paths.registry_config,
            partners=tuple(p for _, p, _ in sources),
            configs=tuple(c for _, _, c in sources),
            out_dir=work,
        )
        t = time.perf_counter()
        if args.model_cache is not None and args.model_cache.exists():
            shutil.copyfile(args.model_cache, work / "model.json")
        else:
            registry, lists = load_job_inputs(job, paths.registry_config)
            model = Linker.from_config(job.model_config).train(registry, lists)
            save_model(model, work / "model.json")
            del registry, lists
            if args.model_cache is not None:
                shutil.copyfile(work / "model.json", args.model_cache)
        train_s = time.perf_counter() - t
        print(f"model trained in {train_s:.0f} s", file=sys.stderr)
        db = f"sqlite:///{work / 'service.db'}"
        cli = [str(Path(sys.executable).parent / "registry-link")]
        made = subprocess.run(
            [
                *cli,
                "keys",
                "add",
                "--partner",
                "bench",
                "--scope",
                "search:demographic",
                "--db",
                db,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip().splitlines()[-1]
        records = _records(paths, args.single + args.requests + args.batched)
        alone = records[: args.single + args.requests]
        bodies = [_envelope(n, r) for n, r in enumerate(alone)]
        grouped = records[len(alone) :]
        step = max(args.per_envelope, 1)
        batched = [
            _envelope(len(alone) + n, *grouped[i : i + step])
            for n, i in enumerate(range(0, len(grouped) - step + 1, step))
        ]
        for workers in [int(w) for w in args.workers.split(",")]:
            for freeze in args.gc_freeze.split(","):
                for batch in batches:
                    runs.append(
                        _serve_and_load(
                            args, cli, paths, work, db, key, bodies, batched, batch, freeze, workers
                        )
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"# Search service over HTTP ({dt.date.today()})",
        "",
        f"`benchmarks/bench_service.py --registry {args.registry} --single {args.single} "
        f"--requests {args.requests} --clients {args.clients} --batched {args.batched} "
        f"--per-envelope {args.per_envelope} --search-batch {args.search_batch} "
        f"--gc-freeze {args.gc_freeze} --workers {args.workers}`: "
        f"`registry-link serve` on 127.0.0.1 (one server per `--workers`, `--search-batch` "
        f"value, the same requests; its CPU and RSS summed over its processes), the load "
        f"generator in another process; {os.cpu_count()} cores, "
        f"load average before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared).",
        "",
        f"- data: {note}",
    ]
    for run in runs:
        lines.append(
            f"- `--workers {run['workers']} --search-batch {run['batch']}`, gc freeze "
            f"{run['gc_freeze']}: start-up "
            f"(process start to `GET /ready` 200, index built) {run['ready_s']:.1f} s "
            f"({run['start_gcs'][0]} full garbage collections, {run['start_gcs'][1]:.0f} ms); "
            f"server RSS {run['rss_gb']:.2f} GB after start, {run['rss_after']:.2f} GB after "
            "the load"
        )
    lines += [
        "",
        "| workers | search batch | gc freeze | phase | envelopes | p50 ms | p99 ms | "
        "searches/s | server CPU ms per search | full gcs (ms) | load at end | steal % | "
        "statuses | envelopes per process |",
        "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- | --- |",
    ]
    for run in runs:
        for name, phase in run["phases"]:
            lines.append(
                f"| {run['workers']} | {run['batch']} | {run['gc_freeze']} | {name} | "
                f"{phase['n']} | "
                f"{phase['p50_ms']:.1f} | {phase['p99_ms']:.1f} | {phase['searches_per_s']:.0f} | "
                f"{phase['cpu_ms']:.1f} | {phase['full_gcs']} ({phase['full_gc_ms']:.0f}) | "
                f"{phase['load']:.1f} | {phase['steal_pct']:.1f} | {phase['statuses']} | "
                f"{'/'.join(map(str, phase['answered_by']))} |"
            )
    lines.append("")
    add_run(args.out, lines)


if __name__ == "__main__":
    main()
