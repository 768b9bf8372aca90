"""What the Parquet footers say about the order of the usage, read before rating.

Metered usage is mostly written in time order: a metering pipeline appends as it goes, and the
usage store keeps each part file sorted by ``start_time`` (:mod:`servicebook.finance.usage.store`).
Each row group of such a file then covers a short stretch of the month, and its footer says which
(``start_time``'s minimum and maximum).

When a price changes within the month, rating needs each record's price segment.  Over usage in
time order the engine can tell it from the row groups alone: one aggregation per segment, each
reading only the row groups of its time range (the others are skipped on their footer
statistics) and never decoding ``start_time`` where every value of a row group is in range.  Over
usage in no order, each of those aggregations would read everything, so there the segment is
computed per record instead.  :func:`time_ordered` decides, from the footers only.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

#: at most this share of the records may sit in row groups that straddle a price change (those
#: row groups are read once per segment they touch)
STRADDLING_SHARE = 0.25
#: reading by segment scans the files' footers once per segment, and each scan has its own cost:
#: it pays from this many records on, up to this many segments in the month
MIN_RECORDS = 1_000_000
MAX_SEGMENTS = 8


def _files(path: str | Path) -> list[str]:
    text = str(path)
    return sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]


Range = tuple[int, dt.datetime | None, dt.datetime | None]


def _start_ranges(path: str) -> list[Range]:
    """(rows, min, max) of ``start_time`` per row group of one file; None where unknown."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if "start_time" not in names:
        return [(meta.num_rows, None, None)]
    col = names.index("start_time")
    out: list[Range] = []
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        stats = group.column(col).statistics
        try:
            lo, hi = (stats.min, stats.max) if stats is not None and stats.has_min_max else (0, 0)
        except (OverflowError, ValueError):  # beyond datetime's years (DuckDB's 'infinity')
            lo = hi = 0
        if isinstance(lo, dt.datetime) and isinstance(hi, dt.datetime):
            out.append((group.num_rows, lo, hi))
        else:
            out.append((group.num_rows, None, None))
    return out


def time_ordered(path: str | Path, cuts: Sequence[dt.datetime]) -> bool:
    """Whether the Parquet files at ``path`` (a file or a glob) are in time order enough that
    reading each price segment's row groups apart is cheaper than a segment per record: at most
    :data:`STRADDLING_SHARE` of the records lie in row groups whose ``start_time`` range spans one
    of ``cuts`` (or whose range the footer does not give).  False when there is no cut, more
    than :data:`MAX_SEGMENTS` segments, fewer than :data:`MIN_RECORDS` records, no file, a
    footer that cannot be read, or files in object storage (``scheme://``): the per-record way
    is always correct."""
    if not cuts or len(cuts) + 1 > MAX_SEGMENTS or "://" in str(path):
        return False  # (object storage: its footers are not read from here)
    try:
        groups = [g for f in _files(path) for g in _start_ranges(f)]
    except (OSError, ValueError):
        return False
    total = sum(rows for rows, _, _ in groups)
    if not total or total < MIN_RECORDS:
        return False
    straddling = 0
    for rows, lo, hi in groups:
        if lo is None or hi is None or lo.tzinfo is None:
            straddling += rows  # unknown: counted as spanning
        elif any(lo < cut <= hi for cut in cuts):
            straddling += rows
    return straddling <= STRADDLING_SHARE * total
