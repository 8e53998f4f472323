"""The console loop driven by a scripted key reader: keys in, database state out."""

from __future__ import annotations

import io
from collections.abc import Iterator

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import transaction
from registry_link.db.models import AuditEntry, ReviewDecision
from registry_link.db.queue import ReviewQueue
from registry_link.review.console import ReviewConsole, SessionStats


def _run(
    factory: sessionmaker[Session],
    keys: str,
    lines: list[str | None] | None = None,
    reviewer: str = "amina",
) -> tuple[SessionStats, str]:
    it: Iterator[str] = iter(keys)
    notes = iter(lines or [])
    out = Console(record=True, width=140, color_system=None, file=io.StringIO())
    stats = ReviewConsole(
        ReviewQueue(factory),
        reviewer,
        out,
        read_key=lambda: next(it),
        read_line=lambda _prompt: next(notes),
    ).run()
    return stats, out.export_text()


def _log(factory: sessionmaker[Session]) -> list[tuple[int, str, str, str | None]]:
    with transaction(factory) as s:
        rows = s.scalars(select(ReviewDecision).order_by(ReviewDecision.id))
        return [(r.item_id, r.decision, r.reviewer, r.note) for r in rows]


def _states(factory: sessionmaker[Session]) -> dict[int, tuple[str, str | None]]:
    return {i.id: (i.status, i.decision) for i in ReviewQueue(factory).items()}


def test_accept_closes_the_record_and_moves_on(factory: sessionmaker[Session]) -> None:
    stats, screen = _run(factory, "aq")
    assert stats.accepted == 1 and not stats.finished
    assert _states(factory)[1] == ("decided", "accept")
    assert _states(factory)[2] == ("decided", None)  # the other candidate is closed
    assert stats.shown == [1, 3]  # next record C2
    assert "accepted item 1" in screen


def test_reject_shows_next_candidate_of_same_record(factory: sessionmaker[Session]) -> None:
    stats, _ = _run(factory, "rrq")
    assert stats.shown == [1, 2, 3]
    assert _states(factory)[1] == ("decided", "reject")
    assert _states(factory)[2] == ("decided", "reject")


def test_whole_queue_to_the_end(factory: sessionmaker[Session]) -> None:
    stats, screen = _run(factory, "arr")
    assert stats.finished and stats.accepted == 1 and stats.rejected == 2
    assert all(status == "decided" for status, _ in _states(factory).values())
    assert "nothing left to review" in screen
    assert {r for _, _, r, _ in _log(factory)} == {"amina"}


def test_skip_puts_the_record_last(factory: sessionmaker[Session]) -> None:
    stats, _ = _run(factory, "saaq")
    # C1 skipped → C2, C3 first, then C1 comes back
    assert stats.shown == [1, 3, 4, 1]
    assert _states(factory)[1][0] == "open"  # shown again, not decided, released on quit
    assert "skip" in [d for _, d, _, _ in _log(factory)]


def test_undo_reopens_the_last_decision(factory: sessionmaker[Session]) -> None:
    stats, screen = _run(factory, "aurq")
    assert stats.shown == [1, 3, 1, 2]  # accept 1, see 3, undo → 1 again, reject 1 → 2
    log = _log(factory)
    assert [d for _, d, _, _ in log] == ["accept", "undo", "reject"]
    assert _states(factory)[1] == ("decided", "reject")
    assert _states(factory)[2] == ("open", None)  # re-opened by the undo, released on quit
    assert "undid your last decision on item 1" in screen


def test_undo_with_nothing_to_undo(factory: sessionmaker[Session]) -> None:
    stats, screen = _run(factory, "uq")
    assert stats.undone == 0 and "nothing to undo" in screen


def test_note_help_and_unknown_key(factory: sessionmaker[Session]) -> None:
    stats, screen = _run(factory, "n?znnq", lines=["same father, older CIN", "  ", None])
    assert stats.notes == 1
    assert _log(factory) == [(1, "note", "amina", "same father, older CIN")]
    assert "Keys:" in screen and "unknown key 'z'" in screen and "empty note" in screen
    assert "note cancelled, nothing saved" in screen  # Esc while typing a note
    # the saved note redraws the record with the note on it; help or a bad key do not
    assert stats.shown == [1, 1]
    assert "amina: same father, older CIN" in screen.split("note saved on item 1")[1]


def test_quit_releases_the_claim(factory: sessionmaker[Session]) -> None:
    stats, _ = _run(factory, "q")
    assert stats.released == 2  # both candidates of record C1
    assert _states(factory)[1] == ("open", None) and _states(factory)[2] == ("open", None)
    other, _ = _run(factory, "q", reviewer="said")  # someone else gets it at once
    assert other.shown == [1]
    with transaction(factory) as s:
        released = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.release"))
        assert [(a.actor, a.details["reviewer"]) for a in released] == [
            ("amina", "amina"),
            ("said", "said"),
        ]


def test_ctrl_c_while_the_database_works_releases_the_claim(
    factory: sessionmaker[Session],
) -> None:
    def interrupt() -> str:
        raise KeyboardInterrupt

    out = Console(record=True, width=140, color_system=None, file=io.StringIO())
    stats = ReviewConsole(ReviewQueue(factory), "amina", out, read_key=interrupt).run()
    assert stats.shown == [1] and "interrupted" in out.export_text()
    assert all(status == "open" for status, _ in _states(factory).values())


def test_conflict_is_reported_and_the_loop_goes_on(factory: sessionmaker[Session]) -> None:
    queue = ReviewQueue(factory)
    keys = iter("aq")

    def key() -> str:
        k = next(keys)
        if k == "a":  # meanwhile someone decides it through the CLI
            queue.decide(1, "amina", "reject")
        return k

    out = Console(record=True, width=140, color_system=None, file=io.StringIO())
    stats = ReviewConsole(queue, "amina", out, read_key=key).run()
    assert "not saved" in out.export_text()
    assert stats.accepted == 0
    assert _states(factory)[1] == ("decided", "reject")
