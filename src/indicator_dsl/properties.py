"""Property checks of a set with hypothesis: ``indicator-eval props``.

Facts are generated from their declarations (type and range; undeclared numbers
as non-negative numbers), and for the set it checks that

* every leaf scores within [0, weight] unless it is marked ``bonus``;
* no leaf fails on valid facts (a reachable division by zero, a gap between bands);
* every group and the total stay within [0, weight];
* what a rule promises with ``expect`` holds: ``nondecreasing in x`` /
  ``nonincreasing in x`` (raising x alone never lowers / raises the score) and
  ``continuous in x`` (at each edge the rule compares x with, the score does not
  jump by more than the leaf rounding).

A failure comes with the smallest counterexample hypothesis finds, written as a
ready-to-use facts YAML snippet. Runs are deterministic for a given seed.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Dict, List, Optional

import attrs

from . import nodes as n
from .checker import constant_value
from .compiler import Frame, LeafPlan, RuleFailure
from .numbers import CONTEXT, plain, round_in_context

DEFAULT_EXAMPLES = 200

# Ranges for facts declared without one.
_DEFAULT_MAX = {"count": 10_000, "number": Decimal(1_000_000), "money": Decimal(100_000_000),
                "percent": Decimal(2)}


@attrs.define
class PropertyFailure:
    code: str
    message: str
    facts: Dict[str, object]  # the counterexample, by indicator code → facts
    message_cn: Optional[str] = None

    def snippet(self) -> str:
        lines = ["indicators:"]
        for code, facts in self.facts.items():
            lines.append(f"  {code}:")
            for name, value in facts.items():
                lines.append(f"    {name}: {_yaml_value(value)}")
        return "\n".join(lines)

    def render(self, lang: str = "en") -> str:
        if lang == "zh":
            code = "（上级指标）" if self.code == GROUPS else self.code
            head = f"{code}：{self.message_cn or self.message}\n  反例（数据 YAML）：\n"
        else:
            head = f"{self.code}: {self.message}\n  counterexample (facts YAML):\n"
        return head + "\n".join("    " + line for line in self.snippet().splitlines())


GROUPS = "(groups)"  # the code of failures of groups and the total


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fact_strategy(info):
    """Values of one declared (or undeclared) fact."""
    from hypothesis import strategies as st

    kind = info.kind
    if kind == "bool":
        return st.booleans()
    if kind == "level":
        return st.sampled_from(list(info.levels))
    if kind == "text":
        return st.text(max_size=8)
    domain = info.domain
    if kind == "count":
        low, high = 0, _DEFAULT_MAX["count"]
        if domain is not None:
            low = max(low, int(domain.lo.to_integral_value(decimal.ROUND_CEILING))) \
                if domain.lo.is_finite() else low
            high = int(domain.hi.to_integral_value(decimal.ROUND_FLOOR)) \
                if domain.hi.is_finite() else high
            if not domain.lo_closed and Decimal(low) == domain.lo:
                low += 1
            if not domain.hi_closed and Decimal(high) == domain.hi:
                high -= 1
        return st.integers(low, high).map(Decimal)
    low, high = Decimal(0), _DEFAULT_MAX.get(kind, _DEFAULT_MAX["number"])
    if domain is not None:
        low = domain.lo if domain.lo.is_finite() else -high
        high = domain.hi if domain.hi.is_finite() else high
        values = st.decimals(low, high, places=4, allow_nan=False, allow_infinity=False)
        return values.filter(domain.contains)
    return st.decimals(low, high, places=4, allow_nan=False, allow_infinity=False)


class _Found(Exception):
    def __init__(self, message: str, cn: str):
        super().__init__(message)
        self.message = message
        self.message_cn = cn


def check_set(scorer, examples: int = DEFAULT_EXAMPLES, seed: int = 0) -> List[PropertyFailure]:
    """Every property of every leaf, then of the groups and the total."""
    failures: List[PropertyFailure] = []
    evaluator = scorer._evaluator
    for code, plan in evaluator.plans.items():
        failures.extend(_check_leaf(plan, examples, seed))
    failures.extend(_check_groups(scorer, examples, seed))
    return failures


def _leaf_strategy(plan: LeafPlan):
    from hypothesis import strategies as st

    return st.tuples(*[fact_strategy(info) for _, info, _, _ in plan.fact_slots])


def _run_leaf(plan: LeafPlan, values) -> Optional[Decimal]:
    frame = Frame(plan, None)
    frame.fact_values = list(values)
    decision = plan.run(frame)
    if decision.na:
        return None
    return round_in_context(decision.score, plan.leaf_step)


def _facts_of(plan: LeafPlan, values) -> Dict[str, Dict[str, object]]:
    return {plan.code: {name: value for (name, _, _, _), value in zip(plan.fact_slots, values)}}


def _search(test, strategy, examples: int, seed: int):
    """Run a hypothesis search; return (message, example) of the minimal failure, or None."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed

    found = {}

    @fixed_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(strategy)
    def search(example):
        try:
            test(example)
        except _Found as failure:
            found["message"], found["example"] = (failure.message, failure.message_cn), example
            raise

    try:
        with decimal.localcontext(CONTEXT):
            search()
    except _Found:
        return found["message"], found["example"]
    return None


