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

from registry_link.db.queue import Note, Progress, ReviewItem
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
    ("a", "accept", "the candidate shown (▶) IS the partner record's person"),
    ("r", "reject", "the candidate shown is NOT them (the next candidate follows)"),
    ("x", "none", "none of these: reject every candidate of this record at once"),
    ("c", "next", "show the next candidate of this record (also Tab, →; 1-9 pick one)"),
    ("s", "skip", "leave this record for later or for someone else"),
    ("u", "undo", "undo your last accept/reject and show that item again"),
    ("n", "note", "add a note to this item (type a line, Enter saves, Esc cancels)"),
    ("q", "quit", "stop here (every decision is already saved; your claim is released)"),
    ("?", "help", "this help"),
)

#: The rows kept on the smallest screen: the decision-relevant fields.
ESSENTIAL_FIELDS: Final[frozenset[str]] = frozenset(
    {"family name", "given name", "full name", "CIN", "birth date"}
)
#: Lines kept free under the screen for what the last key did.
MESSAGE_LINES: Final[int] = 2
#: Width of one candidate's column (value and bits) when candidates go side by side.
CANDIDATE_WIDTH: Final[int] = 34

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
            "`pip install 'registry-link[rtl]'`, or leave the option out (Arabic is then shown "
            "as stored with its Latin form beside it)"
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


def require_bidi() -> None:
    """Check that ``--rtl-visual`` can work, before anything is claimed.

    Raises:
        UsageError: python-bidi (the ``rtl`` extra) is not installed.
    """
    _visual("")


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
    out.append("  Esc cancels a note being typed; Ctrl-C quits like q.\n")
    return out


