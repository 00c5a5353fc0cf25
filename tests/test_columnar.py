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


# ------------------------------------------------------- whole columns at once

from indicator_dsl.columnar import _columns  # noqa: E402
from indicator_dsl.vectorized import Unsupported, Vectorizer, score_columns  # noqa: E402


def _whole_columns(scorer, columns):
    """(done mask, outputs) of the whole-column path, every done row checked against
    scores() for the same facts as a mapping (as text: 4.80 is not 4.8)."""
    kind, names, lists, rows = _columns(columns)
    layout = ColumnLayout(scorer, names)
    out = {code: [None] * rows for code in scorer.codes + ["total"]}
    done = score_columns(scorer, layout, lists, rows, out)
    assert done is not None, "the set is not computed by columns"
    for row in range(rows):
        if done[row]:
            want, error = _scalar(scorer, row_mapping(layout, lists, row))
            assert error is None, (row, error)
            got = {code: out[code][row] for code in scorer.codes + ["total"]}
            assert _text(got) == _text(want), row
    return done, out


# Sets whose generated valid facts mostly score (in the others an `assess` value falls
# outside its band in most rows: an error, left to the scalar path by design).
VECTORIZED = [p for p in SHIPPED if "national/2021" in str(p) or "kunming-dongchuan" in str(p)]


def test_the_shipped_sets_that_columns_compute():
    for path in SHIPPED:
        try:
            Vectorizer(load_set(path))
        except Unsupported as exc:  # pragma: no cover - shows which construct
            raise AssertionError(f"{path}: {exc}")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("wild", [False, True], ids=["valid", "wild"])
def test_whole_columns_give_the_scalar_scores(path, wild):
    from test_codegen import facts_strategy

    scorer = load_set(path)
    computed = []

    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(facts_strategy(scorer, wild=wild), min_size=1, max_size=12))
    def check(mappings):
        done, _ = _whole_columns(scorer, _as_columns(mappings))
        computed.append(int(done.sum()))

    check()
    if not wild and path in VECTORIZED:
        assert sum(computed) > 0  # the path is really taken on valid facts


BOUNDARIES = ("fact a, t: number\nfact n: count\nfact p: percent\nfact band: level(\"x\", \"y\")\n"
              "fact v: number in [0, 10]\n"
              "R weight 5: ratio(a, t) >= 95% -> full; per 5% below -> -0.5; floor 0\n"
              "F weight 5: let r = ratio(a, t); r >= 1 -> full; else -> r * weight; cap full\n"
              "S weight 4: p >= 90% -> 4; p in [80%, 90%) -> 2.5; else -> 0\n"
              "E weight 3: each n -> -0.5; floor 0\n"
              "Q weight 10: band == \"x\" -> assess(v, 8, 10); else -> assess(v, 0, 8)\n"
              "M weight 3: min(p, ratio(a, t)) >= 60% -> full; else -> 1\n")


def test_boundary_values_are_exact_or_left_to_the_scalar_path():
    scorer = loads_set(BOUNDARIES)
    a = [95, 94, 1, 2, 85, 19, 1, 10 ** 17, 0, 3, 95, "95", 95.0, Decimal("95.000"), -1, 1, 17]
    t = [100, 100, 3, 3, 100, 20, 12, 3, 5, 0, 100, 100, 100, 100, 100, 1, 20]
    rows = len(a)
    columns = {"a": a, "t": t, "n": [0, 1, 2, 7, 0, 1, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2],
               "p": [Decimal("0.9"), Decimal("0.8999"), "90%", Decimal("0.8"), 1, 0,
                     Decimal("0.6"), Decimal("0.5999999999999"), 2, "95%", 11, Decimal("-0"),
                     Decimal("0.85"), Decimal("0.85"), Decimal("0.85"), Decimal("0.85"),
                     Decimal("0.85")],
               "band": ["x", "y", "x", "z", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x",
                        "y", "x", "y"],
               "v": [9, 8, 8, 7, 11, Decimal("8.0"), 0, 10, 5, 9, 1, 9, 2, 9, 3, 9, 4]}
    assert all(len(c) == rows for c in columns.values())
    done, out = _whole_columns(scorer, columns)
    # every row, the same as one by one
    whole = scorer.score_table(columns)
    layout = ColumnLayout(scorer, list(columns))
    for row in range(rows):
        want, error = _scalar(scorer, row_mapping(layout, list(columns.values()), row))
        assert whole["error"][row] == error
        if want is not None:
            assert _text({k: whole[k][row] for k in want}) == _text(want)
    assert done[0] and done[1]                 # plain rows: by columns
    assert not done[3]                         # a level not declared: the scalar error
    assert not done[4]                         # 11 outside [0, 10]
    assert not done[9]                         # t = 0: division by zero, left to scores()
    assert not done[11]                        # p = -0: a negative zero, left to scores()
    assert done[2]  # 1/3: one rounding, decided exactly (F: 1/3 × 5 = 1.666… → 1.67)
    assert done[12] and done[13]               # "95" and 95.0 read as 95, as scores() reads them


