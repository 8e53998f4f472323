"""Key-by-key terminal input for the review console.

:class:`TerminalKeys` puts the terminal in cbreak mode (no echo, no line buffering) for the
whole session, so keys typed while the screen is redrawn are neither echoed nor lost: they wait
in the terminal's buffer. Bytes are split into keys one by one — ``sr`` typed together is two
keys, ``s`` then ``r`` — and an escape sequence (an arrow key) is one key; a lone Esc is
:data:`ESC`. :meth:`TerminalKeys.read_line` reads a note key by key (Enter saves, Esc cancels,
Backspace deletes).
"""

from __future__ import annotations

import codecs
import os
import select
import sys
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

#: The Esc key.
ESC: Final[str] = "\x1b"
#: Ctrl-C and Ctrl-D, read as keys (the console treats them as quit).
CTRL_C: Final[str] = "\x03"
CTRL_D: Final[str] = "\x04"
#: Named keys of common escape sequences.
SEQUENCES: Final[dict[str, str]] = {
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1bOC": "right",
    "\x1bOD": "left",
}
#: Seconds to wait for the rest of an escape sequence after an Esc byte.
ESC_WAIT: Final[float] = 0.05


def split_keys(text: str) -> list[str]:
    """The keys in a chunk of input: one per character, an escape sequence as one key.

    >>> split_keys("sr")
    ['s', 'r']
    >>> split_keys("\\x1b[Ca")
    ['right', 'a']
    """
    keys: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ESC and i + 1 < len(text) and text[i + 1] in "[O":
            j = i + 2
            while j < len(text) and not ("@" <= text[j] <= "~"):
                j += 1
            seq = text[i : j + 1]
            keys.append(SEQUENCES.get(seq, seq))
            i = j + 1
            continue
        keys.append(ch)
        i += 1
    return keys


class KeyQueue:
    """Keys from a byte source, queued: each read returns one key, typed-ahead keys wait.

    Args:
        read_bytes: returns the bytes available (blocking until at least one).
        more_ready: whether more bytes arrive within ``ESC_WAIT`` (to tell Esc from an arrow).
    """

    def __init__(
        self, read_bytes: Callable[[], bytes], more_ready: Callable[[], bool] = lambda: False
    ) -> None:
        self._read = read_bytes
        self._more = more_ready
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._keys: deque[str] = deque()

    def _fill(self) -> None:
        while not self._keys:
            chunk = self._read()
            if not chunk:
                raise EOFError
            text = self._decoder.decode(chunk)
            while text.endswith(ESC) and self._more():  # an arrow key split over two reads
                text += self._decoder.decode(self._read())
            self._keys.extend(split_keys(text))

    def key(self) -> str:
        """The next key (blocks until one is typed)."""
        self._fill()
        return self._keys.popleft()

    def pending(self) -> int:
        """Keys already typed and not read yet."""
        return len(self._keys)


def read_line(keys: Callable[[], str], echo: Callable[[str], None], prompt: str) -> str | None:
    """A line typed key by key: Enter returns it, Esc (or Ctrl-C/Ctrl-D) cancels (``None``),
    Backspace deletes the last character; other control keys are ignored."""
    echo(f"{prompt}: ")
    typed: list[str] = []
    while True:
        key = keys()
        if key in ("\r", "\n"):
            echo("\n")
            return "".join(typed)
        if key in (ESC, CTRL_C, CTRL_D):
            echo("\n")
            return None
        if key in ("\x7f", "\x08"):
            if typed:
                typed.pop()
                echo("\b \b")
            continue
        if len(key) == 1 and key.isprintable():
            typed.append(key)
            echo(key)


class TerminalKeys:
    """The terminal in cbreak mode for a review session (a context manager).

    ``with TerminalKeys() as keys: keys.key()`` — one key per call; ``keys.read_line(prompt)``
    for a note. Ctrl-C and Ctrl-D arrive as keys (:data:`CTRL_C`, :data:`CTRL_D`: the terminal's
    signal keys are off for the session), queued like any other, so the console quits cleanly
    and releases its claims however the process was started.
    """

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: Any = None
        self.queue = KeyQueue(self._read_bytes, self._more_ready)

    def __enter__(self) -> TerminalKeys:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        mode = termios.tcgetattr(self.fd)
        mode[3] &= ~termios.ISIG  # Ctrl-C arrives as a key, whatever the signal setup
        termios.tcsetattr(self.fd, termios.TCSANOW, mode)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _read_bytes(self) -> bytes:
        return os.read(self.fd, 256)

    def _more_ready(self) -> bool:
        ready, _, _ = select.select([self.fd], [], [], ESC_WAIT)
        return bool(ready)

    def key(self) -> str:
        """The next key; Ctrl-C (SIGINT) and end of input read as :data:`CTRL_C`."""
        try:
            return self.queue.key()
        except (KeyboardInterrupt, EOFError):
            return CTRL_C

    def read_line(self, prompt: str) -> str | None:
        """A note typed key by key (echoed here); ``None`` when cancelled with Esc."""

        def echo(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        return read_line(self.key, echo, prompt)
