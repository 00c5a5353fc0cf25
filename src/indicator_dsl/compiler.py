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
                      constant_value, is_percent_like, step_parts)
from .facts import CoercionError, Facts, Where, coerce
from .numbers import (ONE, ZERO, plain, round_in_context, started_steps_in_context,
                      whole_steps_in_context)

_UNSET = object()


class RuleFailure(Exception):
    """An indicator cannot be scored with these facts."""

    def __init__(self, message: str, span: Optional[n.Span] = None, hint: Optional[str] = None,
                 where: Optional[Where] = None, invalid_input: bool = False, *,
                 message_cn: Optional[str] = None, hint_cn: Optional[str] = None,
                 missing: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.where = where
        # The same, worded for the evaluator who reads the score table (评分说明, reports).
        self.message_cn = message_cn
        self.hint_cn = hint_cn
        self.missing = missing  # the name of the missing fact, when one is missing
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

    __slots__ = ("plan", "facts", "full", "fact_values", "let_values", "observations", "values",
                 "band")

    def __init__(self, plan: "LeafPlan", facts: Facts):
        self.plan = plan
        self.facts = facts
        self.full = plan.weight
        self.fact_values = [_UNSET] * len(plan.fact_slots)
        self.let_values = [_UNSET] * plan.let_count
        self.observations: List[tuple] = []  # worded by explain.observation()
        self.values: Dict[str, tuple] = {}  # name -> (label, value, kind) of computed values
        self.band: Optional[tuple] = None  # (low, high) of the last assess(), for the wording

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
        self.style: explain.Style = explain.Style(checked.leaf_step)
        self.fact_labels: List[str] = []  # per fact slot: the words for it in justifications
        self.own_only: set = set()  # slots read from the leaf's own facts only (published)
        self.slot_points: Dict[int, str] = {}  # slot -> the point whose table it reads first
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
        if facts.points and slot in self.slot_points:
            table = facts.points.get((self.code, self.slot_points[slot]))
            found = table.get(name) if table is not None else None
            if found is not None:
                return self._value(found, slot)
        indicators = facts.indicators
        for code in (self.code,) if slot in self.own_only else self.chain:
            table = indicators.get(code)
            if table is not None:
                found = table.get(name)
                if found is not None:
                    break
        else:
            found = None if slot in self.own_only else facts.project.get(name)
        if found is None:
            raise self._missing(facts, slot)
        return self._value(found, slot)

    def _value(self, found, slot: int):
        value = found.value
        if value.__class__ is Decimal and self.plain_numbers[slot]:
            return value  # the common case: a number where any number will do
        return self._coerce(found, slot)

    def _missing(self, facts: Facts, slot: int) -> RuleFailure:
        name, _, _, span = self.fact_slots[slot]
        looked = ", ".join(f"indicators.{c}" for c in self.chain)
        label = self.fact_labels[slot] if slot < len(self.fact_labels) else name
        return RuleFailure(
            f"{self.code}: fact {name!r} is missing", span,
            f"add it to {facts.path} under `indicators: {self.code}:` (looked in {looked} "
            f"and the project-wide facts), or mark {self.code} `na` if it does not apply",
            missing=name, message_cn=f"{self.code}：缺少数据“{label}”（{name}）",
            hint_cn=f"请在 {facts.path} 的 indicators: {self.code}: 下填写 {name}；"
                    f"本指标不适用时请标记为 `不适用`")

    def _coerce(self, found, slot: int):
        name, info, allow_list, span = self.fact_slots[slot]
        try:
            return coerce(found.value, info.kind, unit=info.unit, levels=info.levels,
                          domain=info.domain, allow_list=allow_list)
        except CoercionError as exc:
            label = self.fact_labels[slot] if slot < len(self.fact_labels) else name
            raise RuleFailure(f"{self.code}: fact {name!r} {exc.message}", span, exc.hint,
                              where=found.where,
                              message_cn=f"{self.code}：数据“{label}”（{name}）{exc.message_cn}",
                              hint_cn=exc.hint_cn) from None

    def fact_values_shown(self, frame, only=None, point: Optional[str] = None
                          ) -> Dict[str, tuple]:
        """The facts a leaf read, for the justification and the values table:
        name -> (label, value, kind); ``only`` limits them to those names, ``point`` to
        what that point (要点) read. A point's own fact is keyed ``①.name``."""
        out = {}
        points = self.slot_points
        for slot, ((name, info, _, _), value) in enumerate(zip(self.fact_slots,
                                                              frame.fact_values)):
            if value is _UNSET or (only is not None and name not in only):
                continue
            owner = points.get(slot)
            if point is not None and owner is not None and owner != point:
                continue
            key = name if owner is None or point is not None else f"{owner}.{name}"
            out[key] = (self.fact_labels[slot], value,
                        explain.PERCENT if info.kind == "percent" else explain.FACT)
        return out


def compile_set(checked: CheckedSet) -> Dict[str, LeafPlan]:
    plans = {}
    sharing = shared_labels(checked)
    for leaf in checked.leaves():
        plans[leaf.code] = _LeafCompiler(checked, leaf, sharing).compile()
    return plans


class RequireCheck:
    """A compiled ``require``: facts that must agree, checked before scoring."""

    def __init__(self, owner: str, require: n.Require, plan: LeafPlan, condition: Callable,
                 words: str, text: str):
        self.owner = owner  # the indicator code whose block holds it, or "" for the set
        self.require = require
        self.plan = plan
        self.condition = condition
        self.words = words  # the condition in Chinese words
        self.text = text  # the condition as written

    def failure(self, facts: Facts) -> Optional[RuleFailure]:
        """None when the facts agree (or are not all given: the scoring reports those)."""
        frame = Frame(self.plan, facts)
        try:
            if self.condition(frame):
                return None
        except RuleFailure as failure:
            return None if failure.missing else failure
        style = self.plan.style
        seen = "，".join(f"{label}为{style.shown(value, kind)}" for label, value, kind in
                        self.plan.fact_values_shown(frame).values())
        prefix, prefix_cn = (f"{self.owner}: ", f"{self.owner}：") if self.owner else ("", "")
        said = self.require.message
        return RuleFailure(
            f"{prefix}the facts do not agree: `{self.text}` does not hold" +
            (f" ({said})" if said else ""), self.require.span,
            "check these facts; they must satisfy the set's `require`", invalid_input=True,
            message_cn=f"{prefix_cn}数据不一致：{said or self.words}" + (f"（{seen}）" if seen
                                                                       else ""),
            hint_cn="请核对这些数据，它们须满足指标体系的要求")


def compile_requires(checked: CheckedSet) -> List[RequireCheck]:
    """Every ``require`` of the set, each read with the facts where it is written."""
    out = []
    sharing = shared_labels(checked)
    owners = []
    if checked.file.requires and checked.root_scope is not None:
        holder = CheckedIndicator("", None, ZERO, n.Indicator("", None, n.Number(ZERO)), None,
                                  0, checked.root_scope)
        owners.append((holder, checked.file.requires))
    owners += [(node, node.node.requires) for node in checked.walk() if node.node.requires]
    for owner, requires in owners:
        for require in requires:
            compiler = _LeafCompiler(checked, owner, sharing)
            scope = Scope(owner.scope, f"{owner.code}/require")
            condition = compiler.condition(require.condition, scope)
            compiler.plan.plain_numbers = [info.kind in ("number", "money") and
                                           info.domain is None
                                           for _, info, _, _ in compiler.plan.fact_slots]
            out.append(RequireCheck(owner.code, require, compiler.plan, condition,
                                    compiler.words(require.condition, scope),
                                    checked.text_of(require.condition)))
    return out


def shared_labels(checked: CheckedSet) -> Dict[str, Tuple[str, ...]]:
    """label -> the fact names that carry it, for labels given to more than one fact."""
    owners: Dict[str, List[str]] = {}
    infos = sorted(checked.facts.values(), key=lambda i: (i.span.line, i.span.column)
                   if i.span is not None else (0, 0))
    for info in infos:
        if info.label:
            owners.setdefault(info.label, []).append(info.name)
    return {label: tuple(names) for label, names in owners.items() if len(names) > 1}


_COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
            "==": operator.eq, "!=": operator.ne}


