"""score_table()'s fast path: whole columns scored at once, in exact integers (numpy).

Each numeric value of a leaf's rule is a column of exact rationals, numerator and
denominator as int64, tagged with how the scalar evaluator's 40-digit Decimal result
relates to the exact value:

* ``EXACT`` — Decimal computes exactly this value (facts, constants, and +, -, × of
  them: decimals of at most 36 digits);
* ``ONCE`` — Decimal's value is this one rounded once to 40 digits (a division of
  exact values, e.g. ``ratio(actual, target)``). With int64 operands, such a value
  equals a decimal boundary only when it *is* that decimal (then Decimal is exact too),
  and otherwise lies farther from it than the rounding can move it, so comparisons,
  steps and rounding decide exactly as Decimal does;
* ``NEAR`` — anything else (``r * weight`` …): a decision on it is taken only when the
  exact value is farther than 10⁻⁹ (relatively) from the boundary, far beyond any
  40-digit rounding; otherwise that row is left to the scalar evaluator.

A row is computed here only if every fact it reads converts as the scalar path would
convert it, nothing overflows, nothing fails (division by zero, a value outside an
``assess`` band, no clause applies — in any branch, taken or not) and every decision
is certain; the others — and every row of a set using a construct not listed here —
are scored one by one by ``scores()``. Either way every score is the scalar one
(tests/test_columnar.py compares them on generated tables).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Dict, Optional

import numpy as np

from .codegen import _Const, _Fact, _Full, _Memo, _Op, _quantum
from .facts import CoercionError, coerce, MAX_EXPONENT
from .numbers import CONTEXT

EXACT, ONCE, NEAR = 0, 1, 2
LIMIT = 2 ** 62
DELTA = 1e-9
MAX_SCALE = 18
_TEN = [10 ** k for k in range(MAX_SCALE + 1)]


class Unsupported(Exception):
    pass


class Num:
    """A column of rationals num/den (den > 0), how Decimal's value relates to it, and
    where Decimal's value is a negative zero (-0 prints as "-0.00")."""

    __slots__ = ("num", "den", "kind", "neg0")

    def __init__(self, num, den, kind, neg0=None):
        self.num, self.den, self.kind, self.neg0 = num, den, kind, neg0

    def sign_bit(self):
        negative = self.num < 0
        return negative if self.neg0 is None else (negative | self.neg0)


_DECIMAL_DEN = 10 ** 18  # denominators of decimals of at most 18 places divide it


def _steps_ok(step: Optional[Decimal]) -> bool:
    """Rounding steps whose quotients terminate (c·10^k, c with factors 2 and 5 only),
    with an exponent ≤ 0: for them the scalar rounding is exact arithmetic."""
    if step is None:
        return True
    sign, digits, exponent = step.as_tuple()
    if sign or not isinstance(exponent, int) or exponent > 0:
        return False
    c = int("".join(map(str, digits)))
    while c % 2 == 0:
        c //= 2
    while c % 5 == 0:
        c //= 5
    return c == 1 and step > 0


def _rational(value: Decimal):
    """(num, den) of a decimal, or None when it does not fit (or is a negative zero)."""
    if not value.is_finite() or (not value and value.is_signed()):
        return None
    num, den = value.as_integer_ratio()
    if abs(num) >= LIMIT or _DECIMAL_DEN % den:
        return None
    return num, den


