"""Measuring drafts against a hand-encoded set: does each drafted rule give the
assessor's score when fed the facts the report states?

For every leaf, the drafted rule is evaluated with facts *mapped* from the
hand-encoded set's facts file, by one rule applied to every leaf alike (no leaf is
mapped by hand):

1. The reference values of a leaf are what its hand-encoded rule reads: each fact
   it reads (with its declared type and label, and its value looked up as the
   evaluator does — the leaf's own facts, then its groups', then the project's)
   and each labelled ``let`` it computes (a percentage if the evaluator shows it as
   one, else a number).
2. A drafted fact may take a reference value of a compatible type: bool ← bool;
   level ← a level whose value is one of the drafted options; count ← count, or a
   whole-numbered value; percent ← percent, or a value shown as a percentage;
   number/money ← any number (number, money, count, percent).
3. Among the assignments that give every drafted fact of the leaf a distinct
   compatible value, the one with the most similar labels wins (character-bigram
   Dice similarity of the Chinese labels, summed). A leaf whose drafted facts cannot
   all be mapped is counted as not reproduced.

The drafted set is then scored with the mapped facts, and each leaf's score is
compared with the published 得分 (from the table) and with the hand-encoded rule's
score on the same facts.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

import attrs

from indicator_dsl import load_facts, load_set
from indicator_dsl.checker import LetInfo
from indicator_dsl.facts import coerce


@attrs.frozen
class Value:
    label: str
    kind: str  # bool, level, count, percent, number, money
    value: object
    levels: Tuple[str, ...] = ()


@attrs.define
class LeafResult:
    code: str
    pattern: Optional[str]  # the recogniser, None for a stub
    mapped: bool
    score: Optional[Decimal]
    published: Optional[Decimal]
    reference: Optional[Decimal]
    mapping: Dict[str, str] = attrs.Factory(dict)
    problem: str = ""

    @property
    def reproduces_published(self) -> bool:
        return self.score is not None and self.published is not None and \
            self.score == self.published

    @property
    def agrees_with_reference(self) -> bool:
        return self.score is not None and self.reference is not None and \
            self.score == self.reference


def _bigrams(text: str) -> List[str]:
    text = re.sub(r"[\W_]", "", text)
    return [text[i:i + 2] for i in range(len(text) - 1)] or list(text)


def similarity(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    common = 0
    pool = list(y)
    for gram in x:
        if gram in pool:
            pool.remove(gram)
            common += 1
    return 2 * common / (len(x) + len(y))


def reference_values(ref_set, ref_facts) -> Dict[str, List[Value]]:
    """Per leaf: the values its hand-encoded rule reads (step 1 above)."""
    evaluation = ref_set.evaluate(ref_facts)
    by_code = {r.code: r for r in evaluation.indicators}
    out: Dict[str, List[Value]] = {}
    for leaf in ref_set.checked.leaves():
        plan = ref_set._evaluator.plans.get(leaf.code)
        result = by_code[leaf.code]
        raw = result.raw_values
        values: List[Value] = []
        seen = set()
        for name, info, _list, _span in (plan.fact_slots if plan else ()):
            if name in seen:
                continue
            seen.add(name)
            value = _lookup(ref_facts, ref_set, leaf.code, name)
            if value is None:
                continue
            # As the hand-encoded rule reads it: 2,197,150元 → 2197150, 是 → True.
            value = coerce(value, info.kind, unit=info.unit, levels=info.levels,
                           domain=info.domain)
            values.append(Value(info.label or name, info.kind, value, tuple(info.levels)))
        scope = leaf.scope
        while scope is not None:
            for binding in scope.names.values():
                if isinstance(binding, LetInfo):
                    key = binding.label or binding.name
                    if key in raw and key not in {v.label for v in values}:
                        number, shown_as_percent = raw[key]
                        values.append(Value(key, "percent" if shown_as_percent else "number",
                                            number))
            scope = scope.parent
        out[leaf.code] = values
    return out


def _lookup(facts, ref_set, code: str, name: str):
    chain = []
    node = next(n for n in ref_set.checked.walk() if n.code == code)
    while node is not None:
        chain.append(node.code)
        node = node.parent
    for c in chain:
        table = facts.indicators.get(c, {})
        if name in table:
            return table[name].value
    if name in facts.project:
        return facts.project[name].value
    return None


def _compatible(kind: str, levels: Tuple[str, ...], v: Value) -> bool:
    if kind == "bool":
        return v.kind == "bool"
    if kind == "level":
        return v.kind == "level" and v.value in levels
    if kind == "count":
        return v.kind in ("count", "number", "money") and isinstance(v.value, Decimal) and \
            v.value == v.value.to_integral_value() and v.kind != "percent"
    if kind == "percent":
        return v.kind == "percent"
    return v.kind in ("number", "money", "count", "percent")


@attrs.frozen
class Needed:
    """A fact a drafted leaf reads, as the draft declares it."""

    name: str
    kind: str
    label: str
    levels: Tuple[str, ...] = ()


def map_facts(needed: List[Needed], values: List[Value]) -> Optional[Dict[str, Value]]:
    """The best assignment of reference values to the drafted facts (steps 2-3)."""
    best, best_score = None, -1.0
    for chosen in itertools.permutations(range(len(values)), len(needed)):
        score = 0.0
        for fact, index in zip(needed, chosen):
            v = values[index]
            if not _compatible(fact.kind, fact.levels, v):
                break
            score += similarity(fact.label, v.label)
        else:
            if score > best_score:
                best, best_score = {f.name: values[i] for f, i in zip(needed, chosen)}, score
    return best


def _as_fact(kind: str, v: Value):
    return _fact_value(kind, v.value)


def _fact_value(kind: str, value):
    """A value as a facts file would hold it: percentages written with %, so that a
    share above 1000% is not refused as an ambiguous bare number."""
    if kind == "bool":
        return bool(value)
    if kind == "level":
        return value
    if kind == "percent":
        return format((Decimal(value) * 100).normalize(), "f") + "%"
    return Decimal(value)


STUB_LINE = re.compile(r"^(\s*)# 待编写：.*$", re.M)


def measurable(draft_text: str) -> str:
    """The draft as written, with each stub (a leaf without a rule, which check
    refuses) made not applicable, so the drafted leaves can be scored; stubs count as
    not reproduced."""
    return STUB_LINE.sub(lambda m: f"{m.group(0)}\n{m.group(1)}score: else -> na", draft_text)


def measure(draft_text: str, patterns: Dict[str, Optional[str]], published: Dict[str, Decimal],
            ref_path, ref_facts_path) -> List[LeafResult]:
    """Every drafted leaf of ``draft_text`` (the written draft) against the hand-encoded
    set at ``ref_path`` with its facts file. ``patterns`` gives each leaf's recogniser
    (None for a stub), for the report."""
    from indicator_dsl import loads_set

    ref_set = load_set(ref_path)
    ref_facts = load_facts(ref_facts_path)
    ref_scores = {r.code: r.score for r in ref_set.evaluate(ref_facts).leaves()}
    values = reference_values(ref_set, ref_facts)
    draft_set = loads_set(measurable(draft_text), "<draft>")
    plans = draft_set._evaluator.plans
    mapped_facts: Dict[str, dict] = {}
    mappings: Dict[str, Dict[str, str]] = {}
    for leaf in draft_set.checked.leaves():
        if patterns.get(leaf.code) is None or leaf.code not in plans:
            continue
        needed, seen = [], set()
        for name, info, _list, _span in plans[leaf.code].fact_slots:
            if name not in seen:
                seen.add(name)
                needed.append(Needed(name, info.kind, info.label or name, tuple(info.levels)))
        assignment = map_facts(needed, values.get(leaf.code, []))
        if assignment is None:
            continue
        kinds = {f.name: f.kind for f in needed}
        mapped_facts[leaf.code] = {name: _as_fact(kinds[name], v)
                                   for name, v in assignment.items()}
        mappings[leaf.code] = {name: v.label for name, v in assignment.items()}
    evaluation = draft_set.evaluate({"indicators": mapped_facts})
    scores = {r.code: r for r in evaluation.leaves()}
    results: List[LeafResult] = []
    for leaf in draft_set.checked.leaves():
        pattern = patterns.get(leaf.code)
        r = scores[leaf.code]
        ok = leaf.code in mapped_facts
        problem = "" if ok else ("stub" if pattern is None else "facts not mappable")
        if ok and r.status != "scored":
            problem = f"draft failed: {r.explanation}"
        results.append(LeafResult(
            leaf.code, pattern, ok, r.score if ok and r.status == "scored" else None,
            published.get(leaf.code), ref_scores.get(leaf.code), mappings.get(leaf.code, {}),
            problem))
    return results


def report(results: List[LeafResult]) -> str:
    lines = []
    for r in results:
        mark = "=" if r.reproduces_published else "≠"
        lines.append(f"  {r.code:6} {r.pattern or '(stub)':15} draft {r.score!s:5} "
                     f"{mark} published {r.published!s:5} (hand-encoded {r.reference!s:5}) "
                     f"{r.problem} {r.mapping}")
    return "\n".join(lines)


# ------------------------------------------------------------ equivalence


@attrs.define
class Equivalence:
    code: str
    pattern: Optional[str]
    samples: int = 0
    agree: int = 0
    agree_unrounded: int = 0  # the same before each set's own leaf rounding
    example: str = ""  # a sample where the draft and the hand-encoded rule differ

    @property
    def equivalent(self) -> bool:
        return self.samples > 0 and self.agree == self.samples


def _sample(info, report_value, rng):
    """A random value of a fact's declared type, within its declared range."""
    kind = info.kind
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "level":
        return rng.choice(list(info.levels))
    lo, hi = Decimal(0), None
    if info.domain is not None:
        lo = info.domain.lo if info.domain.lo is not None and info.domain.lo > -10 ** 9 else lo
        hi = info.domain.hi if info.domain.hi is not None and info.domain.hi < 10 ** 9 else None
    if kind == "count":
        top = int(hi) if hi is not None else max(int(report_value or 0) * 2, 30)
        return Decimal(rng.randint(int(lo), max(int(lo), top)))
    if kind == "percent":
        top = hi if hi is not None else Decimal("1.2")
        return (lo + (top - lo) * Decimal(rng.randint(0, 10000)) / 10000).quantize(Decimal("0.0001"))
    base = Decimal(report_value) if report_value not in (None, 0) else Decimal(100)
    top = hi if hi is not None else base * Decimal("1.5")
    value = (lo + (top - lo) * Decimal(rng.randint(0, 10000)) / 10000).quantize(Decimal("0.01"))
    return max(value, lo)