def _check_leaf(plan: LeafPlan, examples: int, seed: int) -> List[PropertyFailure]:
    from hypothesis import strategies as st

    failures = []
    if plan.fact_slots:
        weight = plan.weight
        bonus = plan.indicator.bonus

        def bounded(values):
            try:
                score = _run_leaf(plan, values)
            except RuleFailure as failure:
                if failure.invalid_input:
                    return  # e.g. an assessed value outside its band: the input's fault
                raise _Found(f"cannot be scored with valid facts: {failure.message}",
                             f"有效的数据却无法评分：{failure.message_cn or failure.message}")
            except ArithmeticError as exc:
                raise _Found(f"the arithmetic fails ({exc.__class__.__name__})",
                             f"计算出错（{exc.__class__.__name__}）")
            if score is not None and not bonus and not Decimal(0) <= score <= weight:
                raise _Found(f"scores {plain(score)}, outside [0, {plain(weight)}]",
                             f"得 {plain(score)} 分，超出 [0, {plain(weight)}]")

        found = _search(bounded, _leaf_strategy(plan), examples, seed)
        if found:
            failures.append(PropertyFailure(plan.code, found[0][0], _facts_of(plan, found[1]),
                                            found[0][1]))
    for promise in _promises(plan):
        slot = next((i for i, (name, _, _, _) in enumerate(plan.fact_slots)
                     if name == promise.name), None)
        if slot is None:
            failures.append(PropertyFailure(plan.code, f"`expect … in {promise.name}`: the rule "
                                            f"does not read {promise.name}", {},
                                            f"`承诺 … 于 {promise.name}`：规则没有用到 "
                                            f"{promise.name}"))
            continue
        info = plan.fact_slots[slot][1]
        if promise.property == "continuous":
            found = _check_continuity(plan, slot, promise, examples, seed)
        else:
            found = _check_monotone(plan, slot, info, promise, examples, seed)
        if found:
            failures.append(PropertyFailure(plan.code, found[0][0], found[1], found[0][1]))
    return failures


def _promises(plan: LeafPlan) -> List[n.Expect]:
    rules = [plan.indicator.rule] if plan.indicator.rule is not None else []
    rules += [p.rule for p in plan.indicator.points]
    return [c for rule in rules for c in rule.clauses if isinstance(c, n.Expect)]


def _check_monotone(plan, slot, info, promise, examples, seed):
    from hypothesis import strategies as st

    rising = promise.property == "nondecreasing"
    pair = st.tuples(_leaf_strategy(plan), fact_strategy(info), fact_strategy(info))

    def monotone(example):
        values, a, b = example
        low, high = (a, b) if a <= b else (b, a)
        first, second = list(values), list(values)
        first[slot], second[slot] = low, high
        try:
            s1, s2 = _run_leaf(plan, first), _run_leaf(plan, second)
        except (RuleFailure, ArithmeticError):
            return  # reported by the bounds check
        if s1 is None or s2 is None:
            return
        if (rising and s2 < s1) or (not rising and s2 > s1):
            raise _Found(f"promised {promise.property} in {promise.name}, but {promise.name} "
                         f"{plain(low)} scores {plain(s1)} and {plain(high)} scores {plain(s2)}",
                         f"承诺得分随 {promise.name} {'不减' if rising else '不增'}，但 "
                         f"{promise.name} 为 {plain(low)} 时得 {plain(s1)} 分，为 {plain(high)} "
                         f"时得 {plain(s2)} 分")

    found = _search(monotone, pair, examples, seed)
    if not found:
        return None
    values, a, b = found[1]
    example = list(values)
    example[slot] = max(a, b)
    return found[0], _facts_of(plan, example)


