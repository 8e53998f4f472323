"""The clerical review tool: one ambiguous pair at a time, and CSV exchange for spreadsheets.

* :mod:`registry_link.review.render` — how one review item is shown (both records field by
  field, both scripts, each field's contribution in bits, the words, the progress line);
* :mod:`registry_link.review.console` — the interactive single-key loop over a
  :class:`~registry_link.db.queue.ReviewQueue`, with an injectable key reader (testable
  without a terminal);
* :mod:`registry_link.review.exchange` — export of the open items to a CSV a reviewer fills
  in a spreadsheet, and its all-or-nothing import.
"""

from __future__ import annotations
