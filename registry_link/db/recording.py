"""Record a :class:`~registry_link.linker.LinkResult` as a run, and feed reviewer decisions back.

* :func:`record_run` stores the run (who, when, input/config/model hashes, counts, summary),
  its links, its households and its review items, in one transaction.
  **Idempotence**: a run's key is the SHA-256 of its input file hashes, config hashes, given
  model file hash, the partner records' fingerprints and the reviewer decisions applied.
  Recording the same key again returns the existing run (``created=False``) and writes
  nothing; new reviewer decisions make a new key, hence a new run.
* :func:`prior_decisions` gives ``Linker.link(prior_decisions=...)`` the latest effective
  reviewer decision per (record, person) — only where the record's fingerprint is still the
  one the reviewer saw. A record that changed since its decision gets its items of the new run
  put back in the queue (status ``open``, note "record changed since the decision of
  <date>"), even if the engine did not send it to review.
* :func:`recorded_inputs` gives what a recorded run read, checked unchanged, so that
  ``registry_link.jobs.rerun_after_review`` runs it again with the decisions made since (a new
  run whose parent is the old one): households regenerated after review.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, select, update

from registry_link.db.engine import DatabaseError, SessionFactory, retry_locked, transaction
from registry_link.db.models import ReviewDecision, Run, utcnow
from registry_link.db.models import ReviewItem as ItemRow
from registry_link.db.queue import effective_decisions
from registry_link.db.repository import (
    audit,
    bulk_insert,
    current_snapshot,
    get_run,
    operator_name,
    record_fingerprints,
    sha256_file,
    sha256_text,
    snapshot_dir,
    snapshot_path,
    upsert_source,
)
from registry_link.decide.review_pairs import review_pairs
from registry_link.linker import LinkResult
from registry_link.model import model_to_dict
from registry_link.schema import STANDARDISED_SCHEMA
from registry_link.standardise.pipeline import StandardisedList

SourceInput = StandardisedList | pl.DataFrame
_KEYS = ["source", "record_id"]
_PAIR = ["source", "record_id", "person_id"]


@dataclass(frozen=True)
class RunInputs:
    """The files a run read (hashed and kept for ``runs show`` and :func:`recorded_inputs`).

    ``registry=None`` means the registry came from the database snapshot.
    """

    partners: tuple[Path, ...] = ()
    configs: tuple[Path, ...] = ()
    registry: Path | None = None
    registry_config: Path | None = None
    model_config: Path | None = None
    model: Path | None = None
    #: the folder the run's outputs were written to (``registry-link report --run N``)
    out_dir: Path | None = None


@dataclass(frozen=True)
class RecordedRun:
    """What :func:`record_run` did."""

    run_id: int
    created: bool  # False: the same inputs were recorded before; nothing was written
    links: int
    review_items: int
    reopened: int  # records back in the queue because they changed since a decision
    extra: dict[str, Any] = field(default_factory=dict)


def _frame(source: SourceInput) -> pl.DataFrame:
    frame = source.frame if isinstance(source, StandardisedList) else source
    return frame.select(list(STANDARDISED_SCHEMA))


def _partners(partners: Sequence[SourceInput]) -> pl.DataFrame:
    return pl.concat([_frame(p) for p in partners], how="vertical")


def _keyed_fingerprints(left: pl.DataFrame) -> pl.DataFrame:
    return left.select(_KEYS).with_columns(record_fingerprints(left))


def _decisions_frame(session: Any, sources: list[str]) -> pl.DataFrame:
    rows = effective_decisions(session, ReviewDecision.source.in_(sources)) if sources else []
    return pl.DataFrame(
        {
            "id": [d.id for d in rows],
            "source": [d.source for d in rows],
            "record_id": [d.record_id for d in rows],
            "person_id": [d.person_id for d in rows],
            "decision": [d.decision for d in rows],
            "fingerprint_then": [d.fingerprint for d in rows],
            "decided_at": [d.decided_at for d in rows],
        },
        schema={
            "id": pl.Int64,
            "source": pl.Utf8,
            "record_id": pl.Utf8,
            "person_id": pl.Utf8,
            "decision": pl.Utf8,
            "fingerprint_then": pl.Utf8,
            "decided_at": pl.Datetime("us"),
        },
    )


def _classified(session: Any, current: pl.DataFrame) -> pl.DataFrame:
    """Latest effective decision per pair, with ``valid`` (record unchanged since)."""
    sources = current["source"].unique().to_list()
    d = _decisions_frame(session, sources).sort("id").unique(_PAIR, keep="last")
    return d.join(current, on=_KEYS, how="inner").with_columns(
        valid=pl.col("fingerprint") == pl.col("fingerprint_then")
    )


def _prior(classified: pl.DataFrame) -> pl.DataFrame:
    valid = classified.filter(pl.col("valid")).sort("id")
    # one accept per record (the latest); a reject of the accepted person cannot coexist
    accepts = valid.filter(pl.col("decision") == "accept").unique(_KEYS, keep="last")
    rejects = valid.filter(pl.col("decision") == "reject")
    return pl.concat([accepts, rejects]).sort("id").select(*_PAIR, "decision")


def prior_decisions(session: Any, sources: Sequence[SourceInput]) -> pl.DataFrame:
    """Reviewer decisions to apply to a new run of these partner lists.

    Args:
        session: an open session.
        sources: the standardised partner lists about to be linked.

    Returns:
        ``{source, record_id, person_id, decision}`` (``accept``/``reject``): per pair the
        latest effective decision, for records whose fingerprint is unchanged since.
    """
    current = _keyed_fingerprints(_partners(sources))
    return _prior(_classified(session, current))


def stale_records(session: Any, sources: Sequence[SourceInput]) -> pl.DataFrame:
    """Records to put back in the queue: ``{source, record_id, decided_at}``.

    A record is stale when one of its effective decisions was made on a different version of
    it and no accept was made on the current version.
    """
    return _stale(_classified(session, _keyed_fingerprints(_partners(sources))))


def _stale(classified: pl.DataFrame) -> pl.DataFrame:
    ok = classified.filter(pl.col("valid") & (pl.col("decision") == "accept")).select(_KEYS)
    return (
        classified.filter(~pl.col("valid"))
        .join(ok, on=_KEYS, how="anti")
        .group_by(_KEYS)
        .agg(decided_at=pl.col("decided_at").max())
        .sort(_KEYS)
    )


def _absolute(path: Path | str | None) -> str | None:
    """The path resolved to an absolute one (a run is re-read from any folder)."""
    return None if path is None else str(Path(path).expanduser().resolve())


def _hash_files(paths: Sequence[Path | None]) -> dict[str, str]:
    return {str(_absolute(p)): sha256_file(p) for p in paths if p is not None}


def changed_inputs(hashes: dict[str, str]) -> list[str]:
    """The recorded input files that are missing or whose bytes changed, each as a phrase
    (``"<path> is missing"``, ``"<path> changed (sha256 now …, recorded …)"``).

    Relative paths (runs recorded by earlier versions) are read from the working folder.
    """
    problems = []
    for path, digest in hashes.items():
        if path == "registry snapshot":
            continue
        file = Path(path)
        if not file.is_file():
            problems.append(f"{path} is missing")
            continue
        now = sha256_file(file)
        if now != digest:
            problems.append(f"{path} changed (sha256 now {now[:12]}…, recorded {digest[:12]}…)")
    return problems


def _json_list(col: str) -> pl.Expr:
    """A list of plain codes as a JSON array (codes have no quotes or backslashes)."""
    inner = pl.col(col).list.join('","')
    return (
        pl.when(pl.col(col).list.len().fill_null(0) == 0)
        .then(pl.lit("[]"))
        .otherwise(pl.concat_str([pl.lit('["'), inner, pl.lit('"]')]))
    )


def _json_struct(cols: list[str], names: list[str] | None = None) -> pl.Expr:
    if not cols:
        return pl.lit("{}")
    fields = [
        (pl.col(c).fill_nan(None) if c.startswith("bf_") else pl.col(c)).alias(n)
        for c, n in zip(cols, names or cols, strict=True)
    ]
    return pl.struct(fields).struct.json_encode()


def _review_rows(
    result: LinkResult,
    left: pl.DataFrame,
    right: pl.DataFrame,
    stale: pl.DataFrame,
    prior: pl.DataFrame,
) -> pl.DataFrame:
    """Review items: the engine's review pairs plus the stale records' candidates."""
    review = result.review
    extra = stale.join(review.select(_KEYS).unique(), on=_KEYS, how="anti")
    if extra.height:
        links = result.links.join(extra.select(_KEYS), on=_KEYS, how="semi").with_columns(
            decision=pl.lit("review")
        )
        more = review_pairs(links, result.scored_pairs, left, right, result.model)
        review = pl.concat([review, more], how="diagonal_relaxed")
    if prior.height:  # a pair rejected (still valid) is not asked again
        rejected = prior.filter(pl.col("decision") == "reject").select(_PAIR)
        review = review.join(rejected, on=_PAIR, how="anti")
    notes = stale.select(
        *_KEYS,
        note=pl.format(
            "record changed since the decision of {}", pl.col("decided_at").dt.strftime("%Y-%m-%d")
        ),
    )
    return review.join(notes, on=_KEYS, how="left")


def _payload(review: pl.DataFrame, links: pl.DataFrame) -> pl.Expr:
    p_cols = [c for c in review.columns if c.startswith("p_")]
    r_cols = [c for c in review.columns if c.startswith("r_")]
    bf_cols = [c for c in review.columns if c.startswith("bf_")]
    return pl.concat_str(
        [
            pl.lit('{"partner":'),
            _json_struct(p_cols, [c[2:] for c in p_cols]),
            pl.lit(',"registry":'),
            _json_struct(r_cols, [c[2:] for c in r_cols]),
            pl.lit(',"bf":'),
            _json_struct(bf_cols, [c[3:] for c in bf_cols]),
            pl.lit(',"words":'),
            pl.struct(pl.col("explanation").fill_null("").str.split("; ").alias("w"))
            .struct.json_encode()
            .str.slice(5)
            .str.strip_suffix("}"),
            pl.lit(',"principal":'),
            _principal_json(review),
            pl.lit(',"link_reason":'),
            pl.struct(pl.col("link_reason").fill_null("").alias("r"))
            .struct.json_encode()
            .str.slice(5)
            .str.strip_suffix("}"),
            pl.lit("}"),
        ]
    )


_PRINCIPAL = {
    "principal_name": "name",
    "principal_person_id": "person_id",
    "principal_household_key": "household_key",
    "principal_registry_household_id": "registry_household_id",
}


def _principal_json(review: pl.DataFrame) -> pl.Expr:
    cols = [c for c in _PRINCIPAL if c in review.columns]
    if not cols:
        return pl.lit("null")
    return (
        pl.when(pl.col("p_principal_record_id").is_not_null())
        .then(
            pl.struct(
                pl.col("p_principal_record_id").alias("record_id"),
                *[pl.col(c).alias(_PRINCIPAL[c]) for c in cols],
            ).struct.json_encode()
        )
        .otherwise(pl.lit("null"))
    )


def _joined(frame: pl.DataFrame, cols: tuple[str, ...], separator: str) -> pl.Expr:
    """The non-empty values of ``cols`` joined (null when none is there)."""
    present = [pl.col(c) for c in cols if c in frame.columns]
    if not present:
        return pl.lit(None, dtype=pl.Utf8)
    return pl.concat_str(present, separator=separator, ignore_nulls=True).replace("", None)


def with_principals(
    review: pl.DataFrame, left: pl.DataFrame, households: pl.DataFrame
) -> pl.DataFrame:
    """Review rows of dependants plus their principal's name, registry person and household
    (``principal_name, principal_person_id, principal_household_key,
    principal_registry_household_id``), for the reviewer to see who declared them."""
    if "p_principal_record_id" not in review.columns or not review.height:
        return review
    name = _joined(left, ("given_name", "family_name"), " ")
    arabic = _joined(left, ("given_name_ar", "family_name_ar"), " ")
    full = pl.col("full_name") if "full_name" in left.columns else pl.lit(None, pl.Utf8)
    principals = left.select(
        "source",
        p_principal_record_id="record_id",
        principal_name=pl.coalesce(
            pl.concat_str([name, arabic], separator=" · ", ignore_nulls=True).replace("", None),
            full,
        ),
    )
    hh_cols = {"person_id", "household_key", "registry_household_id"} & set(households.columns)
    if hh_cols:
        principals = principals.join(
            households.select(
                "source",
                p_principal_record_id="record_id",
                **{f"principal_{c}": pl.col(c).cast(pl.Utf8) for c in sorted(hh_cols)},
            ),
            on=["source", "p_principal_record_id"],
            how="left",
        )
    # a dependant read from a file of its own may name its principal's source
    # (``principal_source``); by default the principal is in the dependant's own source
    principal_source = (
        pl.coalesce("p_principal_source", "source")
        if "p_principal_source" in review.columns
        else pl.col("source")
    )
    return (
        review.with_columns(_principal_source=principal_source)
        .join(
            principals.rename({"source": "_principal_source"}),
            on=["_principal_source", "p_principal_record_id"],
            how="left",
        )
        .drop("_principal_source")
    )


def _run_key(parts: dict[str, Any]) -> str:
    return sha256_text(json.dumps(parts, sort_keys=True, default=str))


def _save_model(result: LinkResult, engine: Engine) -> tuple[str, str]:
    text = json.dumps(model_to_dict(result.model), ensure_ascii=False, sort_keys=True)
    digest = sha256_text(text)
    folder = snapshot_dir(engine).parent / "models"  # beside the registry snapshots
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"model-{digest[:16]}.json"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return digest, str(path.resolve())


def record_run(
    factory: SessionFactory,
    result: LinkResult,
    *,
    partners: Sequence[SourceInput],
    registry: SourceInput,
    inputs: RunInputs,
    prior: pl.DataFrame | None = None,
    operator: str | None = None,
    started_at: datetime | None = None,
    parent_run_id: int | None = None,
) -> RecordedRun:
    """Record a link result as a run (see the module docstring for idempotence).

    Args:
        factory: session factory of an initialised database.
        result: what ``Linker.link`` returned for these partners and registry.
        partners: the standardised partner lists that were linked, in the same order.
        registry: the standardised registry that was linked.
        inputs: the files read, to hash and keep.
        prior: the reviewer decisions given to ``Linker.link`` (``prior_decisions(...)``).
        operator: who ran it (default: the OS user).
        started_at: when the match started (default: now).
        parent_run_id: the run this one re-runs (see :func:`recorded_inputs`).
    """
    who = operator_name(operator)
    left = _partners(partners)
    right = _frame(registry)
    current = _keyed_fingerprints(left)
    prior = (
        prior
        if prior is not None
        else pl.DataFrame(schema={c: pl.Utf8 for c in (*_PAIR, "decision")})
    )
    file_hashes = _hash_files([inputs.registry, *inputs.partners])
    config_hashes = _hash_files([inputs.registry_config, *inputs.configs, inputs.model_config])
    model_file_hash = sha256_file(inputs.model) if inputs.model else None
    records_hash = sha256_text(
        "\n".join(current.sort(_KEYS).select(pl.concat_str(pl.all(), separator="|")).to_series())
    )
    prior_hash = sha256_text(prior.sort(_PAIR).write_csv())
    session = factory()
    engine = session.get_bind()
    session.close()
    assert isinstance(engine, Engine)

    def write() -> RecordedRun:
        with transaction(factory) as s:
            snap_id = None
            if inputs.registry is None:
                snap_id = current_snapshot(s).id
                file_hashes["registry snapshot"] = current_snapshot(s).sha256
            key = _run_key(
                {
                    "files": file_hashes,
                    "configs": config_hashes,
                    "model": model_file_hash,
                    "records": records_hash,
                    "prior": prior_hash,
                }
            )
            existing = s.scalar(select(Run).where(Run.run_key == key))
            if existing is not None:
                audit(s, who, "run.record", f"run:{existing.id}", {"unchanged": True})
                return RecordedRun(existing.id, False, 0, 0, 0)
            stale = _stale(_classified(s, current))
            model_hash, model_path = _save_model(result, engine)
            for lst in partners:
                if isinstance(lst, StandardisedList) and lst.settings.config_path is not None:
                    cfg = Path(lst.settings.config_path)
                    upsert_source(s, lst.settings.source, cfg.read_text(encoding="utf-8"))
            run = Run(
                run_key=key,
                operator=who,
                started_at=started_at or utcnow(),
                finished_at=utcnow(),
                status="finished",
                parent_run_id=parent_run_id,
                registry_snapshot_id=snap_id,
                sources=sorted(left["source"].unique().to_list()),
                config_hashes=config_hashes,
                model_hash=model_hash,
                model_path=model_path,
                input_hashes=file_hashes,
                inputs={
                    "registry": _absolute(inputs.registry),
                    "registry_config": _absolute(inputs.registry_config),
                    "partners": [_absolute(p) for p in inputs.partners],
                    "configs": [_absolute(c) for c in inputs.configs],
                    "model_config": _absolute(inputs.model_config),
                    "model": _absolute(inputs.model),
                    "out_dir": _absolute(inputs.out_dir),
                },
                prior_decisions_hash=prior_hash,
                counts={
                    "records": left.height,
                    "registry": right.height,
                    "decisions": dict(result.summary.get("decisions", {})),
                    "prior_decisions": prior.height,
                },
                summary=json.loads(json.dumps(result.summary, default=str)),
            )
            s.add(run)
            s.flush()
            n_links = _insert_links(s, run.id, result.links, current)
            _insert_households(s, run.id, result.households)
            review = _review_rows(result, left, right, stale, prior)
            review = with_principals(review, left, result.households)
            n_items, reopened = _insert_items(s, run.id, review, result.links, current)
            _supersede_older(s, run.id, current)
            audit(
                s,
                who,
                "run.record",
                f"run:{run.id}",
                {"links": n_links, "review_items": n_items, "reopened": reopened},
            )
            return RecordedRun(run.id, True, n_links, n_items, reopened)

    return retry_locked(write)


def _insert_links(s: Any, run_id: int, links: pl.DataFrame, current: pl.DataFrame) -> int:
    bf = [c for c in links.columns if c.startswith("bf_")]
    rows = links.join(current, on=_KEYS, how="left").select(
        run_id=pl.lit(run_id, dtype=pl.Int64),
        source="source",
        record_id="record_id",
        person_id="person_id",
        probability=pl.col("match_probability").fill_nan(None),
        weight=pl.col("match_weight").fill_nan(None),
        decision="decision",
        reason="reason",
        fingerprint="fingerprint",
        bf=_json_struct(bf, [c[3:] for c in bf]),
    )
    bulk_insert(s, "links", rows.columns, rows)
    return rows.height


def _insert_households(s: Any, run_id: int, households: pl.DataFrame) -> None:
    rows = households.select(
        run_id=pl.lit(run_id, dtype=pl.Int64),
        household_key="household_key",
        registry_household_id="registry_household_id",
        source="source",
        record_id="record_id",
        person_id="person_id",
        beneficiary_key="beneficiary_key",
        role="role",
        flags=_json_list("flags"),
    )
    bulk_insert(s, "output_households", rows.columns, rows)


def _insert_items(
    s: Any, run_id: int, review: pl.DataFrame, links: pl.DataFrame, current: pl.DataFrame
) -> tuple[int, int]:
    if not review.height:
        return 0, 0
    now = utcnow()
    review = review.join(links.select(*_KEYS, link_reason="reason"), on=_KEYS, how="left").join(
        current, on=_KEYS, how="left"
    )
    rows = review.select(
        run_id=pl.lit(run_id, dtype=pl.Int64),
        source="source",
        record_id="record_id",
        person_id="person_id",
        rank=pl.col("candidate_rank").cast(pl.Int64),
        probability=pl.col("match_probability").fill_nan(None),
        weight=pl.col("match_weight").fill_nan(None),
        fingerprint="fingerprint",
        payload=_payload(review, links),
        status=pl.lit("open"),
        note="note",
        created_at=pl.lit(now),
        updated_at=pl.lit(now),
    )
    bulk_insert(s, "review_items", rows.columns, rows)
    reopened = rows.filter(pl.col("note").is_not_null())
    if reopened.height:
        items = s.scalars(
            select(ItemRow).where(ItemRow.run_id == run_id, ItemRow.note.is_not(None))
        )
        for it in items:
            s.add(
                ReviewDecision(
                    item_id=it.id,
                    run_id=run_id,
                    source=it.source,
                    record_id=it.record_id,
                    person_id=it.person_id,
                    fingerprint=it.fingerprint,
                    reviewer="system",
                    decision="reopen",
                    note=it.note,
                )
            )
    return rows.height, reopened.select(_KEYS).n_unique()


def _supersede_older(s: Any, run_id: int, current: pl.DataFrame) -> None:
    """Live items of earlier runs for records of this run are replaced by this run's."""
    sources = current["source"].unique().to_list()
    old = s.execute(
        select(ItemRow.id, ItemRow.source, ItemRow.record_id).where(
            ItemRow.run_id != run_id,
            ItemRow.status.in_(("open", "claimed")),
            ItemRow.source.in_(sources),
        )
    ).all()
    if not old:
        return
    frame = pl.DataFrame(
        {
            "id": [o[0] for o in old],
            "source": [o[1] for o in old],
            "record_id": [o[2] for o in old],
        },
        schema={"id": pl.Int64, "source": pl.Utf8, "record_id": pl.Utf8},
    )
    ids = frame.join(current.select(_KEYS), on=_KEYS, how="semi")["id"].to_list()
    for i in range(0, len(ids), 500):
        s.execute(
            update(ItemRow)
            .where(ItemRow.id.in_(ids[i : i + 500]))
            .values(status="superseded", claimed_by=None, claim_expires_at=None)
            .execution_options(synchronize_session=False)
        )


