"""The generated code put to work: ``scores()`` and ``evaluate()`` with compact results.

``scores()`` runs the set's generated function and returns its dict. ``evaluate()``
runs the generated evaluation and keeps, per project, one tuple: every leaf's
rounded score, the groups' scores and the total, and per leaf the unrounded score,
the number of the clause that decided and the fact values its rule read. That is
all a justification needs: the :class:`~indicator_dsl.evaluator.IndicatorResult`
objects are made when ``Evaluation.indicators`` is first read, and a leaf's
justification (评分说明) and intermediate values when they are first read, by
replaying that one leaf in the interpreter (compiler.py) with the same fact values —
so the wording is the interpreter's, word for word.

Whatever the generated code cannot score (a missing fact, a division by zero, no
clause applies, a value outside its band …) is scored again by the interpreter with
the project's facts, which gives the error with its message, place and hint.
"""

from __future__ import annotations

import decimal
import os
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Dict, List, Optional

from .codegen import FAILED, FLAGGED, SKIPPED, Program, Unsupported, _quantum, build_program
from .compiler import Frame
from .errors import ERROR, Diagnostic
from .evaluator import (FAILED as STATUS_FAILED, NOT_APPLICABLE, SCORED, Evaluation,
                        Evaluator, IndicatorResult, grade_for, _rescaled)
from .facts import Facts, FactValue
from .numbers import CONTEXT, plain, round_half_up

# The generated code runs in its own copy of the exact context (set for the call,
# then the caller's is put back): cheaper than a fresh localcontext() per project.
_RUN_CONTEXT = CONTEXT.copy()
_getcontext, _setcontext = decimal.getcontext, decimal.setcontext
_NO_DIAGNOSTICS = ()
_new = object.__new__


def fast_path(evaluator: Evaluator) -> Optional["FastPath"]:
    """The generated code for an evaluator's set, or None to use the interpreter alone
    (``INDICATOR_INTERPRET=1``, or a construct the generator does not compile)."""
    if os.environ.get("INDICATOR_INTERPRET"):
        return None
    try:
        program = build_program(evaluator.checked, evaluator.plans)
    except (Unsupported, RecursionError):
        return None
    return FastPath(evaluator, program)


class _Probe:
    """Stands for an IndicatorResult while the published scores are compared."""

    __slots__ = ("status", "score", "published", "warnings")

    def __init__(self, status, score):
        self.status = status
        self.score = score
        self.published = None
        self.warnings: List[str] = []


