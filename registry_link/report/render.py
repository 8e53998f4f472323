"""The report page: the gathered facts and their charts in one self-contained HTML file.

A Jinja2 template (``templates/report.html.j2``, autoescaped) lays out the sections; charts
come as inline SVG (:mod:`registry_link.report.charts`). The page loads nothing: no script,
no web font, no image from elsewhere. Text that may be Arabic is wrapped in ``<bdi>`` (or
``dir="auto"``) so that it reads right-to-left inside French text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import jinja2
import polars as pl
from markupsafe import Markup

from registry_link import __version__
from registry_link.model import TrainedModel
from registry_link.report import charts
from registry_link.report.gather import REVIEW_FIELDS, RunData
from registry_link.report.model_facts import em_sessions, level_weights, tf_effect
from registry_link.schema import FLAG_CODES

#: The sections of the page, in order: (id, title). Tests check each is rendered.
SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("run", "The run"),
    ("quality", "Data quality per list"),
    ("blocking", "Blocking"),
    ("model", "The model"),
    ("weights", "Match weights of the best pairs"),
    ("decisions", "Decisions"),
    ("review", "Review pairs"),
    ("households", "Households"),
    ("accuracy", "Accuracy against a ground truth"),
)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("registry_link.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100 * float(value):.{digits}f} %"


def _svg(chart: Any) -> Markup:
    return Markup(charts.to_svg(chart))  # SVG drawn by vl-convert from our own data


def _quality(summary: Mapping[str, Any]) -> dict[str, Any]:
    quality = list(summary.get("data_quality", []))
    if not quality:
        return {"lists": [], "fill_chart": None, "mix_chart": None, "flags": []}
    mix = [
        {"source": q["source"], "script": k.replace("_", " "), "records": v}
        for q in quality
        for k, v in q.get("script_mix", {}).items()
    ]
    flags = sorted(
        {code for q in quality for code, n in q.get("flags", {}).items() if n},
    )
    return {
        "lists": quality,
        "fill_chart": _svg(charts.fill_rate_chart(quality)),
        "mix_chart": _svg(
            charts.stacked_share_chart(
                mix,
                category="script",
                title="Script of the names",
                colours={
                    "arabic only": "#00838f",
                    "latin only": "#5e35b1",
                    "both": "#43a047",
                    "none": "#bdbdbd",
                },
            )
        ),
        "flags": [
            {
                "code": code,
                "meaning": FLAG_CODES.get(code, ""),
                "counts": [q.get("flags", {}).get(code, 0) for q in quality],
            }
            for code in flags
        ],
    }


def _blocking(summary: Mapping[str, Any]) -> dict[str, Any]:
    per_rule = summary.get("candidate_pairs_by_rule", {})
    frame = pl.DataFrame(
        {"rule": list(per_rule), "pairs": [int(v) for v in per_rule.values()]},
        schema={"rule": pl.Utf8, "pairs": pl.Int64},
    ).sort("pairs", descending=True)
    chart = (
        _svg(
            charts.bar_chart(
                frame,
                "rule",
                "pairs",
                title="Candidate pairs per blocking rule (first rule that found the pair)",
                value_title="pairs",
            )
        )
        if frame.height
        else None
    )
    return {
        "chart": chart,
        "total": summary.get("candidate_pairs"),
        "skipped": summary.get("records_in_skipped_blocks", {}),
        "cut_off": summary.get("records_cut_off_by_blocking_limits", 0),
        "largest_blocks": summary.get("largest_blocks"),
    }


def _model(model: TrainedModel | None, summary: Mapping[str, Any]) -> dict[str, Any]:
    training = summary.get("model", {}).get("training", {}) or {}
    sessions = em_sessions(training)
    out: dict[str, Any] = {
        "present": model is not None,
        "prior": summary.get("model", {}).get("prior"),
        "sessions": sessions.to_dicts(),
        "never_observed": training.get("never_observed", []),
        "comparisons": [],
        "weights_chart": None,
        "tf_chart": None,
    }
    if model is None:
        return out
    levels = level_weights(model)
    out["comparisons"] = levels.to_dicts()
    out["weights_chart"] = _svg(
        charts.level_weight_charts(
            [(c.name, levels.filter(pl.col("comparison") == c.name)) for c in model.comparisons]
        )
    )
    tf = tf_effect(model)
    if tf.height:
        out["tf_chart"] = _svg(charts.tf_chart(tf))
    return out


def _review(data: RunData) -> list[dict[str, Any]]:
    sample = data.review_sample
    bf_cols = [c for c in sample.columns if c.startswith("bf_")]
    pairs = []
    for row in sample.iter_rows(named=True):
        steps = [(c.removeprefix("bf_"), float(row[c] or 0.0)) for c in bf_cols]
        prior = float(row["match_weight"]) - sum(v for _, v in steps)
        shown = [("prior", prior), *[(n, v) for n, v in steps if v != 0.0]]
        fields = [
            {"field": f, "partner": row.get(f"p_{f}"), "registry": row.get(f"r_{f}")}
            for f in REVIEW_FIELDS
            if row.get(f"p_{f}") is not None or row.get(f"r_{f}") is not None
        ]
        pairs.append(
            {
                "row": row,
                "chart": _svg(charts.waterfall_chart(shown)),
                "fields": fields,
            }
        )
    return pairs


def _households(data: RunData, summary: Mapping[str, Any]) -> dict[str, Any]:
    sizes = data.household_sizes.with_columns(pl.col("members").cast(pl.Utf8))
    descriptions = summary.get("household_flag_descriptions", {})
    return {
        "count": summary.get("households"),
        "sizes_chart": _svg(
            charts.bar_chart(
                sizes,
                "members",
                "households",
                title="Households by number of members",
                value_title="households",
            )
        )
        if sizes.height
        else None,
        "flags": [
            {**r, "description": descriptions.get(r["flag"], "")}
            for r in data.household_flags.to_dicts()
        ],
    }


def _accuracy(data: RunData, thresholds: Mapping[str, float]) -> dict[str, Any]:
    if data.truth is None:
        return {"present": False, "evaluation": data.evaluation}
    p = thresholds.get("match")
    match_weight = math.log2(p / (1 - p)) if p is not None and 0 < p < 1 else None
    return {
        "present": True,
        "evaluation": data.evaluation,
        "per_list": data.truth.per_list.to_dicts(),
        "slices": data.truth.slices.to_dicts(),
        "curve_chart": _svg(charts.precision_recall_chart(data.truth.curve, match_weight)),
    }


def render_report(data: RunData, model: TrainedModel | None) -> str:
    """The report page as HTML text."""
    summary = data.summary
    thresholds = summary.get("thresholds", {})
    timings = summary.get("timings_s", {})
    timing_frame = pl.DataFrame(
        {"stage": list(timings), "seconds": [float(v) for v in timings.values()]},
        schema={"stage": pl.Utf8, "seconds": pl.Float64},
    )
    decisions = data.decisions.to_dicts()
    weights = data.weights
    context = {
        "sections": SECTIONS,
        "run_dir": str(data.run_dir),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "report_version": __version__,
        "summary": summary,
        "training": summary.get("model", {}).get("training", {}) or {},
        "thresholds": thresholds,
        "timing_chart": _svg(
            charts.bar_chart(
                timing_frame,
                "stage",
                "seconds",
                title="Time per stage",
                value_title="seconds",
                value_format=".2f",
            )
        )
        if timing_frame.height
        else None,
        "quality": _quality(summary),
        "blocking": _blocking(summary),
        "model": _model(model, summary),
        "weights_chart": _svg(charts.weight_histogram_chart(weights, thresholds))
        if weights.height
        else None,
        "decisions_chart": _svg(
            charts.stacked_share_chart(
                decisions,
                category="decision",
                title="Decisions per list",
                colours=charts.DECISION_COLOURS,
            )
        )
        if decisions
        else None,
        "decisions": decisions,
        "reasons": data.reasons.to_dicts(),
        "review_pairs": _review(data),
        "review_total": summary.get("output_counts", {}).get("review_records"),
        "review_rows": summary.get("output_counts", {}).get("review_rows"),
        "households": _households(data, summary),
        "accuracy": _accuracy(data, thresholds),
    }
    return _environment().get_template("report.html.j2").render(**context)
