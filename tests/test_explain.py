"""Justifications (评分说明) an evaluator hands in: Chinese words, sensible precision.

What is read in every report: no number carries more digits than the set's rounding
warrants, facts that share a label are told apart, a point names only its own facts,
no source text or English identifier appears, and every report format words the
problems of a project the same way.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal

import pytest

from conftest import SHIPPED_SETS, shipped_name
from indicator_dsl import load_facts, load_set, loads_facts, loads_set
from indicator_dsl.explain import Style, formula
from indicator_dsl.numbers import percent
from indicator_dsl.parser import parse
from indicator_dsl.render import FORMATS, render_html, render_json

# A decimal number in running text, and its decimals.
DECIMAL = re.compile(r"(?<![\w.])\d+\.(\d+)")
# ASCII words of two letters or more: English identifiers or source text.
ASCII_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]+")


def _evaluate(text: str, facts: str):
    return loads_set(text).evaluate(loads_facts(facts, "facts.yaml", ".yaml"))


def _texts(ev):
    """Every text of an evaluation a reader sees: justifications, values, warnings."""
    for r in ev.indicators:
        yield r.code, r.explanation
        for value in r.values.values():
            yield r.code, value
        for label in r.value_labels.values():
            yield r.code, label
        for warning in r.warnings:
            yield r.code, warning


def _max_decimals(text: str) -> int:
    return max((len(m.group(1)) for m in DECIMAL.finditer(text)), default=0)


# ----------------------------------------------------------------- precision

def test_pro_rata_steps_and_share_deductions_are_shown_at_a_readable_precision():
    ev = _evaluate('''
fact share: percent in [0%, 100%] "税收占比"
fact items: count "不合规项数"
X weight 15: share >= 85% -> full; share <= 70% -> 0; pro rata 0.1% above 70% -> 0.1;
             cap full
D weight 5: items >= 3 -> 0; each items -> -1/12 of weight
''', "indicators:\n  X: {share: 76.393120822703828%}\n  D: {items: 1}\n")
    x, d = ev.by_code()["X"], ev.by_code()["D"]
    # 6.393120822703828% above 70% in 0.1% steps: 63.93… steps (exact inside)
    assert "共约63.93档" in x.explanation, x.explanation
    assert x.values["steps"] == "约63.93"
    assert x.raw_values["steps"][1] == Decimal("63.93120822703828")
    # 1/12 of 5 = 0.41666… points per item: points show to 0.01 + 2 decimals, marked 约
    assert "（约0.4167分）" in d.explanation, d.explanation
    assert d.score == Decimal("4.58")


def test_a_long_unrounded_score_is_shown_shortened_then_rounded():
    ev = _evaluate('''
fact cost, ceiling: money(元) in [1, 1000000] "成本"
Z weight 5: cost <= ceiling -> full; else -> ratio(ceiling, cost) of weight
''', "indicators:\n  Z: {cost: 110, ceiling: 100}\n")
    z = ev.by_code()["Z"]
    assert z.score == Decimal("4.55")
    assert "得约4.5455分，四舍五入为4.55分" in z.explanation, z.explanation


def test_a_percentage_just_below_a_whole_one_never_reads_as_the_whole():
    assert percent(Decimal("0.9999999")) == "约99.99%"
    assert percent(Decimal("1.0000001")) == "约100.01%"
    assert percent(Decimal("0.968757")) == "96.88%"
    assert percent(Decimal("1")) == "100%"


def test_style_follows_the_leaf_rounding():
    assert Style(Decimal("0.1")).points(Decimal("5.45678")) == "约5.457分"
    assert Style(Decimal("0.01")).points(Decimal("5.45678")) == "约5.4568分"
    assert Style(Decimal("1")).points(Decimal("2.5")) == "2.5分"
    assert Style().steps(Decimal("3")) == "3"


@pytest.mark.parametrize("path", SHIPPED_SETS, ids=shipped_name)
def test_no_shipped_report_shows_more_digits_than_warranted(path):
    ev = load_set(path).evaluate(load_facts(path.with_suffix(".facts.yaml")))
    places = ev.indicators[0].style.point_places
    for code, text in _texts(ev):
        assert _max_decimals(text) <= places, (code, text)
    for name in ("markdown", "html", "table"):
        assert _max_decimals(FORMATS[name](ev)) <= places, name
    # JSON numbers are exact data; its texts follow the same precision as the reports
    for text in _strings(json.loads(render_json(ev))):
        assert _max_decimals(text) <= places, text


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --------------------------------------------------------------- labels

SHARED = '''
fact actual, target: count in [1, 100000] "慰问人数"
C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0
'''


def test_facts_sharing_a_label_are_worded_distinctly_and_all_kept_in_values():
    ev = _evaluate(SHARED, "indicators:\n  C114: {actual: 87, target: 100}\n")
    leaf = ev.by_code()["C114"]
    assert "实际慰问人数与目标慰问人数之比为87%" in leaf.explanation, leaf.explanation
    assert "慰问人数与慰问人数" not in leaf.explanation
    assert leaf.values["actual"] == "87" and leaf.values["target"] == "100"
    assert leaf.value_labels["actual"] == "实际慰问人数"
    assert leaf.value_labels["target"] == "目标慰问人数"
    doc = render_json(ev)
    assert '"actual": {' in doc and '"target": {' in doc


def test_a_shared_label_is_a_check_warning_naming_the_words_used():
    warnings = [d for d in loads_set(SHARED).warnings if d.code == "label"]
    assert len(warnings) == 1
    assert "实际慰问人数、目标慰问人数" in warnings[0].message


def test_names_without_a_known_meaning_are_numbered_not_spelled_in_english():
    ev = _evaluate('''
fact p, q: count in [1, 1000] "户数"
X weight 5: ratio(p, q) >= 1 -> full; else -> 0
''', "indicators:\n  X: {p: 3, q: 4}\n")
    text = ev.by_code()["X"].explanation
    assert "户数（第1项）与户数（第2项）之比" in text, text


# ---------------------------------------------------------------- points

def test_a_point_lists_only_the_facts_it_reads():
    ev = _evaluate('''
fact done1, done2: count in [0, 1000] "完成数"
fact plan1, plan2: count in [1, 1000] "计划数"
X weight 10 {
  point ① weight 5: min(ratio(done1, plan1), 1) of weight
  point ② weight 5: min(ratio(done2, plan2), 1) of weight
}
''', "indicators:\n  X: {done1: 4, plan1: 5, done2: 1, plan2: 2}\n")
    text = ev.by_code()["X"].explanation
    first, second = text.split("；")[:2]
    assert "完成数（第1项）为4" in first and "计划数（第1项）为5" in first, first
    assert "第2项" not in first, first
    assert "完成数（第2项）为1" in second and "第1项" not in second, second


# ---------------------------------------------------------- Chinese only

@pytest.mark.parametrize("expr,words", [
    ("min(ratio(a, t), 1) of weight", "完成数与目标数之比（最高按1计）×权重"),
    ("min(a, t) + max(r, 1)", "完成数与目标数中的较小者+完成率（最低按1计）"),
    ("clamp(2 + (r - 90%) / 1% * 0.1, 0, full)",
     "（2+（完成率−90%）÷1%×0.1）（限定在0至满分之间）"),
    ("(rate - 60%) / (1 - 60%) * weight", "（完成率−60%）÷（1−60%）×权重"),
    ("60% of weight", "权重的60%"),
    ("linear(r, 60%, 100%) * full", "完成率在60%至100%之间的线性比例×满分"),
    ("abs(r - 1) + max(a, t)", "（完成率−1）的绝对值+完成数与目标数中的较大者"),
])
def test_formulas_are_worded_in_chinese(expr, words):
    tree = parse(f"X weight 1: {expr}\n")
    labels = {"a": "完成数", "t": "目标数", "r": "完成率", "rate": "完成率"}
    got = formula(tree.indicators[0].rule.clauses[0].value, lambda name: labels[name.name])
    assert got == words


def test_a_formula_outcome_names_labels_not_source_text():
    ev = _evaluate('''
fact a: count in [0, 1000] "实际完成值"
fact t: count in [1, 1000] "年度指标值"
let r = ratio(a, t)
X weight 5: r >= 1 -> full; else -> min(r, 1) of weight
''', "indicators:\n  X: {a: 87, t: 100}\n")
    text = ev.by_code()["X"].explanation
    assert "按实际完成值与年度指标值之比（最高按1计）×权重计算" in text, text
    assert not ASCII_WORD.search(text), text


def test_an_assessor_value_reads_as_the_assessor_band():
    ev = _evaluate('''
fact band: level("达成", "部分达成", "未达成") "定性指标完成情况"
fact assessed: number
Q weight 10: band == "达成" -> assess(assessed, 80% of weight, weight);
             else -> assess(assessed, 0, 80% of weight)
''', "indicators:\n  Q: {band: 达成, assessed: 9.5}\n")
    leaf = ev.by_code()["Q"]
    assert "评价人在8–10分之间给9.5分" in leaf.explanation, leaf.explanation
    assert leaf.value_labels["assessed"] == "评价人给分"
    assert not ASCII_WORD.search(leaf.explanation)


@pytest.mark.parametrize("path", SHIPPED_SETS, ids=shipped_name)
def test_shipped_justifications_carry_no_english_or_source_text(path):
    scorer = load_set(path)
    ev = scorer.evaluate(load_facts(path.with_suffix(".facts.yaml")))
    allowed = set(scorer.codes)
    for code, text in _texts(ev):
        words = [w for w in ASCII_WORD.findall(text) if w not in allowed]
        assert not words, (code, text)


# ------------------------------------------------- the same words everywhere

@pytest.fixture
def troubled(tmp_path):
    """A project whose report lists problems: a missing fact and a published total."""
    ind = tmp_path / "t.ind"
    ind.write_text('''set "测试"
total 10
fact visited, expected: count in [1, 1000] "慰问人数"
fact ok: bool "资料齐全"
A weight 5: ratio(visited, expected) >= 1 -> full; per 5% below -> -0.1; floor 0
B weight 5: ok -> full; else -> 0
''', encoding="utf-8")
    facts = tmp_path / "t.facts.yaml"
    facts.write_text("published: {total: 9}\nindicators:\n  A: {visited: 95}\n"
                     "  B: {ok: true}\n", encoding="utf-8")
    return load_set(ind).evaluate(load_facts(facts))


def _xlsx_strings(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row
                     if c.value is not None)


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return re.sub(r"<[^>]+>", "", xml)


def test_every_report_format_words_problems_in_the_same_chinese(troubled):
    failed = troubled.by_code()["A"]
    assert failed.status == "error"
    assert failed.explanation == "A：缺少数据“预期慰问人数”（expected）"
    html = render_html(troubled)
    assert "缺少数据“预期慰问人数”（expected）" in html
    for text in (_xlsx_strings(FORMATS["xlsx"](troubled)), _docx_text(FORMATS["docx"](troubled))):
        assert "缺少数据“预期慰问人数”（expected）" in text
        assert "请在" in text  # the Chinese hint
        assert "is missing" not in text and "the report publishes" not in text
