"""Check that a change leaves every output of the sample's full run unchanged.

``write DIR``: link the shipped sample as ``registry-link demo`` does (same inputs, same model
config) and write every output: links, review and households (Parquet and CSV), summary.json,
model.json and evaluation.json. ``diff BEFORE AFTER``: compare two such folders file by file,
ignoring only what differs from run to run (the summary's timings, the model's training time).
Exit 1 when anything else differs. Run ``write`` on the commit before a change and after it::

    .venv/bin/python benchmarks/same_outputs.py write /tmp/before    # on the old commit
    .venv/bin/python benchmarks/same_outputs.py write /tmp/after     # on the new one
    .venv/bin/python benchmarks/same_outputs.py diff /tmp/before /tmp/after

``digest DIR``: per output file, a SHA-256 of its content (the same normalisation as ``diff``),
as JSON: ``tests/data/sample_outputs_digest.json`` holds those of the outputs before the
compare-engine redesign, and ``tests/test_same_outputs.py`` checks a fresh run against them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

REPO = Path(__file__).resolve().parent.parent
#: Run-to-run values that are not outputs: summary timings, the model's training time.
VOLATILE = {
    "summary.json": ["timings_s", "model.training.trained_at"],
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


def _content(path: Path) -> bytes:
    """The file's content as ``diff`` compares it: a Parquet frame as its schema and JSON
    lines, JSON without the run-to-run values, other files as they are."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return (str(frame.schema) + "\n" + frame.write_ndjson()).encode()
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        for dotted in VOLATILE.get(path.name, []):
            _drop(data, dotted)
        return json.dumps(data, sort_keys=True).encode()
    return path.read_bytes()


def digest(folder: Path) -> dict[str, str]:
    """Per output file of ``folder``: the SHA-256 of its content (see :func:`_content`)."""
    return {p.name: hashlib.sha256(_content(p)).hexdigest() for p in sorted(folder.iterdir())}


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
            a, b = json.loads(old.read_text()), json.loads(new.read_text())
            for dotted in VOLATILE.get(old.name, []):
                _drop(a, dotted)
                _drop(b, dotted)
            if a != b:
                problems.append(f"{old.name}: content differs")
        elif old.read_bytes() != new.read_bytes():
            problems.append(f"{old.name}: bytes differ")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "write":
        write(Path(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "digest":
        print(json.dumps(digest(Path(argv[1])), indent=1))
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        problems = diff(Path(argv[1]), Path(argv[2]))
        print("\n".join(problems) if problems else "identical (timings aside)")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
