"""Number formatting shared by every report: one precision per table column, CI notation.

A column uses one number of decimals for all its values (three significant digits of its
largest magnitude, at least two decimals from 1 to 100), so values line up and two values
that print the same are treated as a tie when the best one is marked. A confidence interval
prints as ``value ± half-width`` when it is symmetric at the shown precision, as
``value +upper/-lower`` when it is not, and as a plain range when the estimate lies outside it
(possible with percentile bootstrap intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

MISSING = "–"
MAX_DECIMALS = 6


def column_decimals(values: Iterable[float]) -> int:
    """Decimals that give the largest finite magnitude in a column three significant digits."""
    finite = [abs(value) for value in values if value is not None and math.isfinite(value)]
    largest = max(finite, default=0.0)
    if largest == 0.0:
        return 3
    if largest >= 1000:
        return 0
    if largest >= 100:
        return 1
    if largest >= 1:
        return 2
    return min(MAX_DECIMALS, 2 - math.floor(math.log10(largest)))


def format_number(value: float, decimals: int, *, signed: bool = False) -> str:
    """``value`` at ``decimals``; ``+`` in front of positive values when ``signed``; a dash for NaN."""
    if value is None or not math.isfinite(value):
        return MISSING
    text = f"{value:{'+' if signed else ''}.{decimals}f}"
    if float(text) == 0.0:
        text = f"{0.0:.{decimals}f}"
    return text


@dataclass(frozen=True)
class Interval:
    """A confidence interval formatted against its estimate.

    ``kind`` is ``"symmetric"`` (print ``± plus``), ``"asymmetric"`` (``+plus/-minus``) or
    ``"range"`` (``[low, high]``, the estimate lies outside the interval).
    """

    kind: str
    plus: str
    minus: str
    low: str
    high: str


def format_interval(value: float, low: float, high: float, decimals: int) -> Interval | None:
    """The interval of one cell at the column's precision, or ``None`` when there is none."""
    if not all(x is not None and math.isfinite(x) for x in (value, low, high)):
        return None
    plus, minus = high - value, value - low
    plus_text, minus_text = format_number(plus, decimals), format_number(minus, decimals)
    low_text, high_text = format_number(low, decimals), format_number(high, decimals)
    if plus < 0 or minus < 0:
        kind = "range"
    elif plus_text == minus_text:
        kind = "symmetric"
    else:
        kind = "asymmetric"
    return Interval(kind, plus_text, minus_text, low_text, high_text)


def interval_suffix(interval: Interval | None) -> str:
    """The interval as plain text after its value: `` ± h``, `` +a/−b`` or `` [low, high]``
    (what Markdown shows, unescaped; a terminal table prints exactly this)."""
    if interval is None:
        return ""
    return {
        "symmetric": f" ± {interval.plus}",
        "asymmetric": f" +{interval.plus}/−{interval.minus}",
        "range": f" [{interval.low}, {interval.high}]",
    }[interval.kind]


def plain_value_text(value: float, low: float, high: float, decimals: int, *, signed: bool = False) -> str:
    """A value and its interval in plain text, at the column's precision."""
    return format_number(value, decimals, signed=signed) + interval_suffix(format_interval(value, low, high, decimals))


def format_count_range(counts: Iterable[int]) -> str:
    """``"1113"`` for one count, ``"1000–1113"`` for several, ``"?"`` when none is known."""
    known = sorted({int(count) for count in counts})
    if not known:
        return "?"
    return str(known[0]) if len(known) == 1 else f"{known[0]}–{known[-1]}"
