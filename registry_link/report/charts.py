"""The report's charts: Altair (Vega-Lite) specs rendered to inline SVG by vl-convert.

Each function takes a small, aggregated frame (see :mod:`registry_link.report.gather`) and
returns an Altair chart; :func:`to_svg` renders one to SVG text, with its element ids made
unique so that many charts can live in one HTML page. No JavaScript and no network: the SVG is
drawn here, the browser only displays it.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import altair as alt
import polars as pl

#: The system font stack of the page, used in the charts too (French and Arabic glyphs).
FONT_STACK: Final[str] = (
    "system-ui, 'Segoe UI', 'Noto Sans', 'Noto Naskh Arabic', 'DejaVu Sans', Tahoma, "
    "Arial, sans-serif"
)
DECISION_COLOURS: Final[dict[str, str]] = {
    "match": "#2e7d32",
    "review": "#f9a825",
    "non_match": "#c62828",
}
#: Chart width in CSS pixels (fits a laptop screen and an A4 page).
WIDTH: Final[int] = 560

_ids = itertools.count(1)

#: What the chart functions return: a single, layered or concatenated Altair chart.
Chart = alt.TopLevelMixin


def _data(frame: pl.DataFrame | Sequence[Mapping[str, Any]]) -> alt.Data:
    rows = frame.to_dicts() if isinstance(frame, pl.DataFrame) else list(frame)
    clean = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in rows
    ]
    return alt.Data(values=clean)


def _vl_version() -> str:
    """The Vega-Lite version of Altair's schema, as vl-convert names it (``"6.4"``)."""
    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


def to_svg(chart: Chart) -> str:
    """The chart as SVG text, its ids prefixed so that several SVGs can share a page."""
    import vl_convert as vlc

    spec = chart.to_dict(validate=False)  # (configure() would deep-copy the chart and its data)
    config = spec.setdefault("config", {})
    config["font"] = FONT_STACK
    config.setdefault("view", {})["stroke"] = None
    svg: str = vlc.vegalite_to_svg(spec, vl_version=_vl_version())
    prefix = f"c{next(_ids)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


def bar_chart(
    frame: pl.DataFrame,
    category: str,
    value: str,
    *,
    title: str,
    value_title: str,
    colour: str = "#1565c0",
    value_format: str = ",.0f",
) -> Chart:
    """Horizontal bars of ``value`` per ``category``, labelled with their value."""
    base = alt.Chart(_data(frame)).encode(
        y=alt.Y(f"{category}:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X(f"{value}:Q", title=value_title),
    )
    bars = base.mark_bar(color=colour)
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=value_format)
    )
    return (bars + labels).properties(title=title, width=WIDTH - 200)


def fill_rate_chart(quality: Sequence[Mapping[str, Any]]) -> Chart:
    """Heat map: fill rate per field (rows) and partner list (columns); fields empty in every
    list are left out."""
    used = {f for q in quality for f, rate in q.get("fill_rate", {}).items() if rate > 0}
    rows = [
        {"source": q["source"], "field": f, "fill": rate}
        for q in quality
        for f, rate in q.get("fill_rate", {}).items()
        if f in used
    ]
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("source:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=180)),
        y=alt.Y("field:N", sort=None, title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "fill:Q",
            title="filled",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(format="%"),
        )
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("fill:Q", format=".0%"),
        color=alt.condition("datum.fill > 0.6", alt.value("white"), alt.value("black")),
    )
    return (cells + text).properties(title="Fill rate per field", width=WIDTH - 220)


def stacked_share_chart(
    rows: Sequence[Mapping[str, Any]], *, category: str, title: str, colours: Mapping[str, str]
) -> Chart:
    """Horizontal stacked bars: records per ``category`` within each source."""
    return (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            y=alt.Y("source:N", title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("records:Q", title="records", stack="zero"),
            color=alt.Color(
                f"{category}:N",
                title=category.replace("_", " "),
                scale=alt.Scale(domain=list(colours), range=list(colours.values())),
            ),
            order=alt.Order(f"{category}:N"),
        )
        .properties(title=title, width=WIDTH - 200)
    )


def level_weight_chart(levels: pl.DataFrame, comparison: str) -> alt.LayerChart:
    """Splink-style match weights of one comparison: log2(m/u) per level, closest on top."""
    frame = levels.with_columns(
        shown=pl.col("weight").fill_null(0.0), sign=pl.col("weight").fill_null(0.0) >= 0
    )
    base = alt.Chart(_data(frame)).encode(
        y=alt.Y("level:N", sort=None, title=None, axis=alt.Axis(labelLimit=160)),
        x=alt.X("shown:Q", title="match weight (bits)"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "sign:N",
            legend=None,
            scale=alt.Scale(domain=[True, False], range=["#2e7d32", "#c62828"]),
        )
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text("weight:Q", format="+.1f")
    )
    zero = alt.Chart(_data([{"x": 0}])).mark_rule(color="#555").encode(x="x:Q")
    return (bars + labels + zero).properties(title=comparison, width=200)


