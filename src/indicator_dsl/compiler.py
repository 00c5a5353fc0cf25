"""Checked set → plan: every leaf's rule compiled into Python closures.

Names are resolved here, once: a fact becomes a slot number in the leaf's fact
table, a ``let`` a memo slot, a clause a closure. Evaluating a project then only
runs closures; it never walks the AST or looks a rule name up.
"""

from __future__ import annotations

import decimal
import operator
from decimal import Decimal
from typing import Callable, Dict, List, Optional, Tuple

from . import explain
from . import nodes as n
from .checker import (BOOL, FactInfo, LetInfo, CheckedIndicator, CheckedSet, Scope,
                      constant_value, is_percent_like, step_subject)
from .facts import CoercionError, Facts, Where, coerce
from .numbers import (ONE, ZERO, plain, round_in_context, started_steps_in_context,
                      whole_steps_in_context)

_UNSET = object()


class RuleFailure(Exception):
    """An indicator cannot be scored with these facts."""

    def __init__(self, message: str, span: Optional[n.Span] = None, hint: Optional[str] = None,
                 where: Optional[Where] = None, invalid_input: bool = False):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.where = where
        # The facts break a rule's own bounds (an assessed value outside its band): the
        # rule works as intended, the input is wrong.
        self.invalid_input = invalid_input


class Decision:
    """What a rule decided: the score (or not applicable) and why.

    The justification is worded only when someone reads ``text``: scoring many
    projects for their numbers alone never formats a sentence.
    """

    __slots__ = ("score", "na", "clause", "_text", "suffixes", "stated", "warnings", "kind",
                 "details")

    def __init__(self, score: Optional[Decimal], text, clause: str, *, na=False,
                 stated=False, kind="guard"):
        self.score = score
        self.na = na
        self._text = text  # a string, or a function that words it
        self.suffixes: List[str] = []
        self.clause = clause
        self.stated = stated  # the text already says the final score
        self.warnings: List[str] = []
        self.kind = kind
        self.details = None  # a function giving the step's or count's intermediate values

    @property
    def text(self) -> str:
        if callable(self._text):
            self._text = self._text()
        return self._text + "".join(self.suffixes)


class Frame:
    """One leaf's evaluation against one project's facts."""

    __slots__ = ("plan", "facts", "full", "fact_values", "let_values", "observations", "values")

    def __init__(self, plan: "LeafPlan", facts: Facts):
        self.plan = plan
        self.facts = facts
        self.full = plan.weight
        self.fact_values = [_UNSET] * len(plan.fact_slots)
        self.let_values = [_UNSET] * plan.let_count
        self.observations: List[tuple] = []  # worded by explain.observation()
        self.values: Dict[str, tuple] = {}  # label -> (value, as percent)

    def fact(self, slot: int):
        value = self.fact_values[slot]
        if value is _UNSET:
            value = self.fact_values[slot] = self.plan.read_fact(self.facts, slot)
        return value


