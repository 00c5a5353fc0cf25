"""IndicatorSet.score_table(): many projects as columns, every score the scalar one.

Each row of a table must give exactly what ``scores()`` gives for the same facts as a
mapping (compared as text, exponent included), whatever the table's kind — a mapping
of lists, a pandas DataFrame, a pyarrow Table — and a bad row is that row's error.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas
import pyarrow
import pytest
import sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicator_dsl import EvaluationError, FactsError, load_set, loads_set
from indicator_dsl.columnar import row_mapping, ColumnLayout

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "indicator_sets").rglob("*.ind"))
CARD = ("fact actual, target: count\n"
        "C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0\n")


def _scalar(scorer, mapping):
    try:
        return scorer.scores(mapping), None
    except (EvaluationError, FactsError) as exc:
        return None, next(d.message for d in exc.diagnostics if d.is_error)


def _rows(out, codes, rows):
    for row in range(rows):
        yield {code: out[code][row] for code in codes + ["total"]}, out["error"][row]


def _text(scores):
    return None if scores is None else {k: None if v is None else str(v) for k, v in
                                        scores.items()}


def test_a_mapping_of_columns_gives_a_dict_of_lists():
    scorer = loads_set(CARD)
    out = scorer.score_table({"C114.actual": [87, 95, None, 100, "90%"],
                              "C114.target": [100, 100, 100, 0, 100]})
    assert list(out) == ["C114", "total", "grade", "error"]
    assert out["C114"][:2] == [Decimal("4.8"), Decimal("4.9")]
    assert [str(v) for v in out["C114"][:2]] == ["4.80", "4.90"]
    assert out["C114"][2] is None and "missing" in out["error"][2]
    assert out["C114"][3] is None and "target" in out["error"][3]
    assert out["C114"][4] is None and out["error"][4]  # a percentage is not a count
    assert out["error"][:2] == [None, None]


def test_pandas_and_pyarrow_give_their_own_kind_with_the_same_numbers():
    scorer = load_set(ROOT / "examples/c114.ind")
    columns = {"C114.actual": [87, 95, 100], "C114.target": [100, 100, 100]}
    plain = scorer.score_table(columns)
    frame = scorer.score_table(pandas.DataFrame(columns))
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["C114"]) == plain["C114"] and list(frame["total"]) == plain["total"]
    table = scorer.score_table(pyarrow.table(columns))
    assert isinstance(table, pyarrow.Table)
    assert table.schema.field("C114").type == pyarrow.decimal128(38, 2)  # leaves to 0.01
    assert table.column("C114").to_pylist() == plain["C114"]


def test_not_applicable_columns_codes_with_dots_and_project_facts():
    scorer = loads_set('fact spent, budget: money\nfact done: bool\n'
                       'a.b "x" weight 5: ratio(spent, budget) >= 90% -> full; else -> 0\n'
                       'C weight 5: done -> full; else -> 0\n')
    out = scorer.score_table({"spent": ["90万元", "1元", 5], "budget": [100, "100万元", 5],
                              "C.done": ["maybe", "否", None], "C": [None, None, "na"]})
    assert out["a.b"] == [None, 0, 5] and "maybe" in out["error"][0]
    assert out["C"] == [None, 0, None]
    assert out["total"] == [None, 0, 10]  # the third: C not applicable, a.b rescaled to 10
    layout = ColumnLayout(scorer, ["a.b.x", "a.b", "spent"])
    assert layout.facts == [("a.b", "x", 0)] and layout.na == [("a.b", 1)]


def test_grades_and_errors_never_stop_the_other_rows():
    import yaml

    seed = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival"
    scorer = load_set(seed.with_suffix(".ind"))
    mapping = yaml.safe_load(seed.with_suffix(".facts.yaml").read_text(encoding="utf-8"))
    broken = {"indicators": {"C114": {"visited": "many"}}}
    columns = _as_columns([mapping, broken, mapping])
    out = scorer.score_table(columns)
    assert out["total"] == [Decimal("96.4"), None, Decimal("96.4")]
    assert out["grade"] == ["优", None, "优"]
    assert out["error"][0] is None and out["error"][2] is None and out["error"][1]
    assert out["B21"][0] == 1 and out["C"][0] == Decimal("57.4")


def test_bad_tables_are_clear_errors():
    scorer = loads_set(CARD)
    with pytest.raises(FactsError) as info:
        scorer.score_table({"C114.actual": [1, 2], "C114.target": [1]})
    assert "different lengths" in info.value.diagnostics[0].message
    with pytest.raises(FactsError):
        scorer.score_table([1, 2, 3])


def _table_strategy(scorer):
    """Rows of facts for every leaf (valid values and every wrong kind), as columns."""
    from test_codegen import facts_strategy

    return st.lists(facts_strategy(scorer, wild=True), min_size=1, max_size=6)


def _as_columns(mappings):
    names = []
    for mapping in mappings:
        for key, value in mapping.items():
            if key == "indicators":
                for code, table in value.items():
                    if isinstance(table, dict):
                        names += [f"{code}.{name}" for name in table]
                    else:
                        names.append(code)
            else:
                names.append(key)
    names = list(dict.fromkeys(names))
    columns = {name: [] for name in names}
    for mapping in mappings:
        for name in names:
            value = None
            if name in mapping:
                value = mapping[name]
            for code, table in mapping["indicators"].items():
                if isinstance(table, dict) and name.startswith(code + ".") and \
                        name[len(code) + 1:] in table:
                    value = table[name[len(code) + 1:]]
                elif not isinstance(table, dict) and name == code:
                    value = table
            columns[name].append(value)
    return columns


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_row_equals_the_scalar_scores(path):
    scorer = load_set(path)

    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_table_strategy(scorer))
    def check(mappings):
        columns = _as_columns(mappings)
        out = scorer.score_table(columns)
        layout = ColumnLayout(scorer, list(columns))
        lists = list(columns.values())
        for row, (got, error) in enumerate(_rows(out, scorer.codes, len(mappings))):
            want, want_error = _scalar(scorer, row_mapping(layout, lists, row))
            if want is None:
                assert error == want_error and all(v is None for v in got.values())
            else:
                assert error is None and _text(got) == _text(want)

    check()