def _edges(plan, name: str) -> List[Decimal]:
    """The constants the rule compares ``name`` with: where a band edge can be."""
    out = set()
    rules = [plan.indicator.rule] if plan.indicator.rule is not None else []
    for rule in rules:
        for node in n.walk(rule):
            if isinstance(node, n.Compare):
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(a, n.Name) and a.name == name:
                        value = constant_value(b)
                        if value is not None:
                            out.add(value)
            elif isinstance(node, n.InInterval) and isinstance(node.subject, n.Name) \
                    and node.subject.name == name:
                for end in (node.interval.low, node.interval.high):
                    value = constant_value(end)
                    if value is not None:
                        out.add(value)
    return sorted(out)


def _check_continuity(plan, slot, promise, examples, seed):
    from hypothesis import strategies as st

    edges = _edges(plan, promise.name)
    if not edges:
        return None
    tolerance = plan.leaf_step
    epsilon = Decimal("0.000001")

    def continuous(example):
        values, edge = example
        at, below, above = list(values), list(values), list(values)
        at[slot], below[slot], above[slot] = edge, edge - epsilon, edge + epsilon
        try:
            scores = [_run_leaf(plan, v) for v in (below, at, above)]
        except (RuleFailure, ArithmeticError):
            return
        if None in scores:
            return
        jump = max(scores) - min(scores)
        if jump > tolerance:
            shown = ' / '.join(plain(s) for s in scores)
            raise _Found(f"promised continuous in {promise.name}, but at {plain(edge)} the "
                         f"score jumps by {plain(jump)} ({shown} "
                         f"just below / at / just above)",
                         f"承诺得分随 {promise.name} 连续，但在 {plain(edge)} 处得分跳变 "
                         f"{plain(jump)}（略低于 / 等于 / 略高于该值时分别为 {shown}）")

    found = _search(continuous, st.tuples(_leaf_strategy(plan), st.sampled_from(edges)),
                    examples, seed)
    if not found:
        return None
    values, edge = found[1]
    example = list(values)
    example[slot] = edge
    return found[0], _facts_of(plan, example)


def _check_groups(scorer, examples: int, seed: int) -> List[PropertyFailure]:
    """Groups and the total, from facts generated for every leaf at once."""
    from hypothesis import strategies as st

    from .facts import Facts

    evaluator = scorer._evaluator
    checked = scorer.checked
    plans = [p for p in evaluator.plans.values() if p.fact_slots]
    groups = [node for node in checked.walk() if not node.is_leaf]
    if not groups and len(checked.roots) <= 1:
        return []
    strategy = st.tuples(*[_leaf_strategy(p) for p in plans])
    bonus_below = {node.code for node in checked.walk()
                   if any(leaf.bonus for leaf in node.walk())}

    def build(example):
        mapping = {}
        for plan, values in zip(plans, example):
            mapping.update(_facts_of(plan, values))
        return mapping

    def bounded(example):
        facts = Facts.from_mapping({"indicators": build(example)})
        try:
            scores = evaluator.scores(facts)
        except Exception:  # leaf failures are reported per leaf
            return
        for node in groups:
            score = scores.get(node.code)
            if node.code in bonus_below or score is None:
                continue
            if not Decimal(0) <= score <= node.weight:
                raise _Found(f"group {node.code} scores {plain(score)}, outside "
                             f"[0, {plain(node.weight)}]",
                             f"上级指标 {node.code} 得 {plain(score)} 分，超出 "
                             f"[0, {plain(node.weight)}]")
        total = scores.get("total")
        if total is not None and not bonus_below & {r.code for r in checked.roots} \
                and not Decimal(0) <= total <= checked.total:
            raise _Found(f"the total {plain(total)} is outside [0, {plain(checked.total)}]",
                         f"总分 {plain(total)} 超出 [0, {plain(checked.total)}]")

    found = _search(bounded, strategy, max(20, examples // 4), seed)
    if not found:
        return []
    return [PropertyFailure(GROUPS, found[0][0], build(found[1]), found[0][1])]
