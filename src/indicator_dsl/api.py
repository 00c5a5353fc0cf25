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

    def score_many(self, projects, *, jobs: int = 1, client=None):
        """Score many projects (``Facts`` or mappings), yielding a
        :class:`~indicator_dsl.batch.BatchResult` for each, in order, without keeping
        them; ``jobs`` > 1 uses local processes, ``client`` a Dask cluster."""
        from .batch import score_many

        return score_many(self, projects, jobs=jobs, client=client)

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


def check_text(text: str, path: str = "<string>", read_file=None) -> CheckedSet:
    """Parse and check; check problems are in ``.diagnostics``.

    Syntax errors raise :class:`SetError`, together with the check findings on the
    parts that did parse and that the lines set aside could not have changed (weights
    of groups that lost no line, names when no declaration was lost, the rules of
    intact leaves …), so one run reports every problem it can; the error's ``checked``
    is the set checked from those lines (None when nothing could be read), for editors
    working on partial text. ``read_file(path) -> str`` reads imported and extended
    files (default: from disk)."""
    linked = link(text, path, read_file)
    tree, problems = linked.tree, linked.diagnostics
    if not problems:
        checked = check(tree, linked.sources)
        checked.origins = linked.origins
        checked.imports = linked.found
        return checked
    found = list(problems)
    checked = None
    if tree is not None:
        try:
            checked = check(tree, linked.sources)
        except RecursionError:  # pragma: no cover - parser limits nesting
            checked = None
        if checked is not None:
            checked.origins = linked.origins
            found += [d for d in checked.diagnostics
                      if _unaffected(d, checked, linked.dropped, linked.sources)]
    found.sort(key=lambda d: (d.file != path, d.file or "", d.line or 0, d.column or 0))
    error = SetError(found)
    error.checked = checked
    raise error


_DECLARATION = ("fact ", "let ", "rule ", "import ", "from ", "extends ")


def _unaffected(d: Diagnostic, checked: CheckedSet, dropped: Dict[str, tuple],
                sources) -> bool:
    """Whether a check finding stands whatever the lines set aside for syntax errors
    said: they could have been an indicator, a clause or a declaration."""
    lines = dropped.get(d.file or "", ())
    if not lines:
        return True
    if d.line is None:
        return False
    texts = sources.files[d.file].lines if d.file in sources.files else []
    if d.code in ("name", "undeclared") and any(
            texts[i - 1].strip().startswith(_DECLARATION) for i in lines if i <= len(texts)):
        return False  # a lost declaration would have made the name known
    extents = []  # (start, end, is_leaf, depth) of each indicator written in this file
    for node in checked.walk():
        span = node.node.span
        if span is not None and span.file == d.file:
            extents.append((span.line, span.end_line, node.is_leaf, node.depth))
    holders = [e for e in extents if e[0] <= d.line <= e[1]]
    if not holders:
        # About the file as a whole (the total's weights): any lost line outside the
        # indicators' blocks, or an indicator's own first line, could change it.
        inside = [e for e in extents if e[3] == 1]
        return all(any(start < line <= end for start, end, _, _ in inside) for line in lines)
    start, end, is_leaf, _ = max(holders, key=lambda e: e[3])
    # A leaf whose last line ends in ';' (or an operator) could have gone on to the next.
    reach = end + 1 if is_leaf and end <= len(texts) and _continues(texts[end - 1]) else end
    return not any(start <= line <= reach for line in lines)


def _continues(line: str) -> bool:
    from .parser import _CONTINUES, _code_part

    return bool(_CONTINUES.search(_code_part(line)))


def loads_set(text: str, path: str = "<string>") -> IndicatorSet:
    checked = check_text(text, path)
    if checked.errors:
        raise SetError(checked.diagnostics)
    return IndicatorSet(checked)


def load_set(path: Union[str, Path]) -> IndicatorSet:
    return loads_set(read_source(path), str(path))