class _Run:
    """The rows of a table; ``bad`` marks those left to scores().

    What would fail or be uncertain is marked only for the rows in ``reach``: those on
    whose path, in the scalar evaluation, that value is computed at all (a guard for the
    rows not yet decided, an outcome for the rows it decides …).
    """

    def __init__(self, n: int):
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.reach = None  # None: every row

    def mark(self, rows):
        if self.reach is None:
            self.bad |= rows
        else:
            self.bad |= rows & self.reach

    def within(self, reach, fn):
        """fn() with only ``reach`` (within the current reach) counting."""
        saved = self.reach
        self.reach = reach if saved is None else (reach & saved)
        try:
            return fn()
        finally:
            self.reach = saved

    def capture(self, fn):
        """(fn(), the rows where it fails) for every row, marking nothing: a let, or a
        fact, is computed once and counts where it is used."""
        saved_bad, saved_reach = self.bad, self.reach
        self.bad, self.reach = np.zeros(self.n, dtype=bool), None
        try:
            value = fn()
            return value, self.bad
        finally:
            self.bad, self.reach = saved_bad, saved_reach

    # --- integer arithmetic that marks overflowing rows bad
    def mul(self, a, b):
        fa = np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)
        over = np.abs(fa) >= LIMIT
        if np.any(over):
            self.mark(np.broadcast_to(over, (self.n,)))
            a = np.where(over, 0, a)
            b = np.where(over, 0, b)
        return np.multiply(a, b, dtype=np.int64)

    def add(self, a, b):
        fa = np.asarray(a, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        over = np.abs(fa) >= LIMIT
        if np.any(over):
            self.mark(np.broadcast_to(over, (self.n,)))
            a = np.where(over, 0, a)
            b = np.where(over, 0, b)
        return np.add(a, b, dtype=np.int64)

    def reduce(self, num, den):
        g = np.gcd(num, den)
        g = np.where(g == 0, 1, g)
        return num // g, den // g

    def const(self, value) -> Num:
        found = _rational(value)
        if found is None:
            raise Unsupported("constant out of range")
        num, den = found
        return Num(np.full(self.n, num, dtype=np.int64), np.full(self.n, den, dtype=np.int64),
                   EXACT)

    # --- rationals
    def neg(self, a: Num) -> Num:
        # Decimal's -x of a zero is +0 (but for ROUND_FLOOR, which is not used)
        return Num(-a.num, a.den, a.kind)

    def _exact(self, a: Num, b: Num, den) -> int:
        """EXACT when both are and the result is a decimal Decimal holds whole (its
        denominator divides 10^18: at most 37 significant digits); rows where it is not
        are left to the scalar path."""
        if a.kind == b.kind == EXACT:
            self.mark(np.mod(_DECIMAL_DEN, den) != 0)
            return EXACT
        return NEAR

    def plus(self, a: Num, b: Num, sign: int = 1) -> Num:
        left = self.mul(a.num, b.den)
        right = self.mul(b.num, a.den)
        num = self.add(left, right if sign > 0 else -right)
        den = self.mul(a.den, b.den)
        num, den = self.reduce(num, den)
        # x + y is -0 only when both are -0 (x - y: x is -0 and y is +0)
        neg0 = None
        if a.neg0 is not None:
            if sign > 0:
                other = b.neg0
            else:  # b is +0: a zero that is not -0
                other = (b.num == 0) if b.neg0 is None else ((b.num == 0) & ~b.neg0)
            if other is not None:
                neg0 = a.neg0 & other & (num == 0)
        return Num(num, den, self._exact(a, b, den), neg0)

    def times(self, a: Num, b: Num) -> Num:
        num, den = self.reduce(self.mul(a.num, b.num), self.mul(a.den, b.den))
        neg0 = (num == 0) & (a.sign_bit() ^ b.sign_bit())  # 0 × -0.5 is -0
        return Num(num, den, self._exact(a, b, den), neg0)

    def divide(self, a: Num, b: Num) -> Num:
        zero = b.num == 0
        self.mark(zero)  # the scalar path raises (division by zero) when it gets there
        bnum = np.where(zero, 1, b.num)
        num = self.mul(a.num, b.den)
        den = self.mul(a.den, bnum)
        negative = den < 0
        num, den = np.where(negative, -num, num), np.where(negative, -den, den)
        num, den = self.reduce(num, den)
        neg0 = (num == 0) & (a.sign_bit() ^ b.sign_bit())
        return Num(num, den, ONCE if a.kind == b.kind == EXACT else NEAR, neg0)

    def sign_of_difference(self, a: Num, b: Num, kinds=None):
        """sign(a - b) per row. Unless both are EXACT (``kinds``: a's kind per row), a
        difference too small to be sure which side Decimal's 40-digit value is on makes
        the row bad — except an exact tie of a value rounded once, which is a decimal
        that Decimal divides exactly."""
        left = self.mul(a.num, b.den)
        right = self.mul(b.num, a.den)
        sign = np.sign(left - right)  # each side below 2^62: the difference fits
        worst = np.maximum(kinds, b.kind) if kinds is not None else max(a.kind, b.kind)
        if np.any(worst != EXACT):
            diff = (left.astype(np.float64) - right.astype(np.float64)) / \
                (a.den.astype(np.float64) * b.den.astype(np.float64))
            size = np.maximum(1.0, np.abs(a.num / a.den))
            close = np.abs(diff) <= DELTA * size
            tie_ok = (sign == 0) & (worst == ONCE)
            self.mark(close & (worst != EXACT) & ~tie_ok)
        return sign

    def minimum(self, a: Num, b: Num, pick_min: bool) -> Num:
        sign = self.sign_of_difference(a, b)
        take_b = sign > 0 if pick_min else sign < 0  # ties keep the first, as min()/max()
        neg0 = None
        if a.neg0 is not None or b.neg0 is not None:
            zero = np.zeros(self.n, dtype=bool)
            neg0 = np.where(take_b, b.neg0 if b.neg0 is not None else zero,
                            a.neg0 if a.neg0 is not None else zero)
        return Num(np.where(take_b, b.num, a.num), np.where(take_b, b.den, a.den),
                   max(a.kind, b.kind), neg0)

    def round_half_up(self, a: Num, step: Decimal, kinds):
        """Units of ``step`` (ROUND_HALF_UP). Rows whose value is not EXACT (``kinds``,
        per row or one for all) and lies too near a half-way point, and rows where
        Decimal would give a negative zero, are left to the scalar path."""
        snum, sden = _rational(step)
        p = self.mul(a.num, sden)
        q = self.mul(a.den, snum)
        magnitude = np.abs(p)
        whole = magnitude // q
        rest = magnitude - whole * q
        up = 2 * rest >= q
        units = np.where(p < 0, -(whole + up), whole + up)
        if np.any(kinds != EXACT):
            distance = np.abs(2 * rest.astype(np.float64) - q) / (2.0 * q)
            close = distance <= DELTA * np.maximum(1.0, magnitude / q)
            tie_ok = (2 * rest == q) & (kinds == ONCE)
            self.mark(close & (kinds != EXACT) & ~tie_ok)
        self.mark((units == 0) & a.sign_bit())  # Decimal keeps the sign: -0.0
        return units


class LeafVector:
    """A leaf's resolved rule, run over columns."""

    def __init__(self, vec: "Vectorizer", layout, tree):
        self.vec = vec
        self.layout = layout
        self.tree = tree
        rules = [r for _, r in tree] if layout.points else [tree]
        for rule in rules:
            for d in rule.deciders:
                if d[0] == "step" and d[7] not in ("whole", "started"):
                    raise Unsupported("pro rata steps")
                for part in d[2:]:
                    if part is not None and not isinstance(part, str):
                        self._check(part, layout.points)
            for ir in rule.floors + rule.caps + rule.most + rule.flags:
                self._check(ir, layout.points)

    def _check(self, ir, points):
        if isinstance(ir, _Full):
            if points:
                raise Unsupported("full inside a let of a leaf with points")
            return
        if isinstance(ir, (_Const, _Fact)):
            if isinstance(ir, _Const) and isinstance(ir.value, Decimal) and \
                    _rational(ir.value) is None:
                raise Unsupported("constant out of range")
            return
        if isinstance(ir, _Memo):
            self._check(ir.body, points)
            return
        if ir.kind not in ("neg", "+", "-", "*", "of", "div", "ratio", "cmp", "and", "or",
                           "not", "within", "agg", "abs", "clamp", "assess"):
            raise Unsupported(ir.kind)
        if ir.kind == "agg" and ir.info[0] == "mean":
            raise Unsupported("mean")
        for a in ir.args:
            self._check(a, points)

    # --- running
    def run(self, run: _Run, facts) -> np.ndarray:
        """Rounded units of the leaf's step, per row (garbage where run.bad)."""
        self.run_, self.facts, self.memo = run, facts, {}
        step = self.vec.leaf_step
        if self.layout.points:
            total = None
            for weight, rule in self.tree:
                self.full = weight
                raw, kinds = self.rule(rule)
                units = run.round_half_up(raw, step, kinds)
                total = units if total is None else run.add(total, units)
            return total
        self.full = self.layout.weight
        raw, kinds = self.rule(self.tree)
        return run.round_half_up(raw, step, kinds)

    def rule(self, rule) -> Num:
        run = self.run_
        n = run.n
        full = run.const(rule.weight)
        num = np.zeros(n, dtype=np.int64)
        den = np.ones(n, dtype=np.int64)
        kind = np.zeros(n, dtype=np.int8)
        neg0 = np.zeros(n, dtype=bool)
        decided = np.zeros(n, dtype=bool)

        def take(rows, value: Num):
            nonlocal num, den, kind, neg0
            num = np.where(rows, value.num, num)
            den = np.where(rows, value.den, den)
            kind = np.where(rows, value.kind, kind)
            if value.neg0 is not None:
                neg0 = np.where(rows, value.neg0, neg0)
            else:
                neg0 = np.where(rows, False, neg0)

        for d in rule.deciders:
            what = d[0]
            open_rows = ~decided
            if what == "guard":
                cond = run.within(open_rows, lambda: self.truth(d[2]))
                rows = cond & open_rows
                if d[3] is None:
                    run.mark(rows)  # not applicable: the group re-scales; left to scores()
                else:
                    take(rows, run.within(rows, lambda: self.value(d[3])))
                decided |= rows
                continue
            rows = open_rows
            if what in ("else", "result"):
                if d[2] is None:
                    run.mark(rows)
                else:
                    take(rows, run.within(rows, lambda: self.value(d[2])))
            elif what == "step":
                take(rows, run.within(rows, lambda: self.step(d, full)))
            elif what == "each":
                take(rows, run.within(rows, lambda: self.each(d, full)))
            decided |= rows
        run.mark(~decided)  # no clause applies: the scalar path says so
        for cond in rule.flags:
            self.truth(cond)  # warnings only; but a flag that cannot be computed fails
        value = Num(num, den, NEAR, neg0)  # the kind is per row, in ``kinds``
        kinds = kind
        for ir in rule.most:
            limit = run.plus(full, self.value(ir), -1)
            value, kinds = self._bound(value, kinds, limit, below=True)
        for ir in rule.floors:
            value, kinds = self._bound(value, kinds, self.value(ir), below=True)
        for ir in rule.caps:
            value, kinds = self._bound(value, kinds, self.value(ir), below=False)
        return value, kinds

    def _bound(self, value: Num, kinds, limit: Num, below: bool):
        run = self.run_
        sign = run.sign_of_difference(value, limit, kinds)
        rows = sign < 0 if below else sign > 0
        num = np.where(rows, limit.num, value.num)
        den = np.where(rows, limit.den, value.den)
        kinds = np.where(rows, limit.kind, kinds).astype(np.int8)
        limit_neg0 = limit.neg0 if limit.neg0 is not None else False
        neg0 = np.where(rows, limit_neg0, value.neg0 if value.neg0 is not None else False)
        return Num(num, den, NEAR, neg0), kinds

    def step(self, d, full: Num) -> Num:
        run = self.run_
        _, _, subject, reference, size, delta, base, mode, direction = d
        s, r = self.value(subject), self.value(reference)
        z = self.value(size)
        run.mark(z.num <= 0)
        if direction == "below":
            distance = run.plus(r, s, -1)
        elif direction == "above":
            distance = run.plus(s, r, -1)
        else:
            distance = run.plus(s, r, -1)
            distance = Num(np.abs(distance.num), distance.den, distance.kind)
        if s.kind == ONCE and r.kind == EXACT:
            distance.kind = ONCE  # r - a/b: exact when the step count is whole (see below)
        negative = distance.num < 0
        distance = Num(np.where(negative, 0, distance.num), np.where(negative, 1, distance.den),
                       distance.kind)
        zden = np.where(z.num <= 0, 1, z.num)
        pn = run.mul(distance.num, z.den)
        pd = run.mul(distance.den, zden)
        whole = pn // pd
        rest = pn - whole * pd
        # Whole quotients are exact for Decimal when the subject is exact or one division;
        # others need a fraction clear of a whole number (the 24-place snap cannot reach).
        fraction = rest.astype(np.float64) / pd
        uncertain = (rest != 0) & ((fraction <= DELTA) | (fraction >= 1 - DELTA))
        if distance.kind == NEAR:
            uncertain |= rest == 0
        run.mark(uncertain)
        run.mark(whole >= 10 ** 15)  # the snap to 24 places fails there
        steps = whole if mode == "whole" else whole + (rest != 0)
        dv = self.value(delta)
        change = run.times(Num(steps, np.ones(run.n, dtype=np.int64), EXACT), dv)
        if base is not None:
            b = self.value(base)
        else:
            b = self._default_base(dv, full)
        return run.plus(b, change)

    def each(self, d, full: Num) -> Num:
        run = self.run_
        _, _, count, delta, base = d
        c = self.value(count)
        run.mark(c.num < 0)
        dv = self.value(delta)
        b = self.value(base) if base is not None else self._default_base(dv, full)
        return run.plus(b, run.times(c, dv))

    def _default_base(self, dv: Num, full: Num) -> Num:
        negative = dv.num < 0
        zero = np.zeros(self.run_.n, dtype=np.int64)
        return Num(np.where(negative, full.num, zero), np.where(negative, full.den, 1), EXACT)

    # --- values
    def value(self, ir):
        run = self.run_
        if isinstance(ir, _Const):
            value = ir.value
            if isinstance(value, Decimal):
                return run.const(value)
            return value  # a text or yes/no constant
        if isinstance(ir, _Full):
            return run.const(self.full)
        if isinstance(ir, _Fact):
            value, fails = self.facts[(self.layout.index, ir.slot)]
            run.mark(fails)  # a fact not given, or not convertible, where it is read
            return value
        if isinstance(ir, _Memo):
            found = self.memo.get(ir.key)
            if found is None:
                found = self.memo[ir.key] = run.capture(lambda: self.value(ir.body))
            value, fails = found
            run.mark(fails)
            return value
        kind, args = ir.kind, ir.args
        if kind == "neg":
            return run.neg(self.number(args[0]))
        if kind in ("+", "-"):
            return run.plus(self.number(args[0]), self.number(args[1]), 1 if kind == "+" else -1)
        if kind in ("*", "of"):
            return run.times(self.number(args[0]), self.number(args[1]))
        if kind in ("div", "ratio"):
            return run.divide(self.number(args[0]), self.number(args[1]))
        if kind in ("cmp", "and", "or", "not", "within"):
            return self.truth(ir)
        if kind == "abs":
            a = self.number(args[0])
            return Num(np.abs(a.num), a.den, a.kind)  # abs(-0) is 0
        if kind == "clamp":
            x, lo, hi = (self.number(a) for a in args)
            return run.minimum(run.minimum(x, lo, pick_min=False), hi, pick_min=True)
        if kind == "agg":
            func, _ = ir.info
            values = [self.number(a) for a in args]
            if func == "sum":
                out = run.plus(run.const(Decimal(0)), values[0])
                for v in values[1:]:
                    out = run.plus(out, v)
                if all(v.kind == EXACT for v in values):
                    out.kind = EXACT
                return out
            out = values[0]
            for v in values[1:]:
                out = run.minimum(out, v, pick_min=func == "min")
            return out
        if kind == "assess":
            x, lo, hi = (self.number(a) for a in args)
            run.mark((run.sign_of_difference(x, lo) < 0) | (run.sign_of_difference(x, hi) > 0))
            return x
        raise Unsupported(kind)  # pragma: no cover - refused by _check

    def number(self, ir) -> Num:
        value = self.value(ir)
        if not isinstance(value, Num):
            raise Unsupported("not a number")
        return value

    def truth(self, ir):
        run = self.run_
        if isinstance(ir, _Op):
            if ir.kind == "not":
                return ~self.truth(ir.args[0])
            if ir.kind in ("and", "or"):
                a = self.truth(ir.args[0])
                # the right side is computed only where the left one does not decide
                b = run.within(a if ir.kind == "and" else ~a,
                               lambda: self.truth(ir.args[1]))
                return (a & b) if ir.kind == "and" else (a | b)
            if ir.kind == "within":
                s, lo, hi = (self.number(a) for a in ir.args)
                lo_closed, hi_closed = ir.info
                left = run.sign_of_difference(s, lo)
                right = run.sign_of_difference(s, hi)
                return ((left >= 0) if lo_closed else (left > 0)) & \
                    ((right <= 0) if hi_closed else (right < 0))
            if ir.kind == "cmp":
                a, b = self.value(ir.args[0]), self.value(ir.args[1])
                op = ir.info
                if isinstance(a, Num) and isinstance(b, Num):
                    sign = run.sign_of_difference(a, b)
                    return {">=": sign >= 0, "<=": sign <= 0, ">": sign > 0, "<": sign < 0,
                            "==": sign == 0, "!=": sign != 0}[op]
                if isinstance(a, Num) or isinstance(b, Num):
                    raise Unsupported("a number compared with a text")
                if op not in ("==", "!="):
                    raise Unsupported("ordered texts")
                equal = _equal(a, b, run.n)
                return equal if op == "==" else ~equal
        value = self.value(ir)
        if isinstance(value, np.ndarray) and value.dtype == bool:
            return value
        if value is True or value is False:
            return np.full(run.n, value, dtype=bool)
        raise Unsupported("not a condition")


def _equal(a, b, n):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.asarray(a == b, dtype=bool)
    array = a if isinstance(a, np.ndarray) else b
    other = b if array is a else a
    if not isinstance(array, np.ndarray):
        return np.full(n, a == b, dtype=bool)
    return np.asarray(array == other, dtype=bool).reshape(n)


# ------------------------------------------------------------------ the columns


def _column_array(values: list):
    """A column as a numpy array (typed when numpy can type it) and its empty cells."""
    n = len(values)
    try:
        array = np.asarray(values) if values else np.asarray([], dtype=object)
    except (ValueError, TypeError):  # ragged (lists in cells)
        array = None
    if array is None or array.ndim != 1 or array.shape[0] != n:
        array = np.empty(n, dtype=object)
        for i, v in enumerate(values):
            array[i] = v
        from .columnar import _missing

        return array, np.fromiter((_missing(v) for v in values), dtype=bool, count=n)
    if array.dtype.kind == "f":
        return array, np.isnan(array)
    if array.dtype.kind in "iub":
        return array, np.zeros(len(array), dtype=bool)
    if array.dtype.kind == "U":
        return array.astype(object), np.zeros(len(array), dtype=bool)
    array = np.empty(n, dtype=object)
    for i, v in enumerate(values):
        array[i] = v
    from .columnar import _missing

    return array, np.fromiter((_missing(v) for v in values), dtype=bool, count=n)


def _convert_number(value, info):
    """A cell as the scalar path reads it for a numeric fact: (num, den) or None."""
    cls = value.__class__
    if cls is bool or value is None:
        return None
    if cls is int:
        if not -10 ** (MAX_EXPONENT + 1) < value < 10 ** (MAX_EXPONENT + 1):
            return None
        number = Decimal(value)
    elif cls is Decimal:
        if not value.is_finite() or (value and not -MAX_EXPONENT <= value.adjusted()
                                     <= MAX_EXPONENT) or (not value and value.is_signed()):
            return None
        number = value
    elif cls is float:
        if value != value or math.isinf(value):
            return None
        number = Decimal(repr(value))
        if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
            return None
    elif cls is str:
        number = value
    elif value.__class__.__module__ == "numpy":
        return _convert_number(value.item(), info)
    else:
        return None
    try:
        number = coerce(number, info.kind, unit=info.unit, levels=info.levels,
                        domain=info.domain)
    except CoercionError:
        return None
    if number.__class__ is not Decimal or (not number and number.is_signed()):
        return None
    return _rational(number)


def _fact_column(run: _Run, arrays, info, texts: dict):
    """One fact slot over the rows (first non-empty of its candidate columns). ``texts``
    keeps the texts of this declaration already converted."""
    n = run.n
    if not arrays:
        run.bad |= True  # never given: the scalar path reports the missing fact
        return _empty(info, n)
    array, missing = arrays[0]
    for other, other_missing in arrays[1:]:
        if array.dtype != other.dtype:
            array, other = array.astype(object), other.astype(object)
        array = np.where(missing, other, array)
        missing = missing & other_missing
    run.bad |= missing
    kind = info.kind
    if kind == "bool":
        if array.dtype == bool:
            return array
        out = np.zeros(n, dtype=bool)
        for i, v in enumerate(array):
            v = _py(v)
            if v is True or v is False:
                out[i] = v
            elif not missing[i]:
                try:
                    out[i] = coerce(v if v.__class__ is str else _as_fact_value(v), "bool")
                except (CoercionError, TypeError):
                    run.bad[i] = True
        return out
    if kind in ("level", "text"):
        if array.dtype.kind != "O":
            run.bad |= True
            return np.full(n, "", dtype=object)
        if kind == "level":
            levels = frozenset(info.levels)
            ok = np.fromiter((v.__class__ is str and v in levels for v in array), dtype=bool,
                             count=n)
        else:
            ok = np.fromiter((v.__class__ is str for v in array), dtype=bool, count=n)
        run.bad |= ~ok
        return array
    if array.dtype.kind in "iu" and kind in ("number", "money", "count", "percent"):
        # Whole numbers: coerce()'s checks of a decimal, column-wise.
        ints = array.astype(np.int64)
        ones = np.ones(n, dtype=np.int64)
        if kind == "count":
            run.bad |= ints < 0
        if kind == "percent":
            run.bad |= np.abs(ints) > 10
        domain = info.domain
        if domain is not None:
            value = Num(ints, ones, EXACT)
            if domain.lo.is_finite():
                sign = run.sign_of_difference(value, run.const(domain.lo))
                run.bad |= (sign < 0) if domain.lo_closed else (sign <= 0)
            if domain.hi.is_finite():
                sign = run.sign_of_difference(value, run.const(domain.hi))
                run.bad |= (sign > 0) if domain.hi_closed else (sign >= 0)
        return Num(ints, ones, EXACT)
    num = np.zeros(n, dtype=np.int64)
    den = np.ones(n, dtype=np.int64)
    bad = run.bad
    for i, v in enumerate(array.tolist() if array.dtype.kind != "O" else array):
        if missing[i]:
            continue
        if v.__class__ is str:
            found = texts.get(v, _NOT_SEEN)
            if found is _NOT_SEEN:
                found = _convert_number(v, info)
                if len(texts) < 65536:
                    texts[v] = found
        else:
            found = _convert_number(v, info)
        if found is None:
            bad[i] = True
        else:
            num[i], den[i] = found
    return Num(num, den, EXACT)


_NOT_SEEN = object()


def _as_fact_value(value):
    """What Facts.from_mapping makes of a plain value (ints become decimals …)."""
    from .facts import _SLOW, _fast_scalar

    converted = _fast_scalar(value)
    if converted is _SLOW:
        raise TypeError
    return converted


def _py(value):
    return value.item() if value.__class__.__module__ == "numpy" else value


def _empty(info, n):
    if info.kind == "bool":
        return np.zeros(n, dtype=bool)
    if info.kind in ("level", "text"):
        return np.full(n, "", dtype=object)
    return Num(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), EXACT)


