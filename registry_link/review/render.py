"""How one review item is shown at a terminal.

The partner record and the registry candidate side by side, one row per comparison of the
model (family name, given name, CIN, birth date …) with its contribution to the match weight in
signed bits (the item payload's ``bf``), then the explanation in words, the other candidates of
the same partner record and the progress line.

Arabic: ordinary terminals rarely implement the Unicode bidirectional algorithm, so an Arabic
value may show with its letters left to right. Every Arabic value is therefore printed **as
stored** and followed by its Latin matching form (the transliteration the matcher compares),
e.g. ``العلوي ‹elouy›``. With ``visual_rtl=True`` the Arabic is instead reordered for a
terminal without bidi (needs the optional ``python-bidi`` package); do not use it in a terminal
that does bidi itself (it would reverse the text twice).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from registry_link.db.queue import Progress, ReviewItem
from registry_link.errors import UsageError

#: Display rows: label, the record fields shown in it (Latin first), the model comparison whose
#: contribution (``bf``) goes with it (``None``: shown for context, not compared).
FIELD_LAYOUT: Final[tuple[tuple[str, tuple[str, ...], str | None], ...]] = (
    ("family name", ("family_name", "family_name_ar"), "family"),
    ("given name", ("given_name", "given_name_ar"), "given"),
    ("full name", ("full_name",), "full_name"),
    ("father's given name", ("father_given_name",), "father"),
    ("CIN", ("cin",), "cin"),
    ("CNSS number", ("cnss_number",), "cnss"),
    ("sex", ("sex",), "sex"),
    ("birth date", ("birth_date_raw",), "birth_date"),
    ("birth place", ("birth_place_raw",), "birth_place"),
    ("residence", ("residence_raw",), "residence"),
    ("relationship", ("relationship", "relation_to_head"), None),
    ("household", ("household_id",), "household"),
    ("principal record", ("principal_record_id",), None),
)

#: The single-key actions of the console, in help order.
KEYS: Final[tuple[tuple[str, str, str], ...]] = (
    ("a", "accept", "this registry person IS the partner record's person"),
    ("r", "reject", "this registry person is NOT them (the next candidate follows)"),
    ("s", "skip", "leave this record for later or for someone else"),
    ("u", "undo", "undo your last accept/reject and show that item again"),
    ("n", "note", "add a note to this item (then type a line of text)"),
    ("q", "quit", "stop here (every decision is already saved)"),
    ("?", "help", "this help"),
)

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_MISSING = "—"


@dataclass(frozen=True)
class FieldRow:
    """One display row: both sides' values (one line per field) and the contribution."""

    label: str
    partner: tuple[str, ...]
    registry: tuple[str, ...]
    bits: float | None
    comparison: str | None


def has_arabic(text: str | None) -> bool:
    """Whether the text contains Arabic letters."""
    return bool(text) and _ARABIC.search(text or "") is not None


def latin_forms(values: Iterable[str]) -> dict[str, str]:
    """The Latin matching form of each Arabic value (one vectorised pass), keyed by value."""
    from registry_link.names.matcher import matching_form_expr

    arabic = sorted({v for v in values if has_arabic(v)})
    if not arabic:
        return {}
    forms = pl.DataFrame({"v": arabic}, schema={"v": pl.Utf8}).select(
        "v", f=matching_form_expr(pl.col("v"))
    )
    return {v: f for v, f in forms.iter_rows() if f}


def _visual(text: str) -> str:
    try:
        from bidi import get_display  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError(
            "--rtl-visual needs the python-bidi package; install it with "
            "`pip install python-bidi`, or leave the option out (Arabic is then shown as stored "
            "with its Latin form beside it)"
        ) from exc
    return str(get_display(text))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _side(record: dict[str, Any], fields: Sequence[str]) -> tuple[str, ...]:
    return tuple(t for f in fields if (t := _text(record.get(f))) is not None)


def field_rows(payload: dict[str, Any]) -> list[FieldRow]:
    """The display rows of an item payload.

    A row with no value on either side is left out unless its comparison moved the weight.

    Contributions of comparisons the layout does not know are added at the end, so no bit of
    the weight is hidden from the reviewer.
    """
    partner = dict(payload.get("partner") or {})
    registry = dict(payload.get("registry") or {})
    bf = dict(payload.get("bf") or {})
    rows: list[FieldRow] = []
    for label, fields, comp in FIELD_LAYOUT:
        p, r = _side(partner, fields), _side(registry, fields)
        bits = bf.get(comp) if comp is not None else None
        if p or r or (bits is not None and float(bits) != 0.0):
            rows.append(FieldRow(label, p, r, None if bits is None else float(bits), comp))
    known = {comp for _, _, comp in FIELD_LAYOUT}
    for comp, bits in bf.items():
        if comp not in known and bits is not None:
            rows.append(FieldRow(comp.replace("_", " "), (), (), float(bits), comp))
    return rows