class FastPath:
    def __init__(self, evaluator: Evaluator, program: Program):
        self.evaluator = evaluator
        self.program = program
        checked = evaluator.checked
        self.checked = checked
        self.static_warnings = tuple(checked.warnings)
        self.header = checked.header
        years = (self.header.year_from, self.header.year_to) if self.header.year_from else None
        self.set_fields = (self.header.name, self.header.region, years, self.header.source,
                           checked.source.path, checked.total)
        leaves = program.leaves
        self.n_leaves = len(leaves)
        self.n_groups = len(program.group_codes)
        self.flagged = [layout.index for layout in leaves if layout.has_flags]
        self.assessed = [layout.index for layout in leaves if layout.uses_assess]
        self.scan = bool(self.flagged or self.assessed)
        self.no_skip = program.no_skip
        self.grades = checked.grades
        self.nodes = {node.code: node for node in checked.walk()}
        # For the compact combine: each group's children as positions in the record.
        position = {layout.code: layout.index for layout in leaves}
        for k, code in enumerate(program.group_codes):
            position[code] = self.n_leaves + k
        self.position = position
        self.groups = [(self.n_leaves + k, self.nodes[code]) for k, code in
                       enumerate(program.group_codes)]
        self.roots = [position[r.code] for r in checked.roots]
        # brief(): each indicator's place in record[:n_leaves] + groups, in the tree's order
        self.tree_positions = [position[node.code] for node in evaluator.order]
        self.weights = {position[code]: node.weight for code, node in self.nodes.items()}
        self.total_step = checked.total_step
        self.no_facts = Facts()
        self.total_quantum = _quantum(checked.total_step)
        self.scores_all = program.scores_all
        self.evaluate_all = program.evaluate_all
        program.constants.update({
            "_skip": self.skip, "_NO_SKIP": program.no_skip, "_getcontext": _getcontext,
            "_setcontext": _setcontext, "_CTX": _RUN_CONTEXT,
            "_interpreted": evaluator.scores_interpreted,
            "_by_facts": self.scores_by_facts})
        # The generated entries themselves, called with no layer in between (a point's
        # own facts table sends the project to the interpreter inside them); a set with
        # `require`s checks those first, on Facts.
        self.scores_entry = program.scores_entry
        if evaluator.requires:
            self.scores, self.scores_mapping = self._scores_required, self._mapping_required
        else:
            self.scores, self.scores_mapping = program.scores_entry, program.scores_mapping

    def _scores_required(self, facts: Facts) -> Dict[str, Optional[Decimal]]:
        self.evaluator.check_requires(facts)
        return self.scores_entry(facts)

    def _mapping_required(self, mapping) -> Dict[str, Optional[Decimal]]:
        return self._scores_required(Facts.from_mapping(dict(mapping)))

    # --------------------------------------------------------------- numbers only
    def skip(self, facts: Facts) -> tuple:
        na = facts.not_applicable
        if not na:
            return self.program.no_skip
        return tuple(any(code in na for code in layout.chain) for layout in self.program.leaves)

    def scores_by_facts(self, mapping) -> Dict[str, Optional[Decimal]]:
        return self.scores(Facts.from_mapping(dict(mapping)))

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, facts: Facts) -> Evaluation:
        na = facts.not_applicable
        skip = self.skip(facts) if na else self.no_skip
        saved = _getcontext()
        _setcontext(_RUN_CONTEXT)  # the whole evaluation, as Evaluator.evaluate does
        try:
            record, groups, unrounded = self.evaluate_all(facts.indicators, facts.project, skip)
            extra = self.evaluator.project_diagnostics(facts)
            sparse = None
            if unrounded is None or self.scan:
                sparse = self._scan(facts, record, extra)
            rescaled = False
            total = unrounded
            if unrounded is None:
                groups, total, unrounded, rescaled = self._combine(record, na)
            grade = None
            if total is not None:
                if self.total_step is not None:
                    total = total.quantize(self.total_quantum, ROUND_HALF_UP) \
                        if self.total_quantum else round_half_up(total, self.total_step)
                if self.grades:
                    grade = self.evaluator.grade_of(total, extra)
            # Published scores are compared by the interpreter's own code, shown stand-ins
            # for the results it looks at (those with a published score).
            probes = {code: table for code, table in facts.indicators.items()
                      if "published" in table}
            if probes or "published" in facts.project:
                sparse = self._published(facts, record, groups, probes, total, grade, extra,
                                         sparse)
            if na:
                sparse = sparse or {}
                sparse["na"] = na
            if extra and self.evaluator.keeps_no_total(extra):
                total = unrounded = grade = None
            ev = _new(Evaluation)
            ev.set_name, ev.region, ev.years, ev.source, ev.set_path, ev.max = self.set_fields
            ev.facts_path = facts.path
            project = facts.project
            if project:
                values = []
                for key, fact in project.items():
                    values.append(key)
                    values.append(fact.value)
                ev._project = tuple(values)
            else:
                ev._project = _NO_DIAGNOSTICS
            ev.total = total
            ev.grade = grade
            ev._indicators = None
            ev._diagnostics = tuple(extra) if extra else _NO_DIAGNOSTICS
            ev.rescaled = rescaled
            ev.unrounded_total = unrounded
            ev._lazy = self
            ev._record = record
            ev._sparse = sparse
            ev._groups = groups
            return ev
        finally:
            _setcontext(saved)

    def _scan(self, facts, record, extra) -> Optional[dict]:
        """Leaves the generated code could not score, flags that fired, assessors."""
        sparse = {}
        leaves = self.program.leaves
        for i in self.assessed:
            if record[i] is not FAILED and record[i] is not SKIPPED:
                who = leaves[i].plan.assessor(facts)
                if who:
                    sparse.setdefault("assessor", {})[i] = who
        for layout in leaves:
            i = layout.index
            if record[i] is FAILED:
                self._failed(layout, facts, extra, sparse)
            elif layout.has_flags and record[layout.offset + 1] & FLAGGED:
                replayed = self._replay(layout, record, sparse, facts.not_applicable, extra)
                sparse.setdefault("warnings", {})[i] = replayed.warnings
        return sparse or None

    def _published(self, facts, record, groups, tables, total, grade, extra, sparse):
        position = self.position
        probes = {code: self._probe(record, groups, position[code]) for code in tables
                  if code in position}
        self.evaluator._compare_published(facts, probes, total, grade, extra)
        published = {code: (p.published, p.warnings) for code, p in probes.items()
                     if p.published is not None or p.warnings}
        if published:
            sparse = sparse or {}
            sparse["published"] = published
        return sparse

    def _probe(self, record: tuple, groups, position: int) -> _Probe:
        value = record[position] if position < self.n_leaves else \
            groups[position - self.n_leaves]
        if value is FAILED:
            return _Probe(STATUS_FAILED, None)
        if value is None or value is SKIPPED:
            return _Probe(NOT_APPLICABLE, None)
        return _Probe(SCORED, value)

    def _failed(self, layout, facts: Facts, extra: list, sparse: dict):
        """A leaf the generated code could not score: the interpreter scores it."""
        node = layout.plan.indicator
        result = self.evaluator._blank(node)
        self.evaluator._score_leaf(node, result, facts, extra)
        sparse.setdefault("failed", {})[layout.index] = result

    def _replay(self, layout, record, sparse, not_applicable, diagnostics) -> "_Replayed":
        """One leaf scored again by the interpreter with the fact values the generated code
        read (no facts needed): its justification, values and warnings."""
        node = layout.plan.indicator
        plan = layout.plan
        who = (sparse or {}).get("assessor", {}).get(layout.index)
        if who is None and not not_applicable:
            stub = self.no_facts  # the interpreter only asks it for not-applicable marks
        else:
            project = {"assessor": FactValue(who, None)} if who is not None else {}
            stub = Facts(project=project, not_applicable=not_applicable or {})
        frame = Frame(plan, stub)
        start = layout.offset + 2
        frame.fact_values = list(record[start:start + len(plan.fact_slots)])
        result = _Replayed()
        with decimal.localcontext(CONTEXT):
            self.evaluator._score_leaf(node, result, stub, diagnostics, frame=frame)
        return result

    def _combine(self, record: tuple, not_applicable):
        """Groups and total when some leaf is not applicable or failed (the interpreter's
        Evaluator._combine and _score_group, on the record)."""
        values = list(record[:self.n_leaves]) + [None] * self.n_groups
        status = {}
        for layout in self.program.leaves:
            s = record[layout.index]
            status[layout.index] = (STATUS_FAILED if s is FAILED else
                                    NOT_APPLICABLE if s is None or s is SKIPPED else SCORED)
        step = self.checked.group_step
        for pos, node in self.groups:
            children = [self.position[c.code] for c in node.children]
            if node.code in not_applicable and all(status[c] == NOT_APPLICABLE
                                                   for c in children):
                status[pos], values[pos] = NOT_APPLICABLE, None
                continue
            score, _, _, st = _combine(children, status, values, self.weights, node.weight,
                                       step, node.node.na_policy)
            status[pos], values[pos] = st, (score if st == SCORED else
                                           FAILED if st == STATUS_FAILED else None)
        score, exact, rescaled, st = _combine(self.roots, status, values, self.weights,
                                              self.checked.total, step, self.header.na_policy)
        return values[self.n_leaves:], (score if st == SCORED else None), exact, rescaled

    # ---------------------------------------------------------------- made on demand
    def brief(self, ev: Evaluation) -> List[tuple]:
        """Evaluation.brief() from the record: every indicator's status, score and
        warnings, in the tree's order, with no IndicatorResult made."""
        record, sparse = ev._record, ev._sparse
        groups = ev._groups
        if sparse is None and groups is not None:
            # The common case: every leaf scored or not applicable by its own rule, no
            # warning anywhere.
            values = record[:self.n_leaves] + tuple(groups)
            return [(NOT_APPLICABLE, None, ()) if value is None else (SCORED, value, ())
                    for value in map(values.__getitem__, self.tree_positions)]
        sparse = sparse or {}
        if groups is None:  # some leaf failed or does not apply: the groups from the record
            groups = self._combine(record, sparse.get("na") or {})[0]
        flagged = sparse.get("warnings", {})
        published = sparse.get("published", {})
        failed = sparse.get("failed", {})
        n_leaves = self.n_leaves
        out = []
        for node in self.evaluator.order:
            pos = self.position[node.code]
            if pos < n_leaves:
                value = record[pos]
                if value is FAILED:
                    result = failed.get(pos)
                    warnings = list(result.warnings) if result is not None else []
                    entry = [STATUS_FAILED, None, warnings]
                elif value is None or value is SKIPPED:
                    entry = [NOT_APPLICABLE, None, list(flagged.get(pos, ()))]
                else:
                    entry = [SCORED, value, list(flagged.get(pos, ()))]
            else:
                value = groups[pos - n_leaves]
                entry = [STATUS_FAILED, None, []] if value is FAILED else \
                    [NOT_APPLICABLE, None, []] if value is None else [SCORED, value, []]
            extra = published.get(node.code)
            if extra is not None:
                entry[2] = entry[2] + list(extra[1])
            out.append(tuple(entry))
        return out

    def diagnostics(self, ev: Evaluation) -> List[Diagnostic]:
        return list(self.static_warnings) + list(ev._diagnostics)

    def indicators(self, ev: Evaluation) -> List[IndicatorResult]:
        """Every IndicatorResult of a compact evaluation, made now (justifications later)."""
        with decimal.localcontext(CONTEXT):
            return self._indicators(ev)

    def _indicators(self, ev: Evaluation) -> List[IndicatorResult]:
        evaluator = self.evaluator
        record, sparse = ev._record, ev._sparse or {}
        not_applicable = sparse.get("na") or {}
        stub = Facts(not_applicable=not_applicable, path=ev.facts_path)
        results = {node.code: evaluator._blank(node) for node in evaluator.order}
        failed = sparse.get("failed", {})
        warnings = sparse.get("warnings", {})
        for layout in self.program.leaves:
            i = layout.index
            node = layout.plan.indicator
            result = results[node.code]
            s = record[i]
            if s is SKIPPED:
                evaluator._score_leaf(node, result, stub, [])
                continue
            if s is FAILED:
                results[node.code] = failed[i]
                continue
            raw, clause = record[layout.offset], record[layout.offset + 1]
            result.clause = layout.clause_texts[clause & ~FLAGGED]
            result.warnings = list(warnings.get(i, ()))
            replay = _LazyReplay(self, layout, record, sparse)
            result.values_source = replay.values
            result.explanation_source = replay.explanation
            if s is None:
                result.status = NOT_APPLICABLE
            else:
                result.score = s
                result.unrounded = raw
        for node in reversed(evaluator.order):
            if not node.is_leaf:
                evaluator._score_group(node, results, stub)
        for code, (value, added) in sparse.get("published", {}).items():
            result = results[code]
            result.published = value
            result.warnings.extend(added)
        return [results[node.code] for node in evaluator.order]