def level_weight_charts(comparisons: Sequence[tuple[str, pl.DataFrame]]) -> Chart:
    """One :func:`level_weight_chart` per comparison, three to a row (drawn at once)."""
    return alt.concat(
        *(level_weight_chart(levels, name) for name, levels in comparisons), columns=3
    ).resolve_scale(color="independent")


def tf_chart(tf: pl.DataFrame) -> Chart:
    """Bits of an exact agreement on the most frequent values, per adjusted comparison."""
    frame = tf.with_columns(label=pl.col("comparison") + ": " + pl.col("value"))
    return (
        alt.Chart(_data(frame))
        .mark_bar(color="#6a1b9a")
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=240)),
            x=alt.X("adjustment:Q", title="weight of an exact agreement on the value (bits)"),
        )
        .properties(
            title="Term frequencies: bits added to an exact agreement on the commonest values",
            width=WIDTH - 240,
        )
    )


def weight_histogram_chart(weights: pl.DataFrame, thresholds: Mapping[str, float]) -> Chart:
    """Best-pair match weights per list, coloured by decision, thresholds marked."""
    marks = [
        {
            "threshold": f"{name} p≥{p:g}",
            "weight": math.log2(p / (1 - p)),
            "align": "left" if name == "match" else "right",
        }
        for name, p in thresholds.items()
        if name in ("match", "review") and 0 < p < 1
    ]
    lo = min([-10.0, *weights["bin"].to_list()])
    hi = max([10.0, *weights["bin"].to_list()]) + 1
    charts = []
    for source in weights["source"].unique().sort().to_list():
        part = weights.filter(pl.col("source") == source)
        bars = (
            alt.Chart(_data(part))
            .mark_bar()
            .encode(
                x=alt.X(
                    "bin:Q",
                    title="match weight of the best pair (bits)",
                    bin="binned",
                    scale=alt.Scale(domain=[lo, hi]),
                ),
                x2="bin_end:Q",
                y=alt.Y(
                    "records:Q",
                    title="records (symlog scale)",
                    stack="zero",
                    scale=alt.Scale(type="symlog"),
                ),
                color=alt.Color(
                    "decision:N",
                    scale=alt.Scale(
                        domain=list(DECISION_COLOURS), range=list(DECISION_COLOURS.values())
                    ),
                ),
            )
            .transform_calculate(bin_end="datum.bin + 1")
        )
        rules = (
            alt.Chart(_data(marks))
            .mark_rule(strokeDash=[4, 3], color="#333")
            .encode(x="weight:Q", tooltip=["threshold:N"])
        )
        text = [
            alt.Chart(_data([m]))
            .mark_text(
                align="left" if m["align"] == "left" else "right",
                dx=4 if m["align"] == "left" else -4,
                fontSize=10,
                y=0,
                baseline="top",
            )
            .encode(x="weight:Q", text="threshold:N")
            for m in marks
        ]
        charts.append(
            alt.layer(bars, rules, *text).properties(title=source, width=WIDTH, height=120)
        )
    return alt.vconcat(*charts)


def waterfall_chart(fields: Sequence[tuple[str, float]]) -> Chart:
    """The bits that make a pair's weight: the prior, then each field, then the total."""
    rows, total = [], 0.0
    for name, value in fields:
        rows.append({"step": name, "start": total, "end": total + value, "bits": value})
        total += value
    rows.append({"step": "= match weight", "start": 0.0, "end": total, "bits": total})
    order = [str(r["step"]) for r in rows]
    base = alt.Chart(_data(rows)).encode(
        y=alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=160))
    )
    bars = base.mark_bar().encode(
        x=alt.X("start:Q", title="bits"),
        x2="end:Q",
        color=alt.condition("datum.bits >= 0", alt.value("#2e7d32"), alt.value("#c62828")),
    )
    labels = (
        base.mark_text(align="left", dx=3, fontSize=9)
        .encode(x="max_end:Q", text=alt.Text("bits:Q", format="+.1f"))
        .transform_calculate(max_end="max(datum.start, datum.end)")
    )
    return (bars + labels).properties(width=WIDTH - 200, height=len(rows) * 16)


def precision_recall_chart(curve: pl.DataFrame, match_weight: float | None) -> Chart:
    """Precision and recall of the best candidate over the weight threshold, per list."""
    long = curve.unpivot(
        index=["source", "threshold"], on=["precision", "recall"], variable_name="measure"
    ).drop_nulls("value")
    lines = (
        alt.Chart(_data(long))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("threshold:Q", title="match weight threshold (bits)"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color("source:N", title="list"),
            strokeDash=alt.StrokeDash("measure:N", title="measure"),
        )
    )
    layers: list[Any] = [lines]
    if match_weight is not None:
        layers.append(
            alt.Chart(_data([{"w": match_weight}]))
            .mark_rule(strokeDash=[4, 3], color="#333")
            .encode(x="w:Q")
        )
    return alt.layer(*layers).properties(
        title="Precision and recall over the match threshold", width=WIDTH, height=220
    )