def key_hint(width: int | None = None) -> Text:
    """The one-line reminder of the keys under every item (ends with ``[?] help``); below 90
    columns in its short form (``[a]ccept [r]eject …``)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    short = width is not None and width < 90
    for i, (key, name, _) in enumerate(KEYS):
        if i:
            out.append(" ")
        if short and name.startswith(key) and key != "?":
            out.append(f"[{key}]", style="bold")
            out.append(name[1:])
        else:
            out.append(f"[{key}]", style="bold")
            out.append(f" {name}")
    return out


def _state(g: ReviewItem) -> str:
    state = g.decision or ("closed" if g.status == "decided" else g.status)
    if g.decided_by:
        state += f" by {g.decided_by}"
    return state


def _prob(p: float | None) -> str:
    return "—" if p is None else f"{p:.3f}"


def _candidates_table(item: ReviewItem, group: Sequence[ReviewItem]) -> Table:
    table = Table(title="Candidates for this record", title_justify="left", box=None)
    for col in ("", "rank", "registry person", "probability", "state"):
        table.add_column(col)
    for g in group:
        table.add_row(
            "▶" if g.id == item.id else "",
            str(g.rank),
            g.person_id,
            _prob(g.probability),
            _state(g),
        )
    return table


def _candidates_line(item: ReviewItem, group: Sequence[ReviewItem]) -> Text:
    out = Text("candidates: ", style="bold")
    for i, g in enumerate(group):
        if i:
            out.append(" · ")
        current = g.id == item.id
        out.append(
            f"{'▶' if current else ''}{g.rank} {g.person_id} p={_prob(g.probability)}",
            style="bold" if current else "",
        )
        if g.status != "claimed":
            out.append(f" {_state(g)}", style="dim")
    return out


def _principal_line(payload: dict[str, Any], visual_rtl: bool) -> Text | None:
    principal = payload.get("principal")
    partner = payload.get("partner") or {}
    record = _text((principal or {}).get("record_id")) or _text(partner.get("principal_record_id"))
    if record is None:
        return None
    out = Text("principal: ", style="bold", no_wrap=False)
    out.append(f"record {record}")
    info = principal or {}
    name = _text(info.get("name"))
    if name:
        out.append(" · ")
        out.append(_visual(name) if visual_rtl and has_arabic(name) else name)
    else:
        out.append(" (not in this run's lists)", style="dim")
    if _text(info.get("person_id")):
        out.append(f" · registry person {info['person_id']}")
    if _text(info.get("household_key")):
        out.append(f" · household {info['household_key']}")
    if _text(info.get("registry_household_id")):
        out.append(f" (registry household {info['registry_household_id']})")
    return out


def _notes_text(notes: Sequence[Note], limit: int | None) -> Text | None:
    if not notes:
        return None
    shown = list(notes) if limit is None else list(notes)[-limit:]
    out = Text()
    if len(shown) < len(notes):
        out.append(f"notes ({len(notes) - len(shown)} older not shown):\n", style="bold")
    else:
        out.append("notes:\n", style="bold")
    for i, n in enumerate(shown):
        if i:
            out.append("\n")
        out.append(f"  {n.at:%Y-%m-%d} {n.reviewer}", style="yellow")
        what = "" if n.kind == "note" else f" ({n.kind} {n.person_id})"
        out.append(f"{what}: {n.text}")
    return out


def _field_table(
    item: ReviewItem,
    shown: Sequence[ReviewItem],
    labels: set[str] | None,
    forms: dict[str, str],
    visual_rtl: bool,
    *,
    totals: bool,
    box_lines: bool,
) -> tuple[Table, int]:
    """The partner record beside each shown candidate; returns the table and the number of
    field rows left out (``labels``: the rows to keep, ``None``: all)."""
    from rich import box

    per_cand = [{r.label: r for r in field_rows(c.payload)} for c in shown]
    order: list[str] = []
    for rows in per_cand:
        order += [label for label in rows if label not in order]
    kept = [label for label in order if labels is None or label in labels]
    table = Table(box=box.SIMPLE_HEAD if box_lines else None, pad_edge=False, padding=(0, 1))
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column(f"partner ({item.source})")
    for c in shown:
        mark = "▶ " if c.id == item.id and len(shown) > 1 else ""
        table.add_column(f"{mark}{c.rank}: {c.person_id}  p={_prob(c.probability)}")
        table.add_column("bits", justify="right", no_wrap=True)
    partner_rows = {r.label: r for rows in per_cand for r in rows.values()}
    for label in kept:
        row: list[RenderableType] = [
            label,
            _cell(partner_rows[label].partner, forms, visual_rtl),
        ]
        for rows in per_cand:
            r = rows.get(label)
            row += [
                _cell(r.registry if r else (), forms, visual_rtl),
                _bits(r.bits if r else None),
            ]
        table.add_row(*row)
    if totals:
        prior: list[RenderableType] = [Text("prior", style="dim"), "before any field"]
        total: list[RenderableType] = [Text("total weight", style="bold"), ""]
        for c, rows in zip(shown, per_cand, strict=True):
            fields = sum(r.bits for r in rows.values() if r.bits is not None)
            prior += ["", _bits(None if c.weight is None else c.weight - fields)]
            total += ["", _bits(c.weight)]
        table.add_row(*prior)
        table.add_row(*total)
    return table, len(order) - len(kept)


def _shown_candidates(
    item: ReviewItem, group: Sequence[ReviewItem], width: int | None
) -> list[ReviewItem]:
    """The candidates drawn side by side: all that fit the width, the current one first
    among them (then the following ranks)."""
    live = [g for g in group if g.status in ("open", "claimed") or g.id == item.id] or [item]
    if width is None:
        return [item]
    fit = max(1, (width - 36) // CANDIDATE_WIDTH)
    if fit >= len(live):
        return live
    at = next((i for i, g in enumerate(live) if g.id == item.id), 0)
    return [live[(at + k) % len(live)] for k in range(fit)]


def _lines(part: RenderableType, width: int) -> int:
    # inside a Group, as drawn: printed alone, a Text would lose its no_wrap
    return to_text(Group(part), width=width).rstrip("\n").count("\n") + 1


def render_item(
    item: ReviewItem,
    group: Sequence[ReviewItem] = (),
    progress: Progress | None = None,
    reviewer: str = "",
    *,
    notes: Sequence[Note] = (),
    width: int | None = None,
    height: int | None = None,
    visual_rtl: bool = False,
) -> RenderableType:
    """One review item as a rich renderable, fitted to a ``width`` × ``height`` screen.

    Always kept (in this order of importance): the header with the shown candidate's own
    probability and weight, why the record is in review, both names, dates and CIN side by
    side with their bits, the keys. Then, as room allows: the other fields, the progress
    line, the candidates line, the dependant's principal, notes, the weight's prior and total,
    the explanation in words. A wide screen shows several candidates side by side, each with
    its own probability and bits; a narrow one shows the current candidate (``c`` cycles).
    Without ``width``/``height`` everything is drawn, one candidate, for logs and tests.

    Args:
        item: the candidate shown (▶).
        group: every candidate of the same partner record (from ``ReviewQueue.group``).
        progress: the queue's progress, for the progress line.
        reviewer: who is reviewing (for the progress line).
        notes: the record's notes (``ReviewQueue.notes``).
        width: terminal columns (``None``: unbounded).
        height: terminal lines (``None``: unbounded); :data:`MESSAGE_LINES` are kept free.
        visual_rtl: reorder Arabic for a terminal without bidi (needs python-bidi).
    """
    group = list(group) or [item]
    shown = _shown_candidates(item, group, width)
    payload = item.payload
    values = [v for c in shown for r in field_rows(c.payload) for v in (*r.partner, *r.registry)]
    forms = latin_forms(values)
    n_cand = max(len(group), 1)
    head = Text(
        f"Review item {item.id}", style="bold", no_wrap=width is not None, overflow="ellipsis"
    )
    head.append(
        f" · {item.source} record {item.record_id} · candidate {item.rank} of {n_cand} ↔ "
        f"registry person {item.person_id} · run {item.run_id}"
    )
    weight = "—" if item.weight is None else f"{item.weight:+.1f} bits"
    summary = Text(
        f"match probability {_prob(item.probability)} · match weight {weight}", style="bold"
    )
    reason = _text(payload.get("link_reason"))
    why = Text(f"why in review: {reason}", style="dim") if reason else None
    system = Text(f"note: {item.note}", style="yellow") if item.note else None
    words = [w for w in payload.get("words") or [] if w]
    words_text = Text("In words:\n", style="bold") if words else None
    if words_text is not None:
        for i, w in enumerate(words):
            words_text.append(
                ("\n" if i else "") + f"  • {w}", style="dim" if w.endswith(": +0.0") else ""
            )
    progress_line = (
        Text(
            progress_text(progress, reviewer),
            style="magenta",
            no_wrap=width is not None,
            overflow="ellipsis",
        )
        if progress is not None
        else None
    )
    principal = _principal_line(payload, visual_rtl)
    several = len(group) > 1

    tables: dict[tuple[frozenset[str] | None, bool], tuple[Table, int]] = {}
    notes_parts: dict[int | None, Text | None] = {}
    candidates = (
        (_candidates_table(item, group) if width is None else _candidates_line(item, group))
        if several
        else None
    )
    hint = key_hint(width)

    def compose(
        labels: set[str] | None, totals: bool, extras: set[str], note_limit: int | None
    ) -> list[RenderableType]:
        key = (None if labels is None else frozenset(labels), totals)
        if key not in tables:
            tables[key] = _field_table(
                item, shown, labels, forms, visual_rtl, totals=totals, box_lines=width is None
            )
        table, hidden = tables[key]
        if note_limit not in notes_parts:
            notes_parts[note_limit] = _notes_text(notes, note_limit)
        parts: list[RenderableType | None] = [head, summary, why, system]
        parts.append(table)
        if hidden:
            parts.append(Text(f"… {hidden} more field(s) on a larger terminal", style="dim"))
        if "words" in extras:
            parts.append(words_text)
        if "principal" in extras:
            parts.append(principal)
        if "notes" in extras:
            parts.append(notes_parts[note_limit])
        if "candidates" in extras:
            parts.append(candidates)
        if "progress" in extras:
            parts.append(progress_line)
        parts.append(hint)
        return [p for p in parts if p is not None]

    heights: dict[int, int] = {}  # by id: every part measured once (they stay alive here)

    def measured(part: RenderableType) -> int:
        if id(part) not in heights:
            heights[id(part)] = _lines(part, width or 80)
        return heights[id(part)]

    every = {"words", "principal", "notes", "candidates", "progress"}
    if width is None or height is None:
        return Group(*compose(None, True, every, None))
    budget = max(height - MESSAGE_LINES, 8)
    # what goes first when the screen is short: the least decision-relevant
    steps: list[tuple[set[str] | None, bool, set[str], int | None]] = [
        (None, True, every, None),
        (None, True, every - {"words"}, 3),
        (None, False, every - {"words"}, 2),
        (None, False, every - {"words"}, 1),
        (None, False, every - {"words", "progress"}, 1),
        (
            set(ESSENTIAL_FIELDS) | {"father's given name", "sex"},
            False,
            every - {"words", "progress"},
            1,
        ),
        (set(ESSENTIAL_FIELDS), False, every - {"words", "progress"}, 1),
        (set(ESSENTIAL_FIELDS), False, {"candidates", "principal"}, 1),
        (set(ESSENTIAL_FIELDS), False, {"candidates"}, 1),
        (set(ESSENTIAL_FIELDS), False, set(), 1),
    ]
    parts: list[RenderableType] = []
    for labels, totals, extras, note_limit in steps:
        parts = compose(labels, totals, extras, note_limit)
        if sum(measured(p) for p in parts) <= budget:
            break
    return Group(*parts)


def to_text(renderable: RenderableType, width: int = 120) -> str:
    """The renderable as plain text (no colours), for tests and logs."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
