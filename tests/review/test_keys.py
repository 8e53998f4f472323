"""Key-by-key input: bytes split into keys, typed-ahead keys queued, a note's line editing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry_link.review.keys import ESC, KeyQueue, read_line, split_keys


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("sr", ["s", "r"]),  # two keys in one read: two keys (was "unknown key 'sr'")
        ("a", ["a"]),
        ("\x1b[C\x1b[D", ["right", "left"]),
        ("\x1b", [ESC]),
        ("\x1b[Za", ["\x1b[Z", "a"]),  # an unknown sequence stays one key
        ("قa", ["ق", "a"]),
    ],
)
def test_split_keys(typed: str, keys: list[str]) -> None:
    assert split_keys(typed) == keys


def test_key_queue_keeps_typed_ahead_keys_in_order() -> None:
    chunks: Iterator[bytes] = iter([b"ar", "ق".encode()[:1], "ق".encode()[1:] + b"u"])
    queue = KeyQueue(lambda: next(chunks))
    assert queue.key() == "a"
    assert queue.pending() == 1  # "r" waits for its turn
    assert [queue.key(), queue.key(), queue.key()] == ["r", "ق", "u"]  # UTF-8 split over reads


def test_key_queue_joins_an_arrow_split_over_two_reads() -> None:
    chunks = iter([b"\x1b", b"[C"])
    queue = KeyQueue(lambda: next(chunks), more_ready=lambda: True)
    assert queue.key() == "right"


def test_key_queue_end_of_input() -> None:
    queue = KeyQueue(lambda: b"")
    with pytest.raises(EOFError):
        queue.key()


def _line(keys: str) -> tuple[str | None, str]:
    it = iter(split_keys(keys))
    shown: list[str] = []
    return read_line(lambda: next(it), shown.append, "note"), "".join(shown)


def test_read_line_enter_saves_with_backspace_applied() -> None:
    text, shown = _line("same fathx\x7fer\r")
    assert text == "same father"
    assert shown.startswith("note: ") and "\b \b" in shown


@pytest.mark.parametrize("cancel", [ESC, "\x03", "\x04"])
def test_read_line_esc_cancels(cancel: str) -> None:
    text, _ = _line(f"wrong person{cancel}more")
    assert text is None
