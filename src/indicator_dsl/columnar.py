"""Many projects as columns: ``IndicatorSet.score_table(table)``.

A table holds one row per project and one column per fact: ``CODE.fact`` for a fact
of an indicator (or group), a plain name for a project-wide fact (``name``,
``budget`` …), and a column named after an indicator code whose value ``na`` (also
``n/a``, ``不适用``) marks that indicator not applicable in that row. An empty cell
(None, NaN, a pandas/pyarrow null) is a fact not given — a rule that needs it makes
that row's result an error, never a zero.

The table can be a mapping of column name → sequence, a pandas DataFrame or a
pyarrow Table (pandas and pyarrow are optional: ``pip install indicator-dsl[columnar]``).
The scores come back in the same family: a dict of lists, a DataFrame, a pyarrow
Table, with one column per indicator code in the set's order, then ``total``,
``grade`` and ``error`` (None, or the first error's message). Scores are exact
``Decimal``s (pyarrow: ``decimal128`` with the set's finest rounding as scale).

Every row is scored exactly as ``IndicatorSet.scores()`` scores the same facts
given as a mapping: :mod:`indicator_dsl.vectorized` computes the common rule shapes
for whole columns at once in exact integers (numpy), and leaves every row it cannot
prove exact to the generated code, one row at a time.
"""

from __future__ import annotations

import sys
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import ERROR, Diagnostic, FactsError, IndicatorError
from .evaluator import grade_for

NA_TEXT = ("na", "n/a", "不适用")
# Tables at least this long try the whole-column path (vectorized.py): below it, setting
# up the columns costs more than scoring the rows one by one (about 100 rows for seed 001).
_VECTOR_ROWS = 100


class ColumnLayout:
    """Which column feeds which fact, resolved once per table."""

    def __init__(self, scorer, names: Sequence[str]):
        codes = set(scorer.codes)
        self.facts: List[Tuple[str, str, int]] = []  # (code, fact name, column)
        self.project: List[Tuple[str, int]] = []
        self.na: List[Tuple[str, int]] = []
        for index, name in enumerate(names):
            name = str(name)
            if name == "indicators":
                raise FactsError(Diagnostic(
                    ERROR, "a column is named `indicators`", hint="name each column CODE.fact "
                    "(a fact of an indicator) or after a project-wide fact",
                    message_cn="有一列名为 `indicators`",
                    hint_cn="列名写成“指标编号.事实名”（指标的事实），或项目级事实的名称"))
            if name in codes:
                self.na.append((name, index))
                continue
            code, fact = _split(name, codes)
            if code is None:
                self.project.append((name, index))
            else:
                self.facts.append((code, fact, index))


def _split(name: str, codes) -> Tuple[Optional[str], str]:
    """``CODE.fact`` → (CODE, fact), the longest known code first (codes may hold dots)."""
    cut = name.rfind(".")
    while cut > 0:
        if name[:cut] in codes:
            return name[:cut], name[cut + 1:]
        cut = name.rfind(".", 0, cut)
    return None, name


def _missing(value) -> bool:
    if value is None:
        return True
    if value.__class__ is float:
        return value != value
    # pandas.NA, pandas.NaT and numpy's NaN-like scalars
    return getattr(value, "__class__", None).__name__ in ("NAType", "NaTType")


def _plain(value):
    """A cell as Facts.from_mapping expects it (numpy scalars → Python)."""
    if value.__class__.__module__ == "numpy":
        return value.item()
    return value


# ------------------------------------------------------------------ tables in/out