class Vectorizer:
    """A set's leaves as column code, or Unsupported."""

    def __init__(self, scorer):
        fast = scorer._evaluator.fast
        if fast is None:
            raise Unsupported("no generated code")
        checked = scorer.checked
        for step in (checked.leaf_step, checked.group_step, checked.total_step):
            if not _steps_ok(step):
                raise Unsupported("rounding step")
        self.scorer = scorer
        self.checked = checked
        self.program = fast.program
        self.leaf_step = checked.leaf_step
        self.fast_round = _quantum(checked.leaf_step) is not None
        self.leaves = [LeafVector(self, layout, tree)
                       for layout, tree in zip(self.program.leaves, self.program.resolved)]
        self.texts: Dict[tuple, dict] = {}  # per declaration: text → (num, den) or None

    def score(self, layout, columns, rows: int, out: Dict[str, list]) -> np.ndarray:
        """Fill ``out`` for the rows computed here; returns the mask of those rows."""
        run = _Run(rows)
        by_name = {}
        for code, name, index in layout.facts:
            by_name[(code, name)] = index
        project = {name: index for name, index in layout.project}
        arrays = {}

        def column(index):
            found = arrays.get(index)
            if found is None:
                found = arrays[index] = _column_array(columns[index])
            return found

        for code, index in layout.na:  # a row marking a leaf not applicable re-scales
            values = columns[index]
            run.bad |= np.fromiter((isinstance(v, str) and v.strip().lower() in
                                    ("na", "n/a", "不适用") for v in values), dtype=bool,
                                   count=rows)
        facts = {}
        converted = {}  # the same columns read by the same declaration: converted once
        for vec in self.leaves:
            plan = vec.layout.plan
            for slot, (name, info, _, _) in enumerate(plan.fact_slots):
                indexes = [by_name[(code, name)] for code in plan.chain
                           if (code, name) in by_name]
                if name in project:
                    indexes.append(project[name])
                key = (tuple(indexes), info.kind, info.unit, info.levels, info.domain)
                found = converted.get(key)
                if found is None:
                    texts = self.texts.setdefault(key[1:], {})
                    found = converted[key] = run.capture(lambda: _fact_column(
                        run, [column(i) for i in indexes], info, texts))
                facts[(vec.layout.index, slot)] = found
        units = {}
        for vec in self.leaves:
            units[vec.layout.code] = vec.run(run, facts)
        # Groups and total: sums of the rounded leaves, in the leaf step's units.
        checked = self.checked
        for node in reversed(list(checked.walk())):
            if not node.is_leaf:
                total = np.zeros(rows, dtype=np.int64)
                for child in node.children:
                    total = run.add(total, units[child.code])
                units[node.code] = total
        top = np.zeros(rows, dtype=np.int64)
        for root in checked.roots:
            top = run.add(top, units[root.code])
        done = ~run.bad
        step = self.leaf_step
        total_step = checked.total_step
        if total_step is not None:
            snum, sden = _rational(step)
            total = Num(run.mul(top, snum), np.full(rows, sden, dtype=np.int64), EXACT)
            top = run.round_half_up(total, total_step, EXACT)
            done = ~run.bad
        rows_done = np.flatnonzero(done)
        leaf_decimal = _maker(step, leaf=True)
        group_decimal = _maker(step, leaf=False)
        for vec in self.leaves:
            _fill(out[vec.layout.code], rows_done, units[vec.layout.code], leaf_decimal)
        for node in checked.walk():
            if not node.is_leaf:
                _fill(out[node.code], rows_done, units[node.code], group_decimal)
        _fill(out["total"], rows_done, top, group_decimal if total_step is None else
              _maker(total_step, leaf=True))
        return done


