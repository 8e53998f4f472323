"""Check that a change leaves every output of the sample's full run unchanged.

``write DIR``: link the shipped sample as ``registry-link demo`` does (same inputs, same model
config) and write every output: links, review and households (Parquet and CSV), summary.json,
model.json and evaluation.json. ``diff BEFORE AFTER``: compare two such folders file by file,
ignoring only what differs from run to run (the summary's timings and Python and polars
versions, the model's training time). Exit 1 when anything else differs. Run ``write`` on the
commit before a change and after it::

    .venv/bin/python benchmarks/same_outputs.py write /tmp/before    # on the old commit
    .venv/bin/python benchmarks/same_outputs.py write /tmp/after     # on the new one
    .venv/bin/python benchmarks/same_outputs.py diff /tmp/before /tmp/after

``diff`` compares bytes: run both on one machine. ``fingerprint DIR``: per output file, a
SHA-256 of everything but its floating-point numbers and sums of those (:func:`fingerprint`),
as JSON, which hold on any machine: ``tests/data/sample_outputs_fingerprint.json`` holds those
of the stored outputs, and ``tests/test_same_outputs.py`` checks a fresh run against them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
#: Run-to-run values that are not outputs: summary timings, the model's training time, the
#: versions of Python and polars the run had (the outputs are checked equal across them).
VOLATILE = {
    "summary.json": [
        "timings_s",
        "model.training.trained_at",
        "versions.polars",
        "versions.python",
    ],
    "model.json": ["training.trained_at"],
}


def write(out: Path) -> None:
    """Link the sample and write every output into ``out``."""
    from registry_link import Linker, load_standardised
    from registry_link.jobs import SAMPLE_PARTNERS
    from registry_link.model import save_model
    from registry_link.report.evaluation import evaluate
    from registry_link.report.outputs import write_outputs

    data, configs = REPO / "sample_data", REPO / "configs"
    registry = load_standardised(data / "registry.csv", configs / "registry.yaml")
    lists = [load_standardised(data / f, configs / c) for f, c in SAMPLE_PARTNERS]
    result = Linker.from_config(configs / "model.yaml").link(registry, lists)
    write_outputs(out, result.links, result.review, result.households, result.summary)
    save_model(result.model, out / "model.json")
    truth = pl.read_csv(data / "ground_truth.csv", infer_schema=False)
    scores = evaluate(result.links, result.clusters, result.households, truth)
    (out / "evaluation.json").write_text(json.dumps(scores, indent=2, default=str))


def _drop(data: dict[str, Any], dotted: str) -> None:
    *path, last = dotted.split(".")
    for key in path:
        data = data.get(key, {})
    data.pop(last, None)


def _json(path: Path) -> Any:
    """A JSON output without its run-to-run values (:data:`VOLATILE`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for dotted in VOLATILE.get(path.name, []):
        _drop(data, dotted)
    return data


def _sums(values: list[float]) -> list[float]:
    """Σx, Σ(i+1)·x and Σx² of the values in order, NaN and infinities as 0 (a value changed,
    moved or added moves them; a machine's last-bit differences move them by far less than
    1e-9 relative)."""
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return [float(x.sum()), float((x * np.arange(1, x.size + 1)).sum()), float((x * x).sum())]


def _frame_fingerprint(frame: pl.DataFrame) -> dict[str, Any]:
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    missing = [pl.col(f).is_null().alias(f"{f}__missing") for f in floats]
    exact = frame.with_columns(missing).drop(floats)
    text = str(frame.schema) + "\n" + exact.write_ndjson()
    return {
        "exact": hashlib.sha256(text.encode()).hexdigest(),
        "floats": {name: _sums(frame[name].fill_null(0.0).to_list()) for name in floats},
    }


def _json_fingerprint(data: Any) -> dict[str, Any]:
    floats: list[float] = []

    def shape(value: Any) -> Any:
        if isinstance(value, float):
            floats.append(value)
            return "<float>"
        if isinstance(value, dict):
            return {k: shape(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return value

    text = json.dumps(shape(data), sort_keys=True)
    return {"exact": hashlib.sha256(text.encode()).hexdigest(), "floats": {"": _sums(floats)}}


def fingerprint(folder: Path) -> dict[str, dict[str, Any]]:
    """Per output file of ``folder``: the SHA-256 of everything but its floating-point
    numbers (``exact``), and per float column (a JSON file's floats: all, in key order) their
    sums (``floats``, :func:`_sums`), to compare within a tolerance
    (:func:`fingerprint_differences`).

    Floating-point results differ in their last bits from one machine to another (the kernels
    a CPU's instruction set selects add in another order), so a digest of the bytes holds only
    on the machine that stored it; a fingerprint holds on any.
    """
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".parquet":
            out[path.name] = _frame_fingerprint(pl.read_parquet(path))
        elif path.suffix == ".csv":
            frame = pl.read_csv(path, infer_schema_length=None, encoding="utf8-lossy")
            out[path.name] = _frame_fingerprint(frame)
        elif path.suffix == ".json":
            out[path.name] = _json_fingerprint(_json(path))
    return out


def fingerprint_differences(
    got: dict[str, Any], stored: dict[str, Any], rel: float = 1e-9
) -> list[str]:
    """What differs between two :func:`fingerprint` results (the float sums within ``rel``,
    relative to the larger of the two or 1)."""
    problems = []
    for name in sorted(set(got) | set(stored)):
        a, b = got.get(name), stored.get(name)
        if a is None or b is None:
            problems.append(f"{name}: {'missing' if a is None else 'not stored'}")
        elif a["exact"] != b["exact"]:
            problems.append(f"{name}: content other than floating-point numbers differs")
        elif set(a["floats"]) != set(b["floats"]):
            problems.append(f"{name}: other float columns")
        else:
            for column, sums in sorted(a["floats"].items()):
                pairs = zip(sums, b["floats"][column], strict=True)
                if any(abs(x - y) > rel * max(abs(x), abs(y), 1.0) for x, y in pairs):
                    problems.append(f"{name}: floating-point numbers of {column or 'it'} differ")
    return problems


def diff(before: Path, after: Path) -> list[str]:
    """The files of ``before`` whose content differs in ``after`` (or that it lacks)."""
    problems = []
    for old in sorted(before.iterdir()):
        new = after / old.name
        if not new.exists():
            problems.append(f"{old.name}: missing in {after}")
        elif old.suffix == ".parquet":
            if not pl.read_parquet(old).equals(pl.read_parquet(new)):
                problems.append(f"{old.name}: frames differ")
        elif old.suffix == ".json":
            if _json(old) != _json(new):
                problems.append(f"{old.name}: content differs")
        elif old.read_bytes() != new.read_bytes():
            problems.append(f"{old.name}: bytes differ")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "write":
        write(Path(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "fingerprint":
        print(json.dumps(fingerprint(Path(argv[1])), indent=1, sort_keys=True))
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        problems = diff(Path(argv[1]), Path(argv[2]))
        print("\n".join(problems) if problems else "identical (timings aside)")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
