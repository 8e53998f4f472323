"""The row order of polars' (<= 2.1) unstable multi-column sort, made explicit.

The shipped sample (``sample_data/``) was drawn with ``DataFrame.sort(a, b)`` without
``maintain_order``: rows equal on the sort keys (two children of one worker born the same
year) came out in whatever order the sort left them, and every noise drawn after them follows
that order. Polars 2.2 changed that order, so the sample came out differently. To keep the
sample byte-identical on every polars version, :func:`unstable_sort_order` gives the order
that sort gave, computed here in Python: polars <= 2.1 sorted ``(row, key)`` pairs with
rayon's ``par_sort_unstable_by``, a pattern-defeating quicksort (pdqsort), whose result
depends only on the outcomes of its comparisons; its parallel branches sort disjoint halves,
so the order does not depend on the number of threads. This is a faithful sequential port of
that quicksort (rayon's ``src/slice/sort.rs``, itself the standard library's): the same
pivots, partitions and insertion sorts, on row numbers compared by their keys.

Only small frames go through it (the children declared on one partner list: a few thousand
rows, well under a tenth of a second).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MAX_INSERTION = 20  # slices this short are insertion-sorted
MAX_SEQUENTIAL = 2000  # past this, both halves are sorted by new (parallel) calls
BLOCK = 128  # partition_in_blocks' block size
SHORTEST_MEDIAN_OF_MEDIANS = 50  # from this length the pivot is a median of three medians
MAX_SWAPS = 4 * 3  # choose_pivot's swaps past which the slice is taken as descending
MAX_STEPS, SHORTEST_SHIFTING = 5, 50  # partial_insertion_sort's limits
MASK64 = (1 << 64) - 1

Less = Callable[[int, int], bool]


def unstable_sort_order(keys: Sequence[Any]) -> list[int]:
    """Row numbers of ``keys`` in the order polars <= 2.1's unstable sort put them: ascending
    by key (keys compared with ``<``; make a descending column negative), rows with equal
    keys in the order that sort left them. ``keys[i]`` is the sort key of row ``i``, e.g. a
    tuple of the sort columns' values."""
    rows = list(range(len(keys)))
    _Quicksort(rows, lambda a, b: bool(keys[a] < keys[b])).sort()
    return rows