def _cell(values: tuple[str, ...], forms: dict[str, str], visual_rtl: bool) -> Text:
    if not values:
        return Text(_MISSING, style="dim")
    out = Text()
    for i, value in enumerate(values):
        if i:
            out.append("\n")
        if has_arabic(value):
            out.append(_visual(value) if visual_rtl else value)
            if value in forms:
                out.append(f" ‹{forms[value]}›", style="cyan")
        else:
            out.append(value)
    return out


def _bits(bits: float | None) -> Text:
    if bits is None:
        return Text(_MISSING, style="dim")
    style = "green" if bits > 0 else "red" if bits < 0 else ""
    return Text(f"{bits:+.1f}", style=style)


def progress_text(progress: Progress, reviewer: str) -> str:
    """The progress line: the current record's position, what is left, the reviewer's tally."""
    done = progress.records_total - progress.records_left
    current = min(done + 1, progress.records_total)
    return (
        f"record {current} of {progress.records_total} · {progress.records_left} left to review "
        f"({progress.open} item(s) open, {progress.claimed} claimed) · "
        f"{progress.mine} decision(s) by {reviewer}"
    )


def help_text() -> Text:
    """The key help."""
    out = Text("Keys:\n", style="bold")
    for key, name, what in KEYS:
        out.append(f"  {key}  {name:<7}", style="bold")
        out.append(f"{what}\n")
    return out


def key_hint() -> Text:
    """The one-line reminder of the keys under every item."""
    out = Text()
    for key, name, _ in KEYS:
        out.append(f"[{key}]", style="bold")
        out.append(f" {name}  ")
    return out


def _candidates(item: ReviewItem, group: Sequence[ReviewItem]) -> Table:
    table = Table(title="Candidates for this record", title_justify="left", box=None)
    for col in ("", "rank", "registry person", "probability", "state"):
        table.add_column(col)
    for g in group:
        state = g.decision or ("closed" if g.status == "decided" else g.status)
        if g.decided_by:
            state += f" by {g.decided_by}"
        table.add_row(
            "▶" if g.id == item.id else "",
            str(g.rank),
            g.person_id,
            "—" if g.probability is None else f"{g.probability:.3f}",
            state,
        )
    return table


def render_item(
    item: ReviewItem,
    group: Sequence[ReviewItem] = (),
    progress: Progress | None = None,
    reviewer: str = "",
    *,
    visual_rtl: bool = False,
) -> RenderableType:
    """One review item as a rich renderable (header, field table, words, candidates, progress).

    Args:
        item: the item shown.
        group: every candidate of the same partner record (from ``ReviewQueue.group``).
        progress: the queue's progress, for the progress line.
        reviewer: who is reviewing (for the progress line).
        visual_rtl: reorder Arabic for a terminal without bidi (needs python-bidi).
    """
    payload = item.payload
    rows = field_rows(payload)
    forms = latin_forms(v for r in rows for v in (*r.partner, *r.registry))
    n_cand = max(len(group), 1)
    head = Text(f"Review item {item.id}", style="bold")
    head.append(
        f" · run {item.run_id} · {item.source} record {item.record_id} ↔ registry person "
        f"{item.person_id} (candidate {item.rank} of {n_cand})"
    )
    prob = "—" if item.probability is None else f"{item.probability:.3f}"
    weight = "—" if item.weight is None else f"{item.weight:+.1f} bits"
    summary = Text(f"match probability {prob} · match weight {weight}", style="bold")
    parts: list[RenderableType] = [head, summary]
    if item.note:
        parts.append(Text(f"note: {item.note}", style="yellow"))
    reason = _text(payload.get("link_reason"))
    if reason:
        parts.append(Text(f"why in review: {reason}", style="dim"))
    table = Table(show_lines=False, expand=False)
    table.add_column("field", style="bold")
    table.add_column(f"partner ({item.source})")
    table.add_column("registry person")
    table.add_column("bits", justify="right")
    for r in rows:
        table.add_row(
            r.label,
            _cell(r.partner, forms, visual_rtl),
            _cell(r.registry, forms, visual_rtl),
            _bits(r.bits),
        )
    if item.weight is not None:
        prior = item.weight - sum(r.bits for r in rows if r.bits is not None)
        table.add_row(Text("prior", style="dim"), "before any field", "", _bits(prior))
    table.add_row(Text("total weight", style="bold"), "", "", _bits(item.weight))
    parts.append(table)
    words = [w for w in payload.get("words") or [] if w]
    if words:
        parts.append(Text("In words:", style="bold"))
        parts.extend(Text(f"  • {w}", style="dim" if w.endswith(": +0.0") else "") for w in words)
    if len(group) > 1:
        parts.append(_candidates(item, group))
    if progress is not None:
        parts.append(Text(progress_text(progress, reviewer), style="magenta"))
    parts.append(key_hint())
    return Group(*parts)


def to_text(renderable: RenderableType, width: int = 120) -> str:
    """The renderable as plain text (no colours), for tests and logs."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