class _Replayed:
    """What Evaluator._score_leaf writes, without a full IndicatorResult to write it to."""

    __slots__ = ("status", "error", "explanation", "clause", "values_source", "warnings",
                 "unrounded", "score")

    def __init__(self):
        self.explanation = ""
        self.values_source = None
        self.warnings = []

    def text(self) -> str:
        text = self.explanation
        if callable(text):
            text = self.explanation = text()
        return text

    def raw_values(self) -> dict:
        values = self.values_source
        if callable(values):
            values = self.values_source = values()
        return values or {}


class _LazyReplay:
    """A leaf's justification and values, worded by the interpreter on first read."""

    __slots__ = ("fast", "layout", "record", "sparse", "result")

    def __init__(self, fast: FastPath, layout, record, sparse):
        self.fast, self.layout, self.record, self.sparse = fast, layout, record, sparse
        self.result = None

    def _run(self) -> _Replayed:
        if self.result is None:
            self.result = self.fast._replay(self.layout, self.record, self.sparse,
                                            self.sparse.get("na"), [])
        return self.result

    # Worded in the reader's decimal context, as the interpreter's own lazy texts are.
    def explanation(self) -> str:
        return self._run().text()

    def values(self) -> dict:
        return self._run().raw_values()


def _combine(children, status, values, weights, weight, step, policy):
    """Evaluator._combine on positions in a record."""
    if any(status[c] == STATUS_FAILED for c in children):
        return None, None, False, STATUS_FAILED
    pairs = [(weights[c], values[c] if status[c] == SCORED else None) for c in children]
    if all(x is None for _, x in pairs):
        return None, None, False, NOT_APPLICABLE
    exact = _rescaled(pairs, weight, policy)
    if exact is None:
        return None, None, False, NOT_APPLICABLE
    if all(x is not None for _, x in pairs):
        return exact, exact, False, SCORED
    return round_half_up(exact, step), exact, True, SCORED