class _LeafCompiler:
    def __init__(self, checked: CheckedSet, leaf: CheckedIndicator,
                 sharing: Optional[Dict[str, Tuple[str, ...]]] = None):
        self.checked = checked
        self.leaf = leaf
        self.plan = LeafPlan(leaf, checked)
        self.style = self.plan.style
        self.sharing = sharing if sharing is not None else shared_labels(checked)
        self.fact_slot: Dict[Tuple[str, bool, Optional[str]], int] = {}
        self.let_slot: Dict[object, Tuple[int, Callable]] = {}
        self.shared = _repeated_calls(leaf)
        # The point whose rule is being compiled: its names read its own table first.
        self.point: Optional[str] = None

    def text(self, node) -> str:
        return self.checked.text_of(node)

    # --- leaf
    def compile(self) -> LeafPlan:
        leaf = self.leaf
        if leaf.points:
            parts = []
            for point in leaf.points:
                scope = Scope(leaf.scope, f"{leaf.code}/{point.label}")
                self.point = point.label
                parts.append((point, self.rule(point.rule, scope, point.weight)))
            self.point = None
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
                                      "`na`; only a whole indicator can", point.span,
                                      message_cn=f"{self.leaf.code}：要点{point.label}不能"
                                                 "“不适用”，只有整个指标可以不适用")
                score = round_in_context(decision.score, step)
                total += score
                texts.append((point.label, decision, score))
                warnings.extend(decision.warnings)

            def word(texts=texts, total=total):
                points = self.style.points
                said = [f"{label}{d.text}（{points(score)}）" if d.stated and
                        d.text.endswith("得满分") else f"{label}{d.text}" if d.stated else
                        f"{label}{d.text}，得{points(score)}" for label, d, score in texts]
                return "；".join(said) + f"；合计{points(total)}"

            d = Decision(total, word, "points", stated=True, kind="points")
            d.warnings = warnings
            return d

        return run

    # --- rules
    def rule(self, rule: n.Rule, scope: Scope, point_weight) -> Callable[[Frame], Decision]:
        reads = self._reads(rule, scope)
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
                deciders.append(self.result(clause, scope, reads))
            elif isinstance(clause, n.Step):
                deciders.append(self.step(clause, list(guards), scope))
            elif isinstance(clause, n.Each):
                deciders.append(self.each(clause, scope))
            elif isinstance(clause, n.Published):
                deciders.append(self.published(clause))
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
        style = self.style

        def run(frame: Frame) -> Decision:
            decision = None
            for decide in deciders:
                decision = decide(frame)
                if decision is not None:
                    break
            if decision is None:
                seen = style.observations(frame.observations, "；")
                raise RuleFailure(f"{code}: no clause of the rule applies" +
                                  (f" ({seen})" if seen else ""), rule_span,
                                  "add `else -> …` to the rule, or check the facts",
                                  message_cn=f"{code}：评分规则中没有适用的条款" +
                                  (f"（{seen}）" if seen else ""),
                                  hint_cn="请核对数据；或在规则中加上 `否则 -> …`")
            for cond, clause in flags:
                frame.observations = []
                if cond(frame):
                    seen = style.observations(frame.observations)
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
                    decision.suffixes.append(f"，最多扣{style.points(limit)}")
                    decision.stated = False
            for fn, clause in floors:
                low = fn(frame)
                if score < low:
                    score = low
                    decision.suffixes.append("，扣完为止" if low == 0 else
                                             f"，最低{style.points(low)}")
                    decision.stated = False
            for fn, clause in caps:
                high = fn(frame)
                if score > high:
                    score = high
                    decision.suffixes.append("，以满分为限" if high == full else
                                             f"，最高{style.points(high)}")
                    decision.stated = False
            decision.score = score
            return decision

        return run

    def _outcome(self, outcome, scope) -> Tuple[Optional[Callable], str, Optional[str]]:
        """A compiled outcome, how to word it (full, zero, share, constant or formula), and
        for a formula its Chinese wording."""
        if isinstance(outcome, n.NotApplicable):
            return None, "na", None
        fn = self.expr(outcome, scope)
        if isinstance(outcome, (n.Full, n.WeightRef)):
            return fn, "full", None
        value = constant_value(outcome)
        if value is not None:
            return fn, "zero" if value == 0 else "const", None
        if _share_of_weight(outcome) is not None:
            return fn, "share", None
        if isinstance(outcome, n.Call) and outcome.func == "assess":
            return fn, "assess", None
        return fn, "formula", self.words(outcome, scope)

    def _word(self, kind: str, outcome, score: Decimal, words: Optional[str],
              band: Optional[tuple] = None) -> str:
        if kind == "assess" and band is not None:
            low, high = band
            return (f"评价人在{self.style.number(low)}–{self.style.points(high)}之间给"
                    f"{self.style.points(score)}")
        if kind == "full":
            return "得满分"
        if kind == "zero":
            return "不得分"
        if kind == "share":
            share = _share_of_weight(outcome)
            return f"得权重的{self.style.show(share, True)}，即{self.style.points(score)}"
        if kind == "const":
            return f"得{self.style.points(score)}"
        return f"按{words}计算"

    def guarded(self, clause: n.Guarded, scope) -> Callable:
        cond = self.condition(clause.condition, scope)
        fn, kind, words = self._outcome(clause.outcome, scope)
        clause_text = self.text(clause)
        word = self._word
        joined = self.style.joined
        outcome = clause.outcome

        def decide(frame: Frame) -> Optional[Decision]:
            frame.observations = []
            if not cond(frame):
                return None
            seen = frame.observations
            if fn is None:
                return Decision(None, lambda: joined(seen, "不适用"), clause_text,
                                na=True, stated=True)
            score = fn(frame)
            full = frame.full
            band = frame.band
            return Decision(score, lambda: joined(seen, word(kind, outcome, score, words, band)),
                            clause_text, stated=kind != "formula" and (kind != "full" or
                                                                       score == full))

        return decide

    def otherwise(self, clause: n.Otherwise, scope) -> Callable:
        fn, kind, words = self._outcome(clause.outcome, scope)
        clause_text = self.text(clause)
        word = self._word
        joined = self.style.joined
        outcome = clause.outcome

        def decide(frame: Frame) -> Decision:
            seen = frame.observations or [("text", "不满足以上条件")]
            if fn is None:
                return Decision(None, lambda: joined(seen, "不适用"), clause_text,
                                na=True, stated=True)
            score = fn(frame)
            full = frame.full
            band = frame.band
            return Decision(score, lambda: joined(seen, word(kind, outcome, score, words, band)),
                            clause_text, kind="else",
                            stated=kind != "formula" and (kind != "full" or score == full))

        return decide

    def result(self, clause: n.Result, scope, reads: frozenset) -> Callable:
        fn, kind, words = self._outcome(clause.value, scope)
        clause_text = self.text(clause)
        word = self._word
        style = self.style
        outcome = clause.value
        point = self.point
        prefix = f"{point}." if point is not None else ""

        def decide(frame: Frame) -> Decision:
            score = fn(frame)
            full = frame.full
            plan = frame.plan
            band = frame.band

            def text():
                # Only what this rule reads: a point's justification names its own facts.
                values = plan.fact_values_shown(frame, reads, point)
                values.update((k, v) for k, v in frame.values.items()
                              if k.startswith(prefix) and k[len(prefix):] in reads)
                shown = [("text", f"{label}为{style.shown(value, kind_)}")
                         for label, value, kind_ in values.values()]
                return style.joined(shown, word(kind, outcome, score, words, band))

            return Decision(score, text, clause_text, kind="formula",
                            stated=kind != "formula" and (kind != "full" or score == full))

        return decide

    def published(self, clause: n.Published) -> Callable:
        """The score a partial table's report publishes for an indicator it does not spell
        out: the `published:` of the indicator's own facts, bounded by its weight."""
        from .intervals import Interval

        code = self.leaf.code
        key = ("published", False, None)
        if key not in self.fact_slot:
            info = FactInfo("published", "number", "报告公布得分",
                            domain=Interval(ZERO, self.leaf.weight), span=clause.span)
            self.fact_slot[key] = len(self.plan.fact_slots)
            self.plan.fact_slots.append(("published", info, False, clause.span))
            self.plan.fact_labels.append(info.label)
            self.plan.own_only.add(self.fact_slot[key])
        slot = self.fact_slot[key]
        style = self.style
        text = self.text(clause)
        span = clause.span

        def decide(frame: Frame) -> Decision:
            value = frame.fact(slot)
            if value > frame.full:
                raise RuleFailure(f"{code}: the published score {plain(value)} is above the "
                                  f"weight {plain(frame.full)}", span, invalid_input=True,
                                  message_cn=f"{code}：公布得分{plain(value)}高于分值"
                                             f"{plain(frame.full)}")
            return Decision(value, lambda: f"节选未列出评分细则，按报告公布得分计"
                                           f"{style.points(value)}", text, stated=True,
                            kind="published")

        return decide

    def step(self, clause: n.Step, guards, scope) -> Callable:
        subject_expr, ref_expr = step_parts(clause, guards)
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
        style = self.style
        P, N, PT, ST = explain.PERCENT, explain.NUMBER, explain.POINTS, explain.STEPS

        def decide(frame: Frame) -> Decision:
            s = subject(frame)
            r = reference(frame)
            size = size_fn(frame)
            if size <= 0:
                raise RuleFailure(f"{code}: the step size is {plain(size)}; it must be above 0",
                                  span, message_cn=f"{code}：档距为{plain(size)}，须大于0")
            if direction == "below":
                distance = r - s
            elif direction == "above":
                distance = s - r
            elif direction == "around":
                distance = s - r  # signed: above the reference adds, below takes away
            else:
                distance = abs(s - r)
            if distance < 0 and direction != "around":
                distance = ZERO
            magnitude = abs(distance)
            if mode == n.STEP_WHOLE:
                steps = whole_steps_in_context(magnitude, size)
            elif mode == n.STEP_STARTED:
                steps = started_steps_in_context(magnitude, size)
            else:
                steps = magnitude / size
            if distance < 0:
                steps = -steps
            delta = delta_fn(frame)
            if base_fn is not None:
                base = base_fn(frame)
            else:
                base = frame.full if delta < 0 else ZERO
            change = steps * delta
            score = base + change

            def text():
                if direction == "around":
                    return explain_around()
                verb = "扣" if delta < 0 else "加"
                if share is not None:
                    per = (f"{verb}权重的{style.show(abs(share), True)}"
                           f"（{style.points(abs(delta))}）")
                else:
                    per = f"{verb}{style.points(abs(delta))}"
                where = explain.DIRECTION_PHRASE[direction]
                gap = explain.GAP_PHRASE[direction]
                out = (f"{label}为{style.show(s, as_pct)}，{where}{style.show(r, as_pct)}"
                       f"（{gap}{style.show(distance, size_pct)}），每"
                       f"{explain.STEP_VERB[direction]}{style.show(size, size_pct)}{per}"
                       f"（{explain.MODE_PHRASE[mode]}）")
                if steps == 0:
                    return out + ("，不足一档，不扣分" if delta < 0 else "，不足一档，不加分")
                return out + f"，共{style.steps(steps)}档，{verb}{style.points(abs(change))}"

            def explain_around():
                head = f"{label}为{style.show(s, as_pct)}"
                if distance == 0:
                    return f"{head}，等于{style.show(r, as_pct)}，得{style.points(base)}"
                above = distance > 0
                side = "高于" if above else "低于"
                gap = "超出" if above else "差"
                per = (f"每高（低）{style.show(size, size_pct)}加（减）"
                       f"{style.points(abs(delta))}（{explain.MODE_PHRASE[mode]}）")
                out = (f"{head}，{side}{style.show(r, as_pct)}（{gap}"
                       f"{style.show(magnitude, size_pct)}），{per}")
                if steps == 0:
                    return out + f"，不足一档，得{style.points(base)}"
                verb = "加" if change > 0 else "减"
                return (out + f"，共{style.steps(abs(steps))}档，{verb}"
                        f"{style.points(abs(change))}")

            decision = Decision(score, text, clause_text, kind="step")
            decision.details = lambda: {
                "subject": (label, s, P if as_pct else N),
                "reference": ("参照值", r, P if as_pct else N),
                "distance": (explain.GAP_PHRASE[direction] + "距", distance,
                             P if size_pct else N),
                "steps": ("档数", steps, ST), "per_step": ("每档分值", delta, PT),
                "change": ("增减分值", change, PT), "base": ("起始分值", base, PT)}
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
        style = self.style

        def decide(frame: Frame) -> Decision:
            count = count_fn(frame)
            if count < 0:
                raise RuleFailure(f"{code}: {self.text(clause.count)} is {plain(count)}; a count "
                                  "cannot be negative", span,
                                  message_cn=f"{code}：{label}为{plain(count)}，项数不能为负数")
            delta = delta_fn(frame)
            base = base_fn(frame) if base_fn is not None else (
                frame.full if delta < 0 else ZERO)
            change = count * delta

            def text():
                verb = "扣" if delta < 0 else "加"
                per = (f"{verb}权重的{style.show(abs(share), True)}（{style.points(abs(delta))}）"
                       if share is not None else f"{verb}{style.points(abs(delta))}")
                if count == 0:
                    return f"{label}为0，不扣分" if delta < 0 else f"{label}为0"
                return (f"{label}为{style.number(count)}，每项{per}，"
                        f"共{verb}{style.points(abs(change))}")

            decision = Decision(base + change, text, clause_text, kind="each")
            decision.details = lambda: {
                "count": (label, count, explain.NUMBER),
                "per_item": ("每项分值", delta, explain.POINTS),
                "change": ("增减分值", change, explain.POINTS),
                "base": ("起始分值", base, explain.POINTS)}
            return decision

        return decide

    # --- expressions
    def label(self, expr, scope) -> str:
        """The Chinese words for an expression in a justification: a fact's or value's
        label, or the formula in words (never the source text)."""
        if isinstance(expr, n.Name):
            return self.name_words(expr.name, scope)
        return self.words(expr, scope)

    def words(self, expr, scope) -> str:
        return explain.formula(expr, lambda name: self.name_words(name.name, scope))

    def name_words(self, name: str, scope, depth: int = 0) -> str:
        binding = scope.lookup(name)
        if isinstance(binding, LetInfo):
            if binding.label:
                return binding.label
            if depth < 8:  # an unlabelled value reads as what it computes
                return explain.formula(binding.let.value, lambda inner: self.name_words(
                    inner.name, binding.scope, depth + 1))
            return name
        info = binding if isinstance(binding, FactInfo) else self.checked.facts.get(name)
        if info is not None and info.label:
            return explain.distinct_label(info.label, name, self.sharing.get(info.label, ()))
        return name

    def _reads(self, rule: n.Rule, scope) -> frozenset:
        """The fact and value names a rule can read, through the values it uses."""
        out = set()
        pending = [(rule, scope)]
        while pending:
            node, where = pending.pop()
            for item in n.walk(node):
                if isinstance(item, n.Name) and item.name not in out:
                    out.add(item.name)
                    binding = where.lookup(item.name)
                    if isinstance(binding, LetInfo):
                        pending.append((binding.let.value, binding.scope))
                elif isinstance(item, n.Let):
                    out.add(item.name)
        return frozenset(out)

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
            key = (id(binding), self.point)
            if key not in self.let_slot:
                slot = self.plan.let_count
                self.plan.let_count += 1
                self.let_slot[key] = (slot, None)
                fn = self.expr(binding.let.value, binding.scope)
                self.let_slot[key] = (slot, fn)
            slot, fn = self.let_slot[key]
            shown = ((f"{self.point}." if self.point is not None else "") + binding.name,
                     self.name_words(binding.name, scope),
                     explain.PERCENT if is_percent_like(binding.let.value, binding.scope)
                     else explain.NUMBER)

            def let_value(frame, slot=slot, fn=fn):
                value = frame.let_values[slot]
                if value is _UNSET:
                    value = fn(frame)
                    frame.let_values[slot] = value
                    frame.values[shown[0]] = (shown[1], value, shown[2])
                return value

            return let_value
        info = binding if isinstance(binding, FactInfo) else self.checked.facts.get(expr.name)
        if info is None:  # pragma: no cover - the checker records every name it saw
            info = FactInfo(expr.name, "number", declared=False)
        key = (expr.name, allow_list, self.point)
        if key not in self.fact_slot:
            self.fact_slot[key] = len(self.plan.fact_slots)
            self.plan.fact_slots.append((expr.name, info, allow_list, expr.span))
            self.plan.fact_labels.append(self.name_words(expr.name, scope))
            if self.point is not None:
                self.plan.slot_points[self.fact_slot[key]] = self.point
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
        divisor_words = self.label(expr.right, scope)
        span = expr.right.span
        code = self.leaf.code

        def divide(frame):
            d = b(frame)
            if d == 0:
                raise RuleFailure(f"{code}: division by zero: {divisor_text} is 0", span,
                                  f"check the fact(s) in {divisor_text}; if the indicator does "
                                  "not apply, mark it na",
                                  message_cn=f"{code}：除数为0：{divisor_words}为0",
                                  hint_cn="请核对数据；本指标不适用时请标记为 `不适用`")
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
                    raise RuleFailure(f"{code}: {f}() got an empty list", span,
                                      message_cn=f"{code}：{f}() 的列表为空")
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
            divisor_words = self.label(expr.args[1], scope)
            ratio_words = self.label(expr, scope)
            divisor_span = expr.args[1].span

            def ratio(frame):
                d = b(frame)
                if d == 0:
                    raise RuleFailure(f"{code}: division by zero in {self.text(expr)}: "
                                      f"{divisor_text} is 0", divisor_span,
                                      f"check {divisor_text} in the facts; if the indicator "
                                      "does not apply, mark it na",
                                      message_cn=f"{code}：无法计算{ratio_words}："
                                                 f"{divisor_words}为0",
                                      hint_cn="请核对数据；本指标不适用时请标记为 `不适用`")
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
                                      f"({plain(low)} ≥ {plain(high)})", span,
                                      message_cn=f"{code}：线性计分的下限须低于上限"
                                                 f"（{plain(low)} ≥ {plain(high)}）")
                v = (x(frame) - low) / (high - low)
                return ZERO if v < 0 else ONE if v > 1 else v

            return linear
        if f == "round":
            x, step = args

            def rounded(frame):
                s = step(frame)
                if s <= 0:
                    raise RuleFailure(f"{code}: round() needs a step above 0", span,
                                      message_cn=f"{code}：四舍五入的精度须大于0")
                return round_in_context(x(frame), s)

            return rounded
        if f == "assess":
            self.plan.uses_assess = True
            x, lo, hi = args
            source = self.text(expr.args[0])
            label = self.label(expr.args[0], scope)
            if label == source and not _has_cjk(label):
                label = "评价人给分"
            key = expr.args[0].name if isinstance(expr.args[0], n.Name) else "assessed"
            style = self.style

            def assess(frame):
                value, low, high = x(frame), lo(frame), hi(frame)
                if value < low or value > high:
                    seen = style.observations(frame.observations)
                    raise RuleFailure(
                        f"{code}: {source} {plain(value)} is outside the band "
                        f"{plain(low)}–{plain(high)}" + (f" ({seen})" if seen else ""),
                        expr.args[0].span,
                        f"the assessor's value must lie within {plain(low)}–{plain(high)} "
                        "for this band; check the value or the band", invalid_input=True,
                        message_cn=f"{code}：{label}{plain(value)}不在该档的"
                                   f"{plain(low)}–{plain(high)}分之间" +
                                   (f"（{seen}）" if seen else ""),
                        hint_cn="评价人给分须在所属档次的分值范围内，请核对给分或档次")
                frame.values[key] = (label, value, explain.POINTS)
                frame.band = (low, high)
                return value

            return assess
        raise TypeError(f"unknown function {f}")  # pragma: no cover


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


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