def _fill(values: list, rows, units, make):
    """values[row] = make(units[row]) for the rows, one Decimal per distinct value."""
    if not len(rows):
        return
    distinct, where = np.unique(units[rows], return_inverse=True)
    made = np.empty(len(distinct), dtype=object)
    made[:] = [make(u) for u in distinct.tolist()]
    filled = made[where].tolist()
    if len(rows) == len(values):
        values[:] = filled
    else:
        for i, v in zip(rows.tolist(), filled):
            values[i] = v


def _maker(step: Decimal, leaf: bool):
    """units → the Decimal the scalar path gives (round_in_context's last steps for a
    leaf; ZERO + the leaves' sum for a group), one object per value."""
    cache: Dict[int, Decimal] = {}
    exponent = step.as_tuple().exponent
    quantum = Decimal(1).scaleb(exponent) if exponent < 0 else None

    def make(units: int) -> Decimal:
        found = cache.get(units)
        if found is None:
            import decimal

            with decimal.localcontext(CONTEXT):
                found = Decimal(units) * step
                if leaf and quantum is not None:
                    found = found.quantize(quantum)
            if len(cache) < 65536:
                cache[units] = found
        return found

    return make


def score_columns(scorer, layout, columns, rows: int, out: Dict[str, list]):
    """The rows computed by whole columns (a boolean mask), or None when the set has a
    construct this path does not compute."""
    try:
        vectorizer = scorer.__dict__.get("_vectorizer")
        if vectorizer is None:
            vectorizer = Vectorizer(scorer)
            scorer.__dict__["_vectorizer"] = vectorizer
    except Unsupported:
        scorer.__dict__["_vectorizer"] = False
        return None
    if vectorizer is False:
        return None
    try:
        with np.errstate(all="ignore"):
            return vectorizer.score(layout, columns, rows, out)
    except Unsupported:
        return None