# ------------------------------------------------------------------ re-run after review


@dataclass(frozen=True)
class RecordedInputs:
    """What a recorded run read, checked unchanged: enough to run it again.

    ``registry`` is the run's registry file, or None when the run linked the database's
    registry snapshot (``snapshot``, a standardised Parquet file).
    """

    run_id: int
    inputs: RunInputs
    snapshot: Path | None
    #: the model the run linked with (the one given, or the one it trained and stored)
    model: Path | None


def recorded_inputs(factory: SessionFactory, run_id: int) -> RecordedInputs:
    """The inputs of a recorded run, to run it again with the reviewer decisions made since.

    The files are read from the absolute paths recorded with the run (from any folder).

    Raises:
        DatabaseError: no such run; the run has no recorded input files (recorded from
            frames); or an input file is missing or changed since (each one named).
    """
    with transaction(factory) as s:
        run = get_run(s, run_id)
        inputs = dict(run.inputs)
        hashes = {**dict(run.input_hashes), **dict(run.config_hashes)}
        model_path = run.model_path
        snap = current_snapshot(s) if inputs.get("registry") is None else None
        snap_file = snapshot_path(s, snap) if snap is not None else None
    if not inputs.get("partners") or not inputs.get("model_config"):
        raise DatabaseError(
            f"run {run_id} has no recorded input files (it was recorded from frames); re-run "
            f"`registry-link match --db ...` instead"
        )
    changed = changed_inputs(hashes)
    if changed:
        raise DatabaseError(
            f"run {run_id} cannot be re-run on the same inputs: {'; '.join(changed)}; run "
            f"`registry-link match --db ...` on the current files instead (a new run, "
            f"with the reviewers' decisions applied)"
        )
    used = model_path if model_path and Path(model_path).exists() else inputs.get("model")
    return RecordedInputs(
        run_id=run_id,
        inputs=RunInputs(
            partners=tuple(Path(p) for p in inputs["partners"]),
            configs=tuple(Path(c) for c in inputs["configs"]),
            registry=Path(inputs["registry"]) if inputs.get("registry") else None,
            registry_config=Path(inputs["registry_config"])
            if inputs.get("registry_config")
            else None,
            model_config=Path(inputs["model_config"]),
            model=Path(inputs["model"]) if inputs.get("model") else None,
        ),
        snapshot=Path(snap_file) if snap_file is not None else None,
        model=Path(used) if used else None,
    )


def previous_keys(factory: SessionFactory, run_id: int) -> pl.DataFrame:
    """The ``source, record_id, beneficiary_key`` of a recorded run's households."""
    with transaction(factory) as s:
        return _previous_keys(s, run_id)


def _previous_keys(s: Any, run_id: int) -> pl.DataFrame:
    from registry_link.db.models import OutputHousehold

    rows = s.execute(
        select(
            OutputHousehold.source, OutputHousehold.record_id, OutputHousehold.beneficiary_key
        ).where(OutputHousehold.run_id == run_id, OutputHousehold.beneficiary_key.is_not(None))
    ).all()
    return pl.DataFrame(
        {
            "source": [r[0] for r in rows],
            "record_id": [r[1] for r in rows],
            "beneficiary_key": [r[2] for r in rows],
        },
        schema={"source": pl.Utf8, "record_id": pl.Utf8, "beneficiary_key": pl.Utf8},
    )