def _columns(table) -> Tuple[str, List[str], List[list], int]:
    """(kind, names, columns as lists, rows) for a mapping, DataFrame or pyarrow Table."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(table, pandas.DataFrame):
        names = [str(c) for c in table.columns]
        columns = [table[c].tolist() for c in table.columns]
        return "pandas", names, columns, len(table)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and isinstance(table, (arrow.Table, arrow.RecordBatch)):
        names = list(table.schema.names)
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return "arrow", names, columns, table.num_rows
    if not hasattr(table, "items"):
        raise FactsError(Diagnostic(
            ERROR, f"score_table() takes a mapping of columns, a pandas DataFrame or a pyarrow "
            f"Table, not {type(table).__name__}", hint="e.g. {'C114.actual': [87, 95], "
            "'C114.target': [100, 100]}",
            message_cn=f"score_table() 接受按列组织的映射、pandas DataFrame 或 pyarrow Table，"
                       f"不接受 {type(table).__name__}",
            hint_cn="例如 {'C114.actual': [87, 95], 'C114.target': [100, 100]}"))
    names, columns = [], []
    for name, values in table.items():
        names.append(str(name))
        columns.append(list(values) if not hasattr(values, "tolist") else values.tolist())
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        shown = ", ".join(f"{n}: {len(c)}" for n, c in zip(names, columns))
        raise FactsError(Diagnostic(ERROR, f"the columns have different lengths ({shown})",
                                    hint="every column holds one value per project",
                                    message_cn=f"各列长度不一致（{shown}）",
                                    hint_cn="每一列对每个项目各有一个值"))
    return "mapping", names, columns, (lengths.pop() if lengths else 0)


def _scale(checked) -> int:
    places = 0
    for step in (checked.leaf_step, checked.group_step, checked.total_step):
        if step is not None:
            exponent = step.as_tuple().exponent
            if isinstance(exponent, int):
                places = max(places, -exponent)
    return places


def _output(kind: str, out: Dict[str, list], scale: int):
    if kind == "pandas":
        import pandas

        return pandas.DataFrame({name: pandas.Series(values, dtype=object)
                                 for name, values in out.items()})
    if kind == "arrow":
        import pyarrow

        arrays, names = [], []
        for name, values in out.items():
            names.append(name)
            if name in ("grade", "error"):
                arrays.append(pyarrow.array(values, type=pyarrow.string()))
                continue
            try:
                arrays.append(pyarrow.array(values, type=pyarrow.decimal128(38, scale)))
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):  # pragma: no cover
                # A value finer than the set's rounding: kept exact, as text.
                from .numbers import plain

                arrays.append(pyarrow.array([None if v is None else plain(v) for v in values],
                                            type=pyarrow.string()))
        return pyarrow.Table.from_arrays(arrays, names=names)
    return out


# ----------------------------------------------------------------------- scoring


def row_mapping(layout: ColumnLayout, columns: List[list], row: int) -> dict:
    """One row of the table as the facts mapping scores() takes."""
    indicators: Dict[str, object] = {}
    mapping: Dict[str, object] = {"indicators": indicators}
    for code, name, index in layout.facts:
        value = columns[index][row]
        if _missing(value):
            continue
        table = indicators.get(code)
        if table is None:
            table = indicators[code] = {}
        table[name] = _plain(value)
    for name, index in layout.project:
        value = columns[index][row]
        if not _missing(value):
            mapping[name] = _plain(value)
    for code, index in layout.na:
        value = columns[index][row]
        if isinstance(value, str) and value.strip().lower() in NA_TEXT:
            indicators[code] = "na"
    return mapping


def score_table(scorer, table):
    kind, names, columns, rows = _columns(table)
    layout = ColumnLayout(scorer, names)
    checked = scorer.checked
    codes = scorer.codes
    out: Dict[str, list] = {code: [None] * rows for code in codes}
    out["total"] = [None] * rows
    grades = out["grade"] = [None] * rows
    errors = out["error"] = [None] * rows
    done = None
    if rows >= _VECTOR_ROWS:
        try:
            from .vectorized import score_columns
        except ImportError:  # numpy is optional: every row by itself then
            score_columns = None
        if score_columns is not None:
            done = score_columns(scorer, layout, columns, rows, out)
    for row in range(rows):
        if done is not None and done[row]:
            continue
        try:
            scores = scorer.scores(row_mapping(layout, columns, row))
        except IndicatorError as exc:
            first = next((d for d in exc.diagnostics if d.is_error), None)
            errors[row] = first.message if first is not None else str(exc)
            continue
        for code, value in scores.items():
            out[code][row] = value
    totals = out["total"]
    if checked.grades:
        for row in range(rows):
            if totals[row] is not None and errors[row] is None:
                grades[row] = grade_for(totals[row], checked.grades)
    return _output(kind, out, _scale(checked))