class LeafPlan:
    """A compiled leaf: its fact table and the closure that scores it."""

    def __init__(self, indicator: CheckedIndicator, checked: CheckedSet):
        self.indicator = indicator
        self.code = indicator.code
        self.weight = indicator.weight
        self.chain = indicator.chain
        self.fact_slots: List[Tuple[str, FactInfo, bool, Optional[n.Span]]] = []
        self.let_count = 0
        self.uses_assess = False  # shows who assessed, from an `assessor` fact
        # Per fact slot: whether any Decimal is valid as it is (no range, no integer check).
        self.plain_numbers: List[bool] = []
        self.leaf_step = checked.leaf_step
        self.run: Callable[[Frame], Decision] = None  # set by the compiler

    def assessor(self, facts: Facts) -> Optional[str]:
        """The `assessor` fact nearest to this leaf (its own, an ancestor's, the project's)."""
        for code in self.chain:
            table = facts.indicators.get(code)
            if table is not None and "assessor" in table:
                return str(table["assessor"].value)
        found = facts.project.get("assessor")
        return str(found.value) if found is not None else None

    def read_fact(self, facts: Facts, slot: int):
        name = self.fact_slots[slot][0]
        found = None
        indicators = facts.indicators
        for code in self.chain:
            table = indicators.get(code)
            if table is not None:
                found = table.get(name)
                if found is not None:
                    break
        else:
            found = facts.project.get(name)
        if found is None:
            raise self._missing(facts, slot)
        value = found.value
        if value.__class__ is Decimal and self.plain_numbers[slot]:
            return value  # the common case: a number where any number will do
        return self._coerce(found, slot)

    def _missing(self, facts: Facts, slot: int) -> RuleFailure:
        name, _, _, span = self.fact_slots[slot]
        looked = ", ".join(f"indicators.{c}" for c in self.chain)
        return RuleFailure(
            f"{self.code}: fact {name!r} is missing", span,
            f"add it to {facts.path} under `indicators: {self.code}:` (looked in {looked} "
            f"and the project-wide facts), or mark {self.code} `na` if it does not apply")

    def _coerce(self, found, slot: int):
        name, info, allow_list, span = self.fact_slots[slot]
        try:
            return coerce(found.value, info.kind, unit=info.unit, levels=info.levels,
                          domain=info.domain, allow_list=allow_list)
        except CoercionError as exc:
            raise RuleFailure(f"{self.code}: fact {name!r} {exc.message}", span, exc.hint,
                              where=found.where) from None

    def fact_values_shown(self, frame) -> Dict[str, tuple]:
        """The facts a leaf read, by label, for the justification (label -> (value, %))."""
        out = {}
        for (name, info, _, _), value in zip(self.fact_slots, frame.fact_values):
            if value is not _UNSET:
                out[info.label or name] = (value, info.kind == "percent")
        return out


def compile_set(checked: CheckedSet) -> Dict[str, LeafPlan]:
    plans = {}
    for leaf in checked.leaves():
        plans[leaf.code] = _LeafCompiler(checked, leaf).compile()
    return plans


_COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
            "==": operator.eq, "!=": operator.ne}