class _Quicksort:
    """rayon's ``par_quicksort`` on ``v`` in place, sequentially; slices are ``[lo, hi)``."""

    def __init__(self, v: list[int], is_less: Less) -> None:
        self.v = v
        self.is_less = is_less

    def sort(self) -> None:
        """Sort the whole list (the limit of imbalanced partitions: floor(log2(len)) + 1)."""
        self.recurse(0, len(self.v), None, len(self.v).bit_length())

    def swap(self, i: int, j: int) -> None:
        v = self.v
        v[i], v[j] = v[j], v[i]

    def insert_tail(self, lo: int, end: int) -> None:
        """Insert ``v[end - 1]`` into the sorted ``v[lo:end - 1]``."""
        v, less = self.v, self.is_less
        i = end - 1
        if less(v[i], v[i - 1]):
            tmp = v[i]
            v[i] = v[i - 1]
            dest = i - 1
            for j in range(i - 2, lo - 1, -1):
                if not less(tmp, v[j]):
                    break
                v[j + 1] = v[j]
                dest = j
            v[dest] = tmp

    def insert_head(self, lo: int, hi: int) -> None:
        """Insert ``v[lo]`` into the sorted ``v[lo + 1:hi]``."""
        v, less = self.v, self.is_less
        if less(v[lo + 1], v[lo]):
            tmp = v[lo]
            v[lo] = v[lo + 1]
            dest = lo + 1
            for i in range(lo + 2, hi):
                if not less(v[i], tmp):
                    break
                v[i - 1] = v[i]
                dest = i
            v[dest] = tmp

    def insertion_sort_shift_left(self, lo: int, hi: int, offset: int) -> None:
        for i in range(offset, hi - lo):
            self.insert_tail(lo, lo + i + 1)

    def insertion_sort_shift_right(self, lo: int, hi: int, offset: int) -> None:
        for i in range(offset - 1, -1, -1):
            self.insert_head(lo + i, hi)

    def partial_insertion_sort(self, lo: int, hi: int) -> bool:
        """Sort a nearly sorted slice by shifting a few out-of-order elements; True if sorted."""
        v, less = self.v, self.is_less
        n = hi - lo
        i = 1
        for _ in range(MAX_STEPS):
            while i < n and not less(v[lo + i], v[lo + i - 1]):
                i += 1
            if i == n:
                return True
            if n < SHORTEST_SHIFTING:
                return False
            self.swap(lo + i - 1, lo + i)
            if i >= 2:
                self.insertion_sort_shift_left(lo, lo + i, i - 1)
                self.insertion_sort_shift_right(lo, lo + i, 1)
        return False

    def heapsort(self, lo: int, hi: int) -> None:
        v, less = self.v, self.is_less

        def sift_down(end: int, node: int) -> None:
            while True:
                child = 2 * node + 1
                if child >= end:
                    break
                if child + 1 < end and less(v[lo + child], v[lo + child + 1]):
                    child += 1
                if not less(v[lo + node], v[lo + child]):
                    break
                self.swap(lo + node, lo + child)
                node = child

        n = hi - lo
        for i in range(n // 2 - 1, -1, -1):
            sift_down(n, i)
        for i in range(n - 1, 0, -1):
            self.swap(lo, lo + i)
            sift_down(i, 0)

    def partition_in_blocks(self, lo: int, hi: int, pivot: int) -> int:
        """Move the elements less than ``pivot`` to the front of ``v[lo:hi]``, block by block
        (BlockQuicksort); returns how many there are."""
        v, less = self.v, self.is_less
        left, right = lo, hi
        block_l = block_r = BLOCK
        offsets_l: list[int] = []
        offsets_r: list[int] = []
        start_l = end_l = start_r = end_r = 0
        while True:
            is_done = right - left <= 2 * BLOCK
            if is_done:
                rem = right - left
                if start_l < end_l or start_r < end_r:
                    rem -= BLOCK
                if start_l < end_l:
                    block_r = rem
                elif start_r < end_r:
                    block_l = rem
                else:
                    block_l = rem // 2
                    block_r = rem - block_l
            if start_l == end_l:
                offsets_l = [i for i in range(block_l) if not less(v[left + i], pivot)]
                start_l, end_l = 0, len(offsets_l)
            if start_r == end_r:
                offsets_r = [i for i in range(block_r) if less(v[right - 1 - i], pivot)]
                start_r, end_r = 0, len(offsets_r)
            count = min(end_l - start_l, end_r - start_r)
            if count > 0:  # a cyclic permutation swapping the out-of-place pairs
                tmp = v[left + offsets_l[start_l]]
                v[left + offsets_l[start_l]] = v[right - offsets_r[start_r] - 1]
                for _ in range(1, count):
                    start_l += 1
                    v[right - offsets_r[start_r] - 1] = v[left + offsets_l[start_l]]
                    start_r += 1
                    v[left + offsets_l[start_l]] = v[right - offsets_r[start_r] - 1]
                v[right - offsets_r[start_r] - 1] = tmp
                start_l += 1
                start_r += 1
            if start_l == end_l:
                left += block_l
            if start_r == end_r:
                right -= block_r
            if is_done:
                break
        if start_l < end_l:
            while start_l < end_l:
                end_l -= 1
                self.swap(left + offsets_l[end_l], right - 1)
                right -= 1
            return right - lo
        if start_r < end_r:
            while start_r < end_r:
                end_r -= 1
                self.swap(left, right - offsets_r[end_r] - 1)
                left += 1
        return left - lo

    def partition(self, lo: int, hi: int, pivot: int) -> tuple[int, bool]:
        """Partition ``v[lo:hi]`` around its element at ``pivot``: (the pivot's new place,
        whether the slice was already partitioned)."""
        v, less = self.v, self.is_less
        self.swap(lo, lo + pivot)
        p = v[lo]
        start = lo + 1
        left, right = 0, hi - start
        while left < right and less(v[start + left], p):
            left += 1
        while left < right and not less(v[start + right - 1], p):
            right -= 1
        mid = left + self.partition_in_blocks(start + left, start + right, p)
        self.swap(lo, lo + mid)
        return mid, left >= right

    def partition_equal(self, lo: int, hi: int, pivot: int) -> int:
        """Move the elements equal to ``v[lo + pivot]`` (none is less) to the front; returns
        how many there are."""
        v, less = self.v, self.is_less
        self.swap(lo, lo + pivot)
        p = v[lo]
        start = lo + 1
        n = hi - start
        if n == 0:
            return 0
        left, right = 0, n
        while True:
            while left < right and not less(p, v[start + left]):
                left += 1
            while True:
                right -= 1
                if left >= right or not less(p, v[start + right]):
                    break
            if left >= right:
                break
            self.swap(start + left, start + right)
            left += 1
        return left + 1

    def break_patterns(self, lo: int, hi: int) -> None:
        """Swap three elements near the middle with pseudo-random ones (xorshift64 seeded by
        the length), as after an imbalanced partition."""
        n = hi - lo
        if n < 8:
            return
        seed = n
        modulus = 1 << (n - 1).bit_length()  # the next power of two
        pos = n // 4 * 2
        for i in range(3):
            r = seed
            r ^= (r << 13) & MASK64
            r ^= r >> 7
            r ^= (r << 17) & MASK64
            seed = r
            other = r & (modulus - 1)
            if other >= n:
                other -= n
            self.swap(lo + pos - 1 + i, lo + other)

    def choose_pivot(self, lo: int, hi: int) -> tuple[int, bool]:
        """(the pivot's index in the slice, whether the slice is likely sorted already); a
        slice that looks descending is reversed."""
        v, less = self.v, self.is_less
        n = hi - lo
        idx = [n // 4 * 1, n // 4 * 2, n // 4 * 3]
        swaps = 0

        def sort2(x: list[int], i: int, j: int) -> None:
            nonlocal swaps
            if less(v[lo + x[j]], v[lo + x[i]]):
                x[i], x[j] = x[j], x[i]
                swaps += 1

        def sort3(x: list[int]) -> None:
            sort2(x, 0, 1)
            sort2(x, 1, 2)
            sort2(x, 0, 1)

        if n >= 8:
            if n >= SHORTEST_MEDIAN_OF_MEDIANS:
                for k in range(3):
                    around = [idx[k] - 1, idx[k], idx[k] + 1]
                    sort3(around)
                    idx[k] = around[1]
            sort3(idx)
        if swaps < MAX_SWAPS:
            return idx[1], swaps == 0
        v[lo:hi] = v[lo:hi][::-1]
        return n - 1 - idx[1], True

    def recurse(self, lo: int, hi: int, pred: int | None, limit: int) -> None:
        """Sort ``v[lo:hi]``; ``pred`` is the element just before it (a pivot), if any.
        Where rayon sorts the two halves in parallel they are disjoint, so sorting one after
        the other gives the same order."""
        was_balanced = was_partitioned = True
        while True:
            n = hi - lo
            if n <= MAX_INSERTION:
                if n >= 2:
                    self.insertion_sort_shift_left(lo, hi, 1)
                return
            if limit == 0:
                self.heapsort(lo, hi)
                return
            if not was_balanced:
                self.break_patterns(lo, hi)
                limit -= 1
            pivot, likely_sorted = self.choose_pivot(lo, hi)
            if (
                was_balanced
                and was_partitioned
                and likely_sorted
                and self.partial_insertion_sort(lo, hi)
            ):
                return
            if pred is not None and not self.is_less(pred, self.v[lo + pivot]):
                lo += self.partition_equal(lo, hi, pivot)
                continue
            mid, was_partitioned = self.partition(lo, hi, pivot)
            was_balanced = min(mid, n - mid) >= n // 8
            here = self.v[lo + mid]
            if max(mid, n - 1 - mid) > MAX_SEQUENTIAL:  # rayon sorts both halves afresh
                self.recurse(lo, lo + mid, pred, limit)
                self.recurse(lo + mid + 1, hi, here, limit)
                return
            if mid < n - 1 - mid:
                self.recurse(lo, lo + mid, pred, limit)
                lo, pred = lo + mid + 1, here
            else:
                self.recurse(lo + mid + 1, hi, here, limit)
                hi = lo + mid