def _unrounded(leaf):
    if leaf.status != "scored" or leaf.unrounded is None:
        return "error" if leaf.status == "error" else leaf.status
    return Decimal(leaf.unrounded).quantize(Decimal("1e-12"))


def equivalence(draft_text: str, patterns: Dict[str, Optional[str]], ref_path, ref_facts_path,
                samples: int = 100, seed: int = 0) -> List[Equivalence]:
    """For each drafted leaf: over ``samples`` random facts of the hand-encoded leaf's
    declared types, how often the drafted rule (fed by the same mapping as
    :func:`measure`, chosen once on the report's facts) gives the hand-encoded score.
    Both failing (a division by zero …) counts as agreeing."""
    import random

    from indicator_dsl import loads_set

    rng = random.Random(seed)
    ref_set = load_set(ref_path)
    ref_facts = load_facts(ref_facts_path)
    values = reference_values(ref_set, ref_facts)
    draft_set = loads_set(measurable(draft_text), "<draft>")
    plans = draft_set._evaluator.plans
    ref_plans = ref_set._evaluator.plans
    out: List[Equivalence] = []
    for leaf in draft_set.checked.leaves():
        result = Equivalence(leaf.code, patterns.get(leaf.code))
        out.append(result)
        if result.pattern is None or leaf.code not in plans:
            continue
        needed, seen = [], set()
        for name, info, _list, _span in plans[leaf.code].fact_slots:
            if name not in seen:
                seen.add(name)
                needed.append(Needed(name, info.kind, info.label or name, tuple(info.levels)))
        assignment = map_facts(needed, values.get(leaf.code, []))
        if assignment is None:
            continue
        ref_infos = {}
        for name, info, _list, _span in ref_plans[leaf.code].fact_slots:
            ref_infos.setdefault(name, info)
        report = {v.label: v.value for v in values.get(leaf.code, [])}
        for _ in range(samples):
            sampled = {name: _sample(info, report.get(info.label or name), rng)
                       for name, info in ref_infos.items()}
            ref_eval = ref_set.evaluate({"indicators": {leaf.code: sampled}})
            ref_leaf = ref_eval.by_code()[leaf.code]
            by_label = {info.label or name: sampled[name] for name, info in ref_infos.items()}
            raw = ref_leaf.raw_values if ref_leaf.status == "scored" else {}
            mapped = {}
            for name, v in assignment.items():
                if v.label in by_label:
                    mapped[name] = by_label[v.label]
                elif v.label in raw:
                    mapped[name] = raw[v.label][0]
            kinds = {f.name: f.kind for f in needed}
            mapped = {n: _fact_value(kinds[n], x) for n, x in mapped.items()}
            draft_eval = draft_set.evaluate({"indicators": {leaf.code: mapped}})
            draft_leaf = draft_eval.by_code()[leaf.code]
            ref_score = ref_leaf.score if ref_leaf.status == "scored" else "error"
            draft_score = draft_leaf.score if draft_leaf.status == "scored" else "error"
            result.samples += 1
            if _unrounded(ref_leaf) == _unrounded(draft_leaf):
                result.agree_unrounded += 1
            if ref_score == draft_score:
                result.agree += 1
            elif not result.example:
                result.example = (f"{sampled} → hand-encoded {ref_score}, draft {draft_score} "
                                  f"({draft_leaf.explanation})")
    return out
