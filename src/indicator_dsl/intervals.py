"""Sets of real numbers as unions of intervals, and interval arithmetic.

The checker uses them to reason about rules without facts: which values of a
subject a guard takes, what is left for later clauses, and the lowest and
highest score a rule can give. Bounds are exact decimals or ±infinity.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Iterable, List, Optional, Tuple

import attrs

from .numbers import CONTEXT

INF = Decimal("Infinity")
NEG_INF = Decimal("-Infinity")


@attrs.frozen
class Interval:
    lo: Decimal
    hi: Decimal
    lo_closed: bool = True
    hi_closed: bool = True

    @property
    def empty(self) -> bool:
        if self.lo > self.hi:
            return True
        if self.lo == self.hi:
            return not (self.lo_closed and self.hi_closed) or not self.lo.is_finite()
        return False

    def contains(self, x: Decimal) -> bool:
        if x < self.lo or x > self.hi:
            return False
        if x == self.lo and not self.lo_closed:
            return False
        if x == self.hi and not self.hi_closed:
            return False
        return True

    def show(self, fmt=str) -> str:
        left = "[" if self.lo_closed and self.lo.is_finite() else "("
        right = "]" if self.hi_closed and self.hi.is_finite() else ")"
        lo = fmt(self.lo) if self.lo.is_finite() else "-∞"
        hi = fmt(self.hi) if self.hi.is_finite() else "∞"
        if self.lo == self.hi:
            return fmt(self.lo)
        return f"{left}{lo}, {hi}{right}"

    def sample(self) -> Decimal:
        """A value inside the (non-empty) interval, preferring a round one."""
        if self.lo_closed and self.lo.is_finite():
            return self.lo
        if self.hi_closed and self.hi.is_finite() and not self.lo.is_finite():
            return self.hi
        if self.lo.is_finite() and self.hi.is_finite():
            with decimal.localcontext(CONTEXT):
                return (self.lo + self.hi) / 2
        if self.lo.is_finite():
            return self.lo + 1
        if self.hi.is_finite():
            return self.hi - 1
        return Decimal(0)


ALL = Interval(NEG_INF, INF, False, False)


class RealSet:
    """A finite union of disjoint intervals, kept sorted."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Interval] = ()):
        self.parts: Tuple[Interval, ...] = _normalise([p for p in parts if not p.empty])

    @classmethod
    def of(cls, lo, hi, lo_closed=True, hi_closed=True) -> "RealSet":
        return cls([Interval(lo, hi, lo_closed, hi_closed)])

    @classmethod
    def everything(cls) -> "RealSet":
        return cls([ALL])

    @classmethod
    def point(cls, x: Decimal) -> "RealSet":
        return cls([Interval(x, x)])

    @property
    def empty(self) -> bool:
        return not self.parts

    def union(self, other: "RealSet") -> "RealSet":
        return RealSet(self.parts + other.parts)

    def complement(self) -> "RealSet":
        out = []
        lo, lo_closed = NEG_INF, False
        for part in self.parts:
            out.append(Interval(lo, part.lo, lo_closed, not part.lo_closed))
            lo, lo_closed = part.hi, not part.hi_closed
        out.append(Interval(lo, INF, lo_closed, False))
        return RealSet(out)

    def intersect(self, other: "RealSet") -> "RealSet":
        out = []
        for a in self.parts:
            for b in other.parts:
                lo, lo_closed = _max_lo(a, b)
                hi, hi_closed = _min_hi(a, b)
                out.append(Interval(lo, hi, lo_closed, hi_closed))
        return RealSet(out)

    def minus(self, other: "RealSet") -> "RealSet":
        return self.intersect(other.complement())

    def subset_of(self, other: "RealSet") -> bool:
        return self.minus(other).empty

    def hull(self) -> Optional[Interval]:
        if not self.parts:
            return None
        first, last = self.parts[0], self.parts[-1]
        return Interval(first.lo, last.hi, first.lo_closed, last.hi_closed)

    def show(self, fmt=str) -> str:
        return " ∪ ".join(p.show(fmt) for p in self.parts) if self.parts else "∅"

    def __repr__(self) -> str:
        return f"RealSet({self.show()})"