class _LeafCompiler:
    def __init__(self, checked: CheckedSet, leaf: CheckedIndicator):
        self.checked = checked
        self.leaf = leaf
        self.plan = LeafPlan(leaf, checked)
        self.fact_slot: Dict[Tuple[str, bool], int] = {}
        self.let_slot: Dict[object, Tuple[int, Callable]] = {}
        self.shared = _repeated_calls(leaf)

    def text(self, node) -> str:
        return self.checked.text_of(node)

    # --- leaf
    def compile(self) -> LeafPlan:
        leaf = self.leaf
        if leaf.points:
            parts = []
            for point in leaf.points:
                scope = Scope(leaf.scope, f"{leaf.code}/{point.label}")
                parts.append((point, self.rule(point.rule, scope, point.weight)))
            self.plan.run = self._points(parts)
        else:
            scope = Scope(leaf.scope, leaf.code)
            self.plan.run = self.rule(leaf.rule, scope, None)
        self.plan.plain_numbers = [info.kind in ("number", "money") and info.domain is None
                                   for _, info, _, _ in self.plan.fact_slots]
        return self.plan

    def _points(self, parts):
        step = self.checked.leaf_step

        def run(frame: Frame) -> Decision:
            total = ZERO
            texts = []
            warnings = []
            leaf_full = frame.full
            for point, fn in parts:
                frame.full = point.weight
                try:
                    decision = fn(frame)
                finally:
                    frame.full = leaf_full
                if decision.na:
                    raise RuleFailure(f"{self.leaf.code}: point {point.label} cannot be "
                                      "`na`; only a whole indicator can", point.span)
                score = round_in_context(decision.score, step)
                total += score
                texts.append((point.label, decision, score))
                warnings.extend(decision.warnings)

            def word(texts=texts, total=total):
                said = [f"{label}{d.text}（{explain.points(score)}）" if d.stated and
                        d.text.endswith("得满分") else f"{label}{d.text}" if d.stated else
                        f"{label}{d.text}，得{explain.points(score)}" for label, d, score in texts]
                return "；".join(said) + f"；合计{explain.points(total)}"

            d = Decision(total, word, "points", stated=True, kind="points")
            d.warnings = warnings
            return d

        return run

    # --- rules
    def rule(self, rule: n.Rule, scope: Scope, point_weight) -> Callable[[Frame], Decision]:
        deciders = []
        floors, caps, most, flags = [], [], [], []
        guards = []
        for clause in rule.clauses:
            if isinstance(clause, n.Let):
                binding = scope.names.get(clause.name)
                if not isinstance(binding, LetInfo):
                    binding = LetInfo(clause, scope)
                    scope.names[clause.name] = binding
            elif isinstance(clause, n.Guarded):
                deciders.append(self.guarded(clause, scope))
                guards.append(clause)
            elif isinstance(clause, n.Otherwise):
                deciders.append(self.otherwise(clause, scope))
            elif isinstance(clause, n.Result):
                deciders.append(self.result(clause, scope))
            elif isinstance(clause, n.Step):
                deciders.append(self.step(clause, list(guards), scope))
            elif isinstance(clause, n.Each):
                deciders.append(self.each(clause, scope))
            elif isinstance(clause, n.Floor):
                floors.append((self.expr(clause.value, scope), clause))
            elif isinstance(clause, n.Cap):
                caps.append((self.expr(clause.value, scope), clause))
            elif isinstance(clause, n.DeductAtMost):
                most.append((self.expr(clause.value, scope), clause))
            elif isinstance(clause, n.Flag):
                flags.append((self.condition(clause.condition, scope), clause))
        code = self.leaf.code
        rule_span = rule.span

        def run(frame: Frame) -> Decision:
            decision = None
            for decide in deciders:
                decision = decide(frame)
                if decision is not None:
                    break
            if decision is None:
                seen = explain.observations(frame.observations, "；")
                raise RuleFailure(f"{code}: no clause of the rule applies" +
                                  (f" ({seen})" if seen else ""), rule_span,
                                  "add `else -> …` to the rule, or check the facts")
            for cond, clause in flags:
                frame.observations = []
                if cond(frame):
                    seen = explain.observations(frame.observations)
                    if clause.message is None:
                        decision.warnings.append(
                            f"超额完成：{seen}，完成值高于指标值较多，请按偏离度分析原因")
                    else:
                        decision.warnings.append(f"{clause.message}（{seen}）" if seen
                                                 else clause.message)
            if decision.na:
                return decision
            score = decision.score
            full = frame.full
            for fn, clause in most:
                limit = fn(frame)
                if score < full - limit:
                    score = full - limit
                    decision.suffixes.append(f"，最多扣{explain.points(limit)}")
                    decision.stated = False
            for fn, clause in floors:
                low = fn(frame)
                if score < low:
                    score = low
                    decision.suffixes.append("，扣完为止" if low == 0 else
                                             f"，最低{explain.points(low)}")
                    decision.stated = False
            for fn, clause in caps:
                high = fn(frame)
                if score > high:
                    score = high
                    decision.suffixes.append("，以满分为限" if high == full else
                                             f"，最高{explain.points(high)}")
                    decision.stated = False
            decision.score = score
            return decision

        return run

    def _outcome(self, outcome, scope) -> Tuple[Optional[Callable], str]:
        """A compiled outcome and how to word it: full, zero, share, constant or formula."""
        if isinstance(outcome, n.NotApplicable):
            return None, "na"
        fn = self.expr(outcome, scope)
        if isinstance(outcome, (n.Full, n.WeightRef)):
            return fn, "full"
        value = constant_value(outcome)
        if value is not None:
            return fn, "zero" if value == 0 else "const"
        if _share_of_weight(outcome) is not None:
            return fn, "share"
        return fn, "formula"

    def _word(self, kind: str, outcome, score: Decimal, full: Decimal) -> str:
        if kind == "full":
            return "得满分"
        if kind == "zero":
            return "不得分"
        if kind == "share":
            share = _share_of_weight(outcome)
            return f"得权重的{explain.show(share, True)}，即{explain.points(score)}"
        if kind == "const":
            return f"得{explain.points(score)}"
        return f"按 {self.text(outcome)} 计算"

    def guarded(self, clause: n.Guarded, scope) -> Callable:
        cond = self.condition(clause.condition, scope)
        fn, kind = self._outcome(clause.outcome, scope)
        clause_text = self.text(clause)
        word = self._word
        outcome = clause.outcome

        def decide(frame: Frame) -> Optional[Decision]:
            frame.observations = []
            if not cond(frame):
                return None
            seen = frame.observations
            if fn is None:
                return Decision(None, lambda: explain.joined(seen, "不适用"), clause_text,
                                na=True, stated=True)
            score = fn(frame)
            full = frame.full
            return Decision(score, lambda: explain.joined(seen, word(kind, outcome, score, full)),
                            clause_text, stated=kind != "formula" and (kind != "full" or
                                                                       score == full))

        return decide

    def otherwise(self, clause: n.Otherwise, scope) -> Callable:
        fn, kind = self._outcome(clause.outcome, scope)
        clause_text = self.text(clause)
        word = self._word
        outcome = clause.outcome

        def decide(frame: Frame) -> Decision:
            seen = frame.observations or [("text", "不满足以上条件")]
            if fn is None:
                return Decision(None, lambda: explain.joined(seen, "不适用"), clause_text,
                                na=True, stated=True)
            score = fn(frame)
            full = frame.full
            return Decision(score, lambda: explain.joined(seen, word(kind, outcome, score, full)),
                            clause_text, kind="else",
                            stated=kind != "formula" and (kind != "full" or score == full))

        return decide

    def result(self, clause: n.Result, scope) -> Callable:
        fn, kind = self._outcome(clause.value, scope)
        clause_text = self.text(clause)
        word = self._word
        outcome = clause.value

        def decide(frame: Frame) -> Decision:
            score = fn(frame)
            full = frame.full
            plan = frame.plan

            def text():
                values = dict(plan.fact_values_shown(frame))
                values.update(frame.values)
                shown = [("text", f"{k}为{explain.show(v, pct)}") for k, (v, pct) in values.items()]
                return explain.joined(shown, word(kind, outcome, score, full))

            return Decision(score, text, clause_text, kind="formula",
                            stated=kind != "formula" and (kind != "full" or score == full))

        return decide

    def step(self, clause: n.Step, guards, scope) -> Callable:
        subject_expr, guard_ref = step_subject(guards, clause.direction)
        ref_expr = clause.reference if clause.reference is not None else guard_ref
        subject = self.expr(subject_expr, scope)
        reference = self.expr(ref_expr, scope)
        size_fn = self.expr(clause.size, scope)
        delta_fn = self.expr(clause.delta, scope)
        base_fn = self.expr(clause.base, scope) if clause.base is not None else None
        label = self.label(subject_expr, scope)
        as_pct = is_percent_like(subject_expr, scope)
        size_pct = is_percent_like(clause.size, scope) or as_pct
        direction = clause.direction
        mode = clause.mode
        share = _share_of_weight(clause.delta)
        clause_text = self.text(clause)
        span = clause.span
        code = self.leaf.code

        def decide(frame: Frame) -> Decision:
            s = subject(frame)
            r = reference(frame)
            size = size_fn(frame)
            if size <= 0:
                raise RuleFailure(f"{code}: the step size is {plain(size)}; it must be above 0",
                                  span)
            if direction == "below":
                distance = r - s
            elif direction == "above":
                distance = s - r
            else:
                distance = abs(s - r)
            if distance < 0:
                distance = ZERO
            if mode == n.STEP_WHOLE:
                steps = whole_steps_in_context(distance, size)
            elif mode == n.STEP_STARTED:
                steps = started_steps_in_context(distance, size)
            else:
                steps = distance / size
            delta = delta_fn(frame)
            if base_fn is not None:
                base = base_fn(frame)
            else:
                base = frame.full if delta < 0 else ZERO
            change = steps * delta
            score = base + change

            def text():
                verb = "扣" if delta < 0 else "加"
                if share is not None:
                    per = f"{verb}权重的{explain.show(abs(share), True)}（{plain(abs(delta))}分）"
                else:
                    per = f"{verb}{explain.points(abs(delta))}"
                where = explain.DIRECTION_PHRASE[direction]
                gap = explain.GAP_PHRASE[direction]
                out = (f"{label}为{explain.show(s, as_pct)}，{where}{explain.show(r, as_pct)}"
                       f"（{gap}{explain.show(distance, size_pct)}），每"
                       f"{explain.STEP_VERB[direction]}{explain.show(size, size_pct)}{per}"
                       f"（{explain.MODE_PHRASE[mode]}）")
                if steps == 0:
                    return out + ("，不足一档，不扣分" if delta < 0 else "，不足一档，不加分")
                return out + f"，共{plain(steps)}档，{verb}{explain.points(abs(change))}"

            decision = Decision(score, text, clause_text, kind="step")
            decision.details = lambda: {
                "subject": (s, as_pct), "reference": (r, as_pct), "distance": (distance, size_pct),
                "steps": (steps, False), "per_step": (delta, False), "change": (change, False),
                "base": (base, False)}
            return decision

        return decide

    def each(self, clause: n.Each, scope) -> Callable:
        count_fn = self.expr(clause.count, scope)
        delta_fn = self.expr(clause.delta, scope)
        base_fn = self.expr(clause.base, scope) if clause.base is not None else None
        label = self.label(clause.count, scope)
        share = _share_of_weight(clause.delta)
        clause_text = self.text(clause)
        span = clause.count.span
        code = self.leaf.code

        def decide(frame: Frame) -> Decision:
            count = count_fn(frame)
            if count < 0:
                raise RuleFailure(f"{code}: {label} is {plain(count)}; a count cannot be "
                                  "negative", span)
            delta = delta_fn(frame)
            base = base_fn(frame) if base_fn is not None else (
                frame.full if delta < 0 else ZERO)
            change = count * delta

            def text():
                verb = "扣" if delta < 0 else "加"
                per = f"{verb}权重的{explain.show(abs(share), True)}（{plain(abs(delta))}分）" \
                    if share is not None else f"{verb}{explain.points(abs(delta))}"
                if count == 0:
                    return f"{label}为0，不扣分" if delta < 0 else f"{label}为0"
                return f"{label}为{plain(count)}，每项{per}，共{verb}{explain.points(abs(change))}"

            decision = Decision(base + change, text, clause_text, kind="each")
            decision.details = lambda: {"count": (count, False), "per_item": (delta, False),
                                        "change": (change, False), "base": (base, False)}
            return decision

        return decide

    # --- expressions
    def label(self, expr, scope) -> str:
        if isinstance(expr, n.Call) and expr.func == "ratio" and len(expr.args) == 2 \
                and all(isinstance(a, n.Name) for a in expr.args):
            parts = [self.label(a, scope) for a in expr.args]
            if parts != [a.name for a in expr.args]:  # labelled: say it in words
                return f"{parts[0]}与{parts[1]}之比"
        if isinstance(expr, n.Name):
            binding = scope.lookup(expr.name)
            if isinstance(binding, FactInfo) and binding.label:
                return binding.label
            if isinstance(binding, LetInfo) and binding.label:
                return binding.label
            fact = self.checked.facts.get(expr.name)
            if fact is not None and fact.label:
                return fact.label
            return expr.name
        return self.text(expr)

    def condition(self, expr, scope) -> Callable:
        """Like expr(), but a bare yes/no name records what it was, for the wording."""
        if isinstance(expr, n.Name):
            fn = self.expr(expr, scope)
            label = self.label(expr, scope)

            def truth(frame):
                value = fn(frame)
                frame.observations.append(("truth", label, value))
                return value

            return truth
        if isinstance(expr, n.Not):
            inner = self.condition(expr.operand, scope)
            return lambda frame: not inner(frame)
        if isinstance(expr, n.Logical):
            a, b = self.condition(expr.left, scope), self.condition(expr.right, scope)
            if expr.op == "and":
                return lambda frame: a(frame) and b(frame)
            return lambda frame: a(frame) or b(frame)
        return self.expr(expr, scope)

    def expr(self, expr, scope, allow_list=False) -> Callable:
        if expr in self.shared and not allow_list:
            return self._shared(expr, scope)
        return self._expr(expr, scope, allow_list)

    def _shared(self, expr, scope) -> Callable:
        """A sub-expression written more than once in a rule (the guard's ratio(a, t) and
        the step's subject) is computed once per evaluation, like a `let`."""
        key = ("shared", expr, id(scope))
        if key not in self.let_slot:
            slot = self.plan.let_count
            self.plan.let_count += 1
            self.let_slot[key] = (slot, self._expr(expr, scope, False))
        slot, fn = self.let_slot[key]

        def shared(frame):
            value = frame.let_values[slot]
            if value is _UNSET:
                value = frame.let_values[slot] = fn(frame)
            return value

        return shared

    def _expr(self, expr, scope, allow_list=False) -> Callable:
        if isinstance(expr, n.Number):
            value = expr.value
            return lambda frame: value
        if isinstance(expr, (n.String, n.Boolean)):
            value = expr.value
            return lambda frame: value
        if isinstance(expr, (n.Full, n.WeightRef)):
            return lambda frame: frame.full
        if isinstance(expr, n.Name):
            return self.name(expr, scope, allow_list)
        if isinstance(expr, n.Unary):
            inner = self.expr(expr.operand, scope)
            if expr.op == "-":
                return lambda frame: -inner(frame)
            return inner
        if isinstance(expr, n.Binary):
            return self.binary(expr, scope)
        if isinstance(expr, n.Compare):
            return self.compare(expr, scope)
        if isinstance(expr, n.Logical):
            return self.condition(expr, scope)
        if isinstance(expr, n.Not):
            return self.condition(expr, scope)
        if isinstance(expr, n.InInterval):
            return self.within(expr, scope)
        if isinstance(expr, n.Call):
            return self.call(expr, scope)
        raise TypeError(f"cannot compile {expr!r}")  # pragma: no cover

    def name(self, expr: n.Name, scope: Scope, allow_list: bool) -> Callable:
        binding = scope.lookup(expr.name)
        if isinstance(binding, LetInfo):
            key = id(binding)
            if key not in self.let_slot:
                slot = self.plan.let_count
                self.plan.let_count += 1
                self.let_slot[key] = (slot, None)
                fn = self.expr(binding.let.value, binding.scope)
                self.let_slot[key] = (slot, fn)
            slot, fn = self.let_slot[key]
            label = binding.label or binding.name
            as_pct = is_percent_like(binding.let.value, binding.scope)

            def let_value(frame, slot=slot, fn=fn):
                value = frame.let_values[slot]
                if value is _UNSET:
                    value = fn(frame)
                    frame.let_values[slot] = value
                    frame.values[label] = (value, as_pct)
                return value

            return let_value
        info = binding if isinstance(binding, FactInfo) else self.checked.facts.get(expr.name)
        if info is None:  # pragma: no cover - the checker records every name it saw
            info = FactInfo(expr.name, "number", declared=False)
        key = (expr.name, allow_list)
        if key not in self.fact_slot:
            self.fact_slot[key] = len(self.plan.fact_slots)
            self.plan.fact_slots.append((expr.name, info, allow_list, expr.span))
        slot = self.fact_slot[key]
        return lambda frame: frame.fact(slot)

    def binary(self, expr: n.Binary, scope) -> Callable:
        a, b = self.expr(expr.left, scope), self.expr(expr.right, scope)
        op = expr.op
        if op == "+":
            return lambda frame: a(frame) + b(frame)
        if op == "-":
            return lambda frame: a(frame) - b(frame)
        if op in ("*", "of"):
            return lambda frame: a(frame) * b(frame)
        divisor_text = self.text(expr.right)
        span = expr.right.span
        code = self.leaf.code

        def divide(frame):
            d = b(frame)
            if d == 0:
                raise RuleFailure(f"{code}: division by zero: {divisor_text} is 0", span,
                                  f"check the fact(s) in {divisor_text}; if the indicator does "
                                  "not apply, mark it na")
            return a(frame) / d

        return divide

    def compare(self, expr: n.Compare, scope) -> Callable:
        a, b = self.expr(expr.left, scope), self.expr(expr.right, scope)
        op = _COMPARE[expr.op]
        op_text = expr.op
        label = self.label(expr.left, scope)
        as_pct = is_percent_like(expr.left, scope) or is_percent_like(expr.right, scope)

        def compare(frame):
            left, right = a(frame), b(frame)
            holds = op(left, right)
            frame.observations.append(("compare", label, left, op_text, right, holds, as_pct))
            return holds

        return compare

    def within(self, expr: n.InInterval, scope) -> Callable:
        s = self.expr(expr.subject, scope)
        lo_fn = self.expr(expr.interval.low, scope)
        hi_fn = self.expr(expr.interval.high, scope)
        lo_closed, hi_closed = expr.interval.low_closed, expr.interval.high_closed
        label = self.label(expr.subject, scope)
        as_pct = is_percent_like(expr.subject, scope)

        def within(frame):
            value, lo, hi = s(frame), lo_fn(frame), hi_fn(frame)
            holds = (value >= lo if lo_closed else value > lo) and \
                (value <= hi if hi_closed else value < hi)
            frame.observations.append(("within", label, value, lo, hi, lo_closed, hi_closed,
                                       holds, as_pct))
            return holds

        return within

    def call(self, expr: n.Call, scope) -> Callable:
        f = expr.func
        code = self.leaf.code
        span = expr.span
        if f in ("sum", "mean", "min", "max"):
            args = [self.expr(a, scope, allow_list=True) for a in expr.args]

            def values(frame):
                out = []
                for fn in args:
                    v = fn(frame)
                    if isinstance(v, list):
                        out.extend(v)
                    else:
                        out.append(v)
                if not out:
                    raise RuleFailure(f"{code}: {f}() got an empty list", span)
                return out

            if f == "sum":
                return lambda frame: sum(values(frame), ZERO)
            if f == "mean":
                def mean(frame):
                    vs = values(frame)
                    return sum(vs, ZERO) / len(vs)
                return mean
            pick = min if f == "min" else max
            return lambda frame: pick(values(frame))
        args = [self.expr(a, scope) for a in expr.args]
        if f == "ratio":
            a, b = args
            divisor_text = self.text(expr.args[1])
            divisor_span = expr.args[1].span

            def ratio(frame):
                d = b(frame)
                if d == 0:
                    raise RuleFailure(f"{code}: division by zero in {self.text(expr)}: "
                                      f"{divisor_text} is 0", divisor_span,
                                      f"check {divisor_text} in the facts; if the indicator "
                                      "does not apply, mark it na")
                return a(frame) / d

            return ratio
        if f == "abs":
            (a,) = args
            return lambda frame: abs(a(frame))
        if f == "clamp":
            x, lo, hi = args
            return lambda frame: min(max(x(frame), lo(frame)), hi(frame))
        if f == "linear":
            x, lo, hi = args

            def linear(frame):
                low, high = lo(frame), hi(frame)
                if high <= low:
                    raise RuleFailure(f"{code}: linear() needs its low end below its high end "
                                      f"({plain(low)} ≥ {plain(high)})", span)
                v = (x(frame) - low) / (high - low)
                return ZERO if v < 0 else ONE if v > 1 else v

            return linear
        if f == "round":
            x, step = args

            def rounded(frame):
                s = step(frame)
                if s <= 0:
                    raise RuleFailure(f"{code}: round() needs a step above 0", span)
                return round_in_context(x(frame), s)

            return rounded
        if f == "assess":
            self.plan.uses_assess = True
            x, lo, hi = args
            label = self.label(expr.args[0], scope)

            def assess(frame):
                value, low, high = x(frame), lo(frame), hi(frame)
                if value < low or value > high:
                    raise RuleFailure(
                        f"{code}: {label} {plain(value)} is outside the band "
                        f"{plain(low)}–{plain(high)}" +
                        (f" ({explain.observations(frame.observations)})"
                         if frame.observations else ""),
                        expr.args[0].span,
                        f"the assessor's value must lie within {plain(low)}–{plain(high)} "
                        "for this band; check the value or the band", invalid_input=True)
                frame.values["assessed"] = (value, False)
                return value

            return assess
        raise TypeError(f"unknown function {f}")  # pragma: no cover


def _share_of_weight(expr) -> Optional[Decimal]:
    """P for outcomes written `P of weight`, `P * full`, `-P of weight` …, else None."""
    sign = ONE
    if isinstance(expr, n.Unary) and expr.op == "-":
        sign, expr = -ONE, expr.operand
    if isinstance(expr, n.Binary) and expr.op in ("of", "*"):
        for share, whole in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(whole, (n.Full, n.WeightRef)):
                value = constant_value(share)
                if value is not None:
                    return sign * value
    return None


def _repeated_calls(leaf: CheckedIndicator) -> set:
    """Function calls and arithmetic written more than once in a leaf's rules."""
    import collections

    seen = collections.Counter()
    rules = ([leaf.rule] if leaf.rule is not None else []) + [p.rule for p in leaf.points]
    for rule in rules:
        for node in n.walk(rule):
            if isinstance(node, (n.Call, n.Binary)):
                seen[node] += 1
    return {node for node, count in seen.items() if count > 1}
