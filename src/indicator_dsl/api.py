"""The Python API: load a set once, evaluate many projects."""

from __future__ import annotations

from pathlib import Path
from decimal import Decimal
from typing import Dict, List, Mapping, Optional, Union

from .checker import CheckedSet, check
from .errors import Diagnostic, SetError, SourceText
from .evaluator import Evaluation, Evaluator
from .facts import Facts
from .modules import link
from .parser import read_source


class IndicatorSet:
    """A parsed, checked and compiled indicator set.

    Construct it with :func:`load_set` or :func:`loads_set`; both raise
    :class:`SetError` (with every problem of the file) when the set has errors.
    """

    def __init__(self, checked: CheckedSet):
        self.checked = checked
        self._evaluator = Evaluator(checked)
        self._needs = None
        fast = self._evaluator.fast  # the generated code, called directly (no extra hops)
        self._evaluate = fast.evaluate if fast is not None else self._evaluator.evaluate
        self._scores = fast.scores if fast is not None else self._evaluator.scores
        self._scores_mapping = fast.scores_mapping if fast is not None else None

    @property
    def name(self):
        return self.checked.header.name

    @property
    def total(self):
        return self.checked.total

    @property
    def warnings(self) -> List[Diagnostic]:
        return self.checked.warnings

    @property
    def codes(self) -> List[str]:
        return [node.code for node in self.checked.walk()]

    def evaluate(self, facts: Union[Facts, Mapping]) -> Evaluation:
        """Score one project. ``facts`` is a :class:`Facts` or a plain mapping."""
        if not isinstance(facts, Facts):
            facts = Facts.from_mapping(dict(facts))
        return self._evaluate(facts)

    def fact_needs(self):
        """Every fact the set's rules read (:class:`~indicator_dsl.requirements.FactNeed`),
        in tree order: what a facts template, a form or a list of missing facts shows."""
        from .requirements import fact_needs

        if self._needs is None:
            self._needs = fact_needs(self.checked, self._evaluator.plans)
        return self._needs

    def scores(self, facts: Union[Facts, Mapping]) -> Dict[str, Optional[Decimal]]:
        """Scores alone, by code, plus ``"total"`` — the fast path for many projects.

        Not-applicable indicators map to None; an indicator that cannot be scored
        raises :class:`EvaluationError`."""
        if facts.__class__ is dict and self._scores_mapping is not None:
            return self._scores_mapping(facts)  # read directly when it is plain
        if not isinstance(facts, Facts):
            facts = Facts.from_mapping(dict(facts))
        return self._scores(facts)

    def score_table(self, table):
        """Many projects as columns (``CODE.fact`` or project-wide fact names → values):
        a mapping of sequences, a pandas DataFrame or a pyarrow Table. Returns the
        same kind of table with one column per indicator code, then ``total``,
        ``grade`` and ``error`` (see :mod:`indicator_dsl.columnar`)."""
        from .columnar import score_table

        return score_table(self, table)


# Check findings that stay meaningful when some lines were dropped for syntax errors.
_RELIABLE_AFTER_SYNTAX_ERRORS = {"type", "name", "bands", "unreachable", "range", "duplicate", "step"}


def check_text(text: str, path: str = "<string>") -> CheckedSet:
    """Parse and check; check problems are in ``.diagnostics``.

    Syntax errors raise :class:`SetError`, together with the check errors of the
    lines that did parse (those that cannot be caused by the dropped lines), so one
    run reports every problem it can."""
    linked = link(text, path)
    tree, problems = linked.tree, linked.diagnostics
    if not problems:
        checked = check(tree, linked.sources)
        checked.origins = linked.origins
        return checked
    found = list(problems)
    if tree is not None:
        try:
            checked = check(tree, linked.sources)
            found += [d for d in checked.diagnostics
                      if d.is_error and d.code in _RELIABLE_AFTER_SYNTAX_ERRORS]
        except RecursionError:  # pragma: no cover - parser limits nesting
            pass
    found.sort(key=lambda d: (d.file != path, d.file or "", d.line or 0, d.column or 0))
    raise SetError(found)


def loads_set(text: str, path: str = "<string>") -> IndicatorSet:
    checked = check_text(text, path)
    if checked.errors:
        raise SetError(checked.diagnostics)
    return IndicatorSet(checked)


def load_set(path: Union[str, Path]) -> IndicatorSet:
    return loads_set(read_source(path), str(path))
