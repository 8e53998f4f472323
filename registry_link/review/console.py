"""The interactive review loop: one item at a time, single-key actions, every action committed.

The loop only talks to a :class:`~registry_link.db.queue.ReviewQueue` (each action is its own
committed transaction there, so a killed session loses nothing) and to three injected
callables — a key reader, a line reader (for notes) and a rich console — so it runs the same
under a real terminal (``click.getchar``) and under a scripted test.

Claims: the item shown belongs to a group (all candidates of one partner record) the reviewer
has claimed with a lease. ``q`` leaves the claim in place: the same reviewer resumes there on
restart, anyone else gets it once the lease has expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.text import Text

from registry_link.db.engine import ReviewConflictError
from registry_link.db.queue import ReviewItem, ReviewQueue
from registry_link.review.render import help_text, render_item

#: Reads one key press (a one-character string).
KeyReader = Callable[[], str]
#: Reads one line of text after showing the prompt.
LineReader = Callable[[str], str]


@dataclass
class SessionStats:
    """What a console session did."""

    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    undone: int = 0
    notes: int = 0
    shown: list[int] = field(default_factory=list)  # item ids, in the order shown
    finished: bool = False  # True: the queue ran out; False: the reviewer quit


def terminal_key() -> str:
    """One key press from the terminal (raw mode; Ctrl-C / Ctrl-D count as quit)."""
    try:
        return click.getchar()
    except (KeyboardInterrupt, EOFError):
        return "q"


def terminal_line(prompt: str) -> str:
    """One line of text from the terminal (empty on Ctrl-C / Ctrl-D)."""
    try:
        return str(click.prompt(prompt, default="", show_default=False))
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        return ""


class ReviewConsole:
    """The interactive loop for one reviewer.

    Args:
        queue: the review queue (one run or all runs).
        reviewer: recorded on every decision.
        out: where to draw (a rich console).
        read_key: returns one key per call.
        read_line: returns a line of text (for notes).
        visual_rtl: reorder Arabic for a terminal without bidi (see :mod:`.render`).
    """

    def __init__(
        self,
        queue: ReviewQueue,
        reviewer: str,
        out: Console,
        read_key: KeyReader = terminal_key,
        read_line: LineReader = terminal_line,
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

    def _show(self, item: ReviewItem) -> None:
        self.out.clear()
        self._flush()  # what the last key did, above the next item
        group = self.queue.group(item.id)
        progress = self.queue.progress(self.reviewer)
        self.out.print(
            render_item(item, group, progress, self.reviewer, visual_rtl=self.visual_rtl)
        )
        self.stats.shown.append(item.id)

    def _say(self, text: str, style: str = "") -> None:
        self._pending.append(Text(text, style=style))

    def _flush(self) -> None:
        for line in self._pending:
            self.out.print(line)
        self._pending.clear()

    def run(self) -> SessionStats:
        """Review until the queue is empty or the reviewer quits; returns what was done."""
        item = self.queue.claim_next(self.reviewer)
        redraw = True
        while item is not None:
            if redraw:
                self._show(item)
            redraw = True
            key = self.read_key().lower()
            try:
                nxt = self._act(key, item)
            except ReviewConflictError as exc:  # taken or decided meanwhile: move on
                self._say(f"not saved: {exc}", "red")
                nxt = self.queue.claim_next(self.reviewer)
            if nxt is _QUIT:
                self._say("bye — every decision is saved.")
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

    def _act(self, key: str, item: ReviewItem) -> ReviewItem | object | None:
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
            text = self.read_line("note").strip()
            if text:
                self.queue.add_note(item.id, self.reviewer, text)
                self.stats.notes += 1
                self._say(f"note saved on item {item.id}", "green")
            else:
                self._say("empty note, nothing saved", "yellow")
            return _SAME
        if key == "q":
            return _QUIT
        if key == "?":
            self._pending.append(help_text())
            return _SAME
        self._say(f"unknown key {key!r}; press ? for help", "yellow")
        return _SAME


_QUIT = object()
_SAME = object()
