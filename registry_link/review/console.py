"""The interactive review loop: one record at a time, single-key actions, every action committed.

The loop only talks to a :class:`~registry_link.db.queue.ReviewQueue` (each action is its own
committed transaction there, so a killed session loses nothing) and to three injected
callables — a key reader, a line reader (for notes) and a rich console — so it runs the same
under a real terminal (:class:`~registry_link.review.keys.TerminalKeys`, the default) and under
a scripted test.

Claims: the record shown belongs to a group (all candidates of one partner record) the reviewer
has claimed with a lease. A clean quit (``q``, Ctrl-C, Ctrl-D, end of input) releases the
reviewer's claims at once; a killed session's claim runs out with its lease.

Database failures: a lock held by another writer is waited for (bounded, shown on screen);
any other failure — or a lock held too long — ends the session with one message naming the
key that was not saved (the CLI exits 2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from registry_link.db.engine import DatabaseError, ReviewConflictError
from registry_link.db.queue import ReviewItem, ReviewQueue
from registry_link.review.keys import CTRL_C, CTRL_D, ESC, TerminalKeys
from registry_link.review.render import help_text, render_item

#: Reads one key press (a character, or a name such as ``right`` for an arrow).
KeyReader = Callable[[], str]
#: Reads one line of text after showing the prompt; ``None`` when the reviewer cancelled.
LineReader = Callable[[str], "str | None"]

_QUIT_KEYS = ("q", CTRL_C, CTRL_D)
_NEXT_KEYS = ("c", "\t", "right", "down")
_PREVIOUS_KEYS = ("left", "up")
_ACTIONS = {"a": "accept", "r": "reject", "x": "none of these", "s": "skip", "u": "undo"}


@dataclass
class SessionStats:
    """What a console session did."""

    accepted: int = 0
    rejected: int = 0  # items rejected, one by one or by "none of these"
    none_of_these: int = 0  # records whose every candidate was rejected with one key
    skipped: int = 0
    undone: int = 0
    notes: int = 0
    shown: list[int] = field(default_factory=list)  # item ids, in the order shown
    finished: bool = False  # True: the queue ran out; False: the reviewer quit
    released: int = 0  # items whose claim was released when the session ended


class ReviewConsole:
    """The interactive loop for one reviewer.

    Args:
        queue: the review queue (one run or all runs).
        reviewer: recorded on every decision.
        out: where to draw (a rich console; its size decides the layout).
        read_key: returns one key per call (default: the terminal, key by key).
        read_line: returns a line of text for a note, ``None`` if cancelled.
        visual_rtl: reorder Arabic for a terminal without bidi (see :mod:`.render`).
    """

    def __init__(
        self,
        queue: ReviewQueue,
        reviewer: str,
        out: Console,
        read_key: KeyReader | None = None,
        read_line: LineReader | None = None,
        *,
        visual_rtl: bool = False,
    ) -> None:
        self.queue = queue
        self.reviewer = reviewer
        self.out = out
        self.read_key = read_key
        self.read_line = read_line
        self.visual_rtl = visual_rtl
        self.stats = SessionStats()
        self._pending: list[Text] = []
        self._key = ""  # the key being acted on (named in a failure message)
        if queue.on_wait is None:
            queue.on_wait = self._waiting

    # -------------------------------------------------------------- drawing

    def _show(self, item: ReviewItem) -> None:
        group = self.queue.group(item.id)
        notes = self.queue.notes(item.id)
        progress = self.queue.progress(self.reviewer)
        self.out.clear()
        above = len(self._pending)
        self._flush()  # what the last key did, above the next item
        width, height = self.out.size
        self.out.print(
            render_item(
                item,
                group,
                progress,
                self.reviewer,
                notes=notes,
                width=width,
                height=max(height - above, 10),
                visual_rtl=self.visual_rtl,
            )
        )
        self.stats.shown.append(item.id)

    def _say(self, text: str, style: str = "") -> None:
        self._pending.append(Text(text, style=style))

    def _flush(self) -> None:
        for line in self._pending:
            self.out.print(line)
        self._pending.clear()

    def _waiting(self, waited: float, limit: float) -> None:
        what = f"; your key {self._key!r} is kept" if self._key else ""
        self.out.print(
            Text(
                f"the database is locked by another writer: waiting ({waited:.0f} s of at most "
                f"{limit:.0f} s){what} …",
                style="yellow",
            )
        )

    # -------------------------------------------------------------- the loop

    def run(self) -> SessionStats:
        """Review until the queue is empty or the reviewer quits; returns what was done.

        The reviewer's claims are released when the session ends, however it ends.

        Raises:
            DatabaseError: the database failed; the message names the key not saved.
        """
        if self.read_key is None:
            with TerminalKeys() as keys:
                self.read_key = keys.key
                self.read_line = self.read_line or keys.read_line
                return self.run()
        clean = False
        try:
            stats = self._loop()
            clean = True
            return stats
        except KeyboardInterrupt:  # Ctrl-C while the database was working
            self._say("interrupted — every decision made before is saved.", "yellow")
            self._flush()
            clean = True
            return self.stats
        finally:
            self._release(quiet=not clean)

    def _release(self, *, quiet: bool) -> None:
        try:
            self.stats.released = self.queue.release(self.reviewer, self.reviewer)
        except DatabaseError:
            if not quiet:
                raise
            self.out.print(
                Text(
                    f"your records stay claimed until their lease ends; "
                    f"`registry-link review release --reviewer {self.reviewer}` frees them now",
                    style="yellow",
                )
            )

    def _loop(self) -> SessionStats:
        assert self.read_key is not None
        self._key = ""
        item = self._claim_first()
        redraw = True
        while item is not None:
            if redraw:
                self._show(item)
            redraw = True
            key = self.read_key()
            key = key if len(key) > 1 else key.lower()
            self._key = key
            try:
                nxt = self._guard(functools.partial(self._act, key, item), key, item)
            except ReviewConflictError as exc:  # taken or decided meanwhile: move on
                self._say(f"not saved: {exc}", "red")
                nxt = self.queue.claim_next(self.reviewer)
            self._key = ""
            if nxt is _QUIT:
                self._say("bye — every decision is saved; your records are released.")
                self._flush()
                return self.stats
            if nxt is _SAME:
                self._flush()
                redraw = False
                continue
            assert nxt is None or isinstance(nxt, ReviewItem)
            item = nxt
        self.stats.finished = True
        self._say(f"nothing left to review for {self.reviewer} — thank you.", "green")
        self._flush()
        return self.stats

    def _claim_first(self) -> ReviewItem | None:
        got = self._guard(lambda: self.queue.claim_next(self.reviewer), "start")
        assert got is None or isinstance(got, ReviewItem)
        return got

    def _guard(
        self, action: Callable[[], object], key: str, item: ReviewItem | None = None
    ) -> object:
        """Run an action; a database failure is said on screen with the key not saved."""
        try:
            return action()
        except ReviewConflictError:
            raise
        except DatabaseError as exc:
            what = _ACTIONS.get(key, f"key {key!r}") if key != "start" else "starting"
            where = f" on item {item.id} (record {item.record_id})" if item is not None else ""
            self._say(f"NOT saved: {what}{where} — {exc}", "bold red")
            self._flush()
            raise

    def _cycle(self, item: ReviewItem, step: int | None, rank: int | None = None) -> object:
        live = [g for g in self.queue.group(item.id) if g.status == "claimed"]
        if len(live) < 2 and rank is None:
            self._say("this record has no other candidate left", "yellow")
            return _SAME
        if rank is not None:
            chosen = next((g for g in live if g.rank == rank), None)
            if chosen is None:
                self._say(f"no open candidate {rank} for this record", "yellow")
                return _SAME
            return chosen
        at = next((i for i, g in enumerate(live) if g.id == item.id), 0)
        return live[(at + (step or 1)) % len(live)]

    def _act(self, key: str, item: ReviewItem) -> object:
        if key == "a":
            self.queue.decide(item.id, self.reviewer, "accept")
            self.stats.accepted += 1
            self._say(f"accepted item {item.id}", "green")
            return self.queue.claim_next(self.reviewer)
        if key == "r":
            self.queue.decide(item.id, self.reviewer, "reject")
            self.stats.rejected += 1
            self._say(f"rejected item {item.id}", "red")
            return self.queue.claim_next(self.reviewer)
        if key == "x":
            ids = self.queue.reject_all(item.id, self.reviewer)
            self.stats.rejected += len(ids)
            self.stats.none_of_these += 1
            self._say(
                f"none of these: rejected {len(ids)} candidate(s) of record {item.record_id}", "red"
            )
            return self.queue.claim_next(self.reviewer)
        if key in _NEXT_KEYS or key in _PREVIOUS_KEYS:
            return self._cycle(item, 1 if key in _NEXT_KEYS else -1)
        if key.isdigit() and key != "0":
            return self._cycle(item, None, int(key))
        if key == "s":
            self.queue.skip(item.id, self.reviewer)
            self.stats.skipped += 1
            self._say(f"skipped record {item.record_id} (it comes back last)")
            return self.queue.claim_next(self.reviewer)
        if key == "u":
            back = self.queue.undo_last(self.reviewer)
            if back is None:
                self._say("nothing to undo", "yellow")
                return _SAME
            self.stats.undone += 1
            self._say(f"undid your last decision on item {back.id}", "yellow")
            if back.status == "claimed" and back.claimed_by == self.reviewer:
                return back
            return self.queue.claim_next(self.reviewer)
        if key == "n":
            return self._note(item)
        if key in _QUIT_KEYS:
            return _QUIT
        if key == "?":
            self._pending.append(help_text())
            return _SAME
        if key == ESC:
            return _SAME
        self._say(f"unknown key {key!r}; press ? for help", "yellow")
        return _SAME

    def _note(self, item: ReviewItem) -> object:
        assert self.read_line is not None
        self.out.print(Text("note (Enter saves, Esc cancels)", style="bold"))
        typed = self.read_line("note")
        if typed is None:
            self._say("note cancelled, nothing saved", "yellow")
            return _SAME
        text = typed.strip()
        if not text:
            self._say("empty note, nothing saved", "yellow")
            return _SAME
        self.queue.add_note(item.id, self.reviewer, text)
        self.stats.notes += 1
        self._say(f"note saved on item {item.id}", "green")
        return item  # redraw: the note is shown with the record


_QUIT = object()
_SAME = object()