def test_a_formula_exactly_on_a_rounding_edge_is_left_to_the_scalar_path():
    scorer = loads_set(BOUNDARIES)
    # F: 0.123 × 5 = 0.615, exactly half-way between 0.61 and 0.62
    columns = {"a": [123, 124], "t": [1000, 1000], "n": [0, 0], "p": [1, 1], "band": ["x", "x"],
               "v": [9, 9]}
    done, out = _whole_columns(scorer, columns)
    assert not done[0] and done[1]
    assert scorer.score_table(columns)["F"] == [Decimal("0.62"), Decimal("0.62")]


def test_pandas_nulls_and_pyarrow_nulls_are_facts_not_given():
    scorer = loads_set(BOUNDARIES)
    frame = pandas.DataFrame({"a": [95.0, None, 90.0], "t": [100, 100, 100],
                              "n": [1, 2, 3], "p": [0.9, 0.8, None],
                              "band": ["x", "y", None], "v": [9, 5, 1]})
    got = scorer.score_table(frame)
    for row in range(3):
        mapping = row_mapping(ColumnLayout(scorer, list(frame.columns)),
                              [frame[c].tolist() for c in frame.columns], row)
        want, error = _scalar(scorer, mapping)
        assert got["error"][row] == error
        if want is not None:
            assert [str(got[k][row]) for k in want] == [str(v) for v in want.values()]
    table = scorer.score_table(pyarrow.table({"a": [95, None], "t": [100, 100], "n": [0, 1],
                                              "p": [None, Decimal("0.95")], "band": ["x", "x"],
                                              "v": [9, 9]}))
    assert table.column("error").to_pylist()[0] is not None
    assert table.column("error").to_pylist()[1] is not None  # a is missing there


def test_negative_zeros_and_ties_of_a_division():
    scorer = loads_set("fact a, b: number\n"
                       "N weight 5 bonus: -(a - b)\n"
                       "M weight 5 bonus: a * -1\n"
                       "T weight 5: ratio(a, b) >= 50% -> full; else -> 0\n"
                       "E weight 5 bonus: each a -> -0.5 from 0\n")
    columns = {"a": [3, 0, 1, 5, 0], "b": [3, 2, 2, 10, 7]}
    done, out = _whole_columns(scorer, columns)
    # 0 × -1 is -0 for Decimal ("-0.00"): left to the scalar path; -(3 - 3) is +0
    assert done[0] and not done[1] and not done[4]
    assert str(scorer.score_table(columns)["M"][1]) == "-0.00"
    assert str(out["N"][0]) == "0.00"
    assert done[2] and done[3]  # 1/2 and 5/10: exact ties of a division, decided here
    assert out["T"][2] == 5 and out["T"][3] == 5


def test_a_column_named_indicators_is_refused():
    scorer = loads_set(CARD)
    with pytest.raises(FactsError) as info:
        scorer.score_table({"indicators": [1], "C114.actual": [1]})
    assert "indicators" in info.value.diagnostics[0].message
