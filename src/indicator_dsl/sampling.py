"""Concrete examples for the checker: facts under which a rule leaves [0, weight].

Interval reasoning over-approximates, so before calling a rule wrong the checker
runs it on a deterministic sample of facts drawn from the declared domains and
the rule's own constants; a found example is shown to the user.
"""

from __future__ import annotations

import decimal
import itertools
import random
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from . import nodes as n
from .numbers import CONTEXT, plain

MAX_SAMPLES = 3000


def candidate_values(info, constants: List[Decimal]) -> List:
    kind = info.kind
    if kind == "bool":
        return [True, False]
    if kind == "level":
        return list(info.levels)
    if kind == "text":
        return ["…"]
    base = {Decimal(0), Decimal("0.5"), Decimal(1), Decimal(2), Decimal(10), Decimal(100),
            Decimal(1000000)}
    step = Decimal("0.001")
    for c in constants:
        c = abs(c)
        base.update({c, c + step, c - step if c >= step else c, c * 2, c / 2})
    if info.domain is not None:
        base.update({info.domain.lo, info.domain.hi})
        base = {v for v in base if v.is_finite() and info.domain.contains(v)}
    else:
        base = {v for v in base if v >= 0}
    if kind == "count":
        base = {v.to_integral_value() for v in base} | {Decimal(3), Decimal(5)}
        if info.domain is not None:
            base = {v for v in base if info.domain.contains(v)}
    return sorted(base)


def _constants(rule) -> List[Decimal]:
    return [node.value for node in n.walk(rule) if isinstance(node, n.Number)]


class _Facade:
    """The parts of a CheckedSet the compiler needs, during checking."""

    def __init__(self, checker, leaf_step):
        self.facts = checker.facts
        self.source = checker.source
        self.leaf_step = leaf_step

    def text_of(self, node) -> str:
        from .checker import source_text_of

        return source_text_of(self.source, node)


def find_out_of_range(checker, leaf, rule, weight: Decimal, scope) \
        -> Optional[Tuple[Dict[str, str], Decimal]]:
    from .checker import Scope
    from .compiler import Frame, LeafPlan, RuleFailure, _LeafCompiler

    facade = _Facade(checker, Decimal("0.01"))
    compiler = _LeafCompiler(facade, leaf)
    try:
        run = compiler.rule(rule, Scope(scope.parent, scope.owner), None)
    except Exception:  # the rule has other errors; those are reported already
        return None
    plan = compiler.plan
    plan.weight = weight
    constants = _constants(rule)
    columns = [candidate_values(info, constants) for _, info, _, _ in plan.fact_slots]
    if any(not c for c in columns):
        return None
    total = 1
    for c in columns:
        total *= len(c)
    if total <= MAX_SAMPLES:
        combos = itertools.product(*columns)
    else:
        rng = random.Random(0)
        combos = (tuple(rng.choice(c) for c in columns) for _ in range(MAX_SAMPLES))
    with decimal.localcontext(CONTEXT):
        for combo in combos:
            frame = Frame(plan, None)
            frame.fact_values = list(combo)
            try:
                decision = run(frame)
            except (RuleFailure, ArithmeticError, TypeError):
                continue
            if decision.na or decision.score is None:
                continue
            if decision.score < 0 or decision.score > weight:
                shown = {}
                for (name, info, _, _), value in zip(plan.fact_slots, combo):
                    shown[name] = _show(value, info.kind)
                return shown, decision.score
    return None


def _show(value, kind) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if kind == "percent":
        from .numbers import percent

        return percent(value)
    return plain(value)