def _max_lo(a: Interval, b: Interval):
    if a.lo > b.lo:
        return a.lo, a.lo_closed
    if b.lo > a.lo:
        return b.lo, b.lo_closed
    return a.lo, a.lo_closed and b.lo_closed


def _min_hi(a: Interval, b: Interval):
    if a.hi < b.hi:
        return a.hi, a.hi_closed
    if b.hi < a.hi:
        return b.hi, b.hi_closed
    return a.hi, a.hi_closed and b.hi_closed


def _normalise(parts: List[Interval]) -> Tuple[Interval, ...]:
    parts.sort(key=lambda p: (p.lo, not p.lo_closed))
    merged: List[Interval] = []
    for p in parts:
        if merged:
            last = merged[-1]
            touches = p.lo < last.hi or (p.lo == last.hi and (p.lo_closed or last.hi_closed))
            if touches:
                if p.hi > last.hi or (p.hi == last.hi and p.hi_closed):
                    merged[-1] = Interval(last.lo, p.hi, last.lo_closed, p.hi_closed
                                          if p.hi > last.hi else last.hi_closed or p.hi_closed)
                continue
        merged.append(p)
    return tuple(merged)


# ------------------------------------------------------------------ arithmetic
# Bounds for the range check: closed hulls, where infinities stay infinite.


@attrs.frozen
class Bounds:
    lo: Decimal
    hi: Decimal

    @classmethod
    def point(cls, x: Decimal) -> "Bounds":
        return cls(x, x)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi


UNBOUNDED = Bounds(NEG_INF, INF)
NON_NEGATIVE = Bounds(Decimal(0), INF)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)
    with decimal.localcontext(CONTEXT):
        return a * b


def add(a: Bounds, b: Bounds) -> Bounds:
    with decimal.localcontext(CONTEXT) as ctx:
        ctx.traps[decimal.InvalidOperation] = False
        lo = a.lo + b.lo
        hi = a.hi + b.hi
    return Bounds(NEG_INF if lo.is_nan() else lo, INF if hi.is_nan() else hi)


def neg(a: Bounds) -> Bounds:
    return Bounds(-a.hi, -a.lo)


def sub(a: Bounds, b: Bounds) -> Bounds:
    return add(a, neg(b))


def mul(a: Bounds, b: Bounds) -> Bounds:
    products = [_mul(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return Bounds(min(products), max(products))


def div(a: Bounds, b: Bounds) -> Bounds:
    """a / b; a divisor range that reaches 0 makes the result unbounded."""
    if b.lo <= 0 <= b.hi:
        if b.lo == 0 and b.hi > 0 and a.lo >= 0:
            return NON_NEGATIVE  # x / (0, …] with x ≥ 0
        return UNBOUNDED
    with decimal.localcontext(CONTEXT) as ctx:
        ctx.traps[decimal.InvalidOperation] = False
        inv = Bounds(1 / b.hi, 1 / b.lo) if b.hi.is_finite() or True else UNBOUNDED
        lo = Decimal(0) if not b.hi.is_finite() and b.hi > 0 else 1 / b.hi
        hi = Decimal(0) if not b.lo.is_finite() and b.lo < 0 else 1 / b.lo
    return mul(a, Bounds(min(lo, hi), max(lo, hi)))


def hull(items: Iterable[Bounds]) -> Optional[Bounds]:
    items = list(items)
    if not items:
        return None
    return Bounds(min(b.lo for b in items), max(b.hi for b in items))


def meet(a: Bounds, b: Bounds) -> Bounds:
    lo, hi = max(a.lo, b.lo), min(a.hi, b.hi)
    if lo > hi:
        return a  # contradictory refinement: keep what we had (that clause is unreachable)
    return Bounds(lo, hi)


def from_set(s: RealSet) -> Optional[Bounds]:
    h = s.hull()
    return Bounds(h.lo, h.hi) if h else None


def to_set(b: Bounds) -> RealSet:
    return RealSet.of(b.lo, b.hi, b.lo.is_finite(), b.hi.is_finite())
