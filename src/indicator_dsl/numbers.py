"""Exact decimal arithmetic shared by every stage: context, rounding, display."""

from __future__ import annotations

import decimal
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

# 40 significant digits: far beyond any score, so 1/3 + 1/3 + 1/3 rounds back to 1
# at any published precision.
CONTEXT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                 decimal.Overflow])
decimal.DefaultContext.prec = 40

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
# Step counts are snapped to this many places before taking whole or started
# steps, so a quotient such as 0.99999…(40 digits) from 1/3*3 counts as 1 step.
_SNAP = Decimal("1e-24")


def round_half_up(value: Decimal, step: Decimal) -> Decimal:
    """Round to a multiple of ``step`` (0.01, 0.1, 0.5 …), halves away from zero (四舍五入)."""
    with decimal.localcontext(CONTEXT):
        units = (value / step).quantize(ONE, rounding=ROUND_HALF_UP)
        result = units * step
        # Keep the step's exponent so 5.5 shows as 5.5, not 5.50 or 55E-1.
        exponent = step.as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            result = result.quantize(Decimal(1).scaleb(exponent))
        return result


def round_in_context(value: Decimal, step: Decimal) -> Decimal:
    """round_half_up for the hot path, already inside CONTEXT (evaluation runs in it)."""
    result = (value / step).quantize(ONE, rounding=ROUND_HALF_UP) * step
    quantum = _QUANTUM.get(step)
    if quantum is None:
        exponent = step.as_tuple().exponent
        quantum = _QUANTUM[step] = Decimal(1).scaleb(exponent) if exponent < 0 else False
    return result.quantize(quantum) if quantum else result


_QUANTUM: dict = {}  # step -> the quantum that keeps its exponent (False: none needed)


def whole_steps(distance: Decimal, size: Decimal) -> Decimal:
    with decimal.localcontext(CONTEXT):
        return (distance / size).quantize(_SNAP).to_integral_value(rounding=ROUND_FLOOR)


def started_steps(distance: Decimal, size: Decimal) -> Decimal:
    with decimal.localcontext(CONTEXT):
        return (distance / size).quantize(_SNAP).to_integral_value(rounding=ROUND_CEILING)


def plain(value: Decimal) -> str:
    """A decimal as people write it: 4.8, 5, 0.54 — no exponent, no trailing zeros."""
    if value is None:
        return ""
    if not value.is_finite():
        return "∞" if value > 0 else "-∞"
    text = format(value, "f")  # exact: normalize() would round to the context's precision
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text


def percent(value: Decimal, places: int = 2) -> str:
    """0.968757 → 96.88%: ``places`` decimals, trailing zeros dropped.

    A value that is not whole but would show as a whole percentage (99.9999% → 100%)
    is rounded away from that whole number and marked 「约」 (约99.99%), so a
    justification never says "100%，低于100%"."""
    if not value.is_finite():
        return plain(value)
    with decimal.localcontext(CONTEXT):
        exact = value * HUNDRED
        quantum = Decimal(1).scaleb(-places)
        scaled = exact.quantize(quantum, rounding=ROUND_HALF_UP)
        if scaled != exact and scaled == scaled.to_integral_value():
            toward = ROUND_FLOOR if exact < scaled else ROUND_CEILING
            return "约" + plain(exact.quantize(quantum, rounding=toward)) + "%"
    return plain(scaled) + "%"


def whole_steps_in_context(distance: Decimal, size: Decimal) -> Decimal:
    return (distance / size).quantize(_SNAP).to_integral_value(rounding=ROUND_FLOOR)


def started_steps_in_context(distance: Decimal, size: Decimal) -> Decimal:
    return (distance / size).quantize(_SNAP).to_integral_value(rounding=ROUND_CEILING)
