"""Stage 1: text → AST. Shapes of the tree, positions, and syntax errors."""

from decimal import Decimal

import pytest

from indicator_dsl import SetError
from indicator_dsl import nodes as n
from indicator_dsl.parser import decode_source, parse

DESIGN_CARD = "C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0\n"


def test_design_card_parses_verbatim():
    tree = parse(DESIGN_CARD, "card.ind")
    (leaf,) = tree.indicators
    assert leaf.code == "C114" and leaf.weight == n.Number(Decimal(5))
    guard, step, floor = leaf.rule.clauses
    assert guard == n.Guarded(
        n.Compare(">=", n.Call("ratio", (n.Name("actual"), n.Name("target"))),
                  n.Number(Decimal(1))), n.Full())
    assert step == n.Step(n.STEP_WHOLE, n.Number(Decimal("0.05"), True), "below", None,
                          n.Number(Decimal("-0.1")), None)
    assert floor == n.Floor(n.Number(Decimal(0)))


def test_spans_are_exact_and_ignored_by_equality():
    tree = parse(DESIGN_CARD, "card.ind")
    step = tree.indicators[0].rule.clauses[1]
    assert (step.span.line, step.span.column) == (1, 52)
    assert DESIGN_CARD[step.span.start:step.span.end] == "per 5% below -> -0.1"
    moved = parse("\n\n  " + DESIGN_CARD, "other.ind")
    assert moved == tree


def test_percent_literals_are_exact():
    tree = parse("X weight 1: r >= 93.5% -> full; else -> 0\n")
    assert tree.indicators[0].rule.clauses[0].condition.right.value == Decimal("0.935")


def test_header_and_hierarchy():
    text = '''
set "示例"
region "云南省"
year 2021 to 2023
source "财预〔2020〕10号"
total 100
grades "A[优]" >= 90, 良 >= 80, 中 >= 60, 差
round leaves to 0.1
round total to 1
A "项目决策" weight 20% {
  A1 "立项" weight 20 {
    A11 "依据" weight 20 {
      explain "考察"
      standard "符合，得满分"
      score: ok -> full; else -> 0
    }
  }
}
B weight 80: x
'''
    tree = parse(text)
    h = tree.header
    assert (h.name, h.region, h.year_from, h.year_to, h.total) == (
        "示例", "云南省", 2021, 2023, Decimal(100))
    assert [g.label for g in h.grades] == ["A[优]", "良", "中", "差"]
    assert h.grades[-1].lower is None
    assert [(r.target, r.step) for r in h.rounding] == [("leaves", Decimal("0.1")),
                                                        ("total", Decimal(1))]
    a = tree.indicators[0]
    assert a.weight == n.Number(Decimal("0.2"), True)
    a11 = a.children[0].children[0]
    assert (a11.explain, a11.standard) == ("考察", "符合，得满分")


def test_rules_continue_after_semicolons_and_inside_brackets():
    text = "X weight 5: r >= 90% -> 5;\n   r >= 80% -> 4;\n   else -> min(1,\n 2)\n"
    assert len(parse(text).indicators[0].rule.clauses) == 3


def test_step_modes_and_directions():
    text = ("A weight 1: r >= 1 -> full; per started 1% below -> -1\n"
            "B weight 1: r >= 1 -> full; pro rata 1% below 95% -> -1 from 1\n"
            "C weight 1: r == 1 -> full; per whole 5% off -> -1\n")
    a, b, c = (x.rule.clauses[1] for x in parse(text).indicators)
    assert (a.mode, b.mode, c.mode) == (n.STEP_STARTED, n.STEP_PRO_RATA, n.STEP_WHOLE)
    assert b.reference == n.Number(Decimal("0.95"), True) and b.base == n.Number(Decimal(1))
    assert c.direction == "off"


def test_chinese_names_points_and_unicode_operators():
    text = ('fact 满意度: percent "满意度"\n'
            'X weight 2 {\n  point ① weight 1: 满意度 ≥ 90% → full; else → 0\n'
            '  point ② share 1/2: 满意度 × 2 ≤ 1 -> 0; else -> full\n}\n')
    leaf = parse(text).indicators[0]
    assert [p.label for p in leaf.points] == ["①", "②"]
    assert leaf.points[0].rule.clauses[0].condition.op == ">="
    assert leaf.points[1].is_share


def _errors(text):
    with pytest.raises(SetError) as info:
        parse(text, "t.ind")
    return info.value.diagnostics


def test_syntax_error_has_location_caret_and_hint():
    (d,) = _errors("X weight 5: x = 1 -> full\n")
    assert (d.file, d.line, d.column) == ("t.ind", 1, 15)
    assert "==" in d.hint
    rendered = d.render()
    assert rendered.splitlines()[0].startswith("t.ind:1:15: error:")
    assert rendered.splitlines()[2].strip() == "^"


def test_all_syntax_errors_of_a_file_are_reported():
    text = ("A weight 1: x -> full; else -> 0\n"
            "B weight 1: x -> ; else -> 0\n"
            "C weight 1: x -> full; else -> 0\n"
            "D weight: x\n"
            "E weight 1: y -> full; else -> 0\n")
    lines = [d.line for d in _errors(text)]
    assert lines == [2, 4]


def test_full_width_punctuation_is_read_where_it_cannot_be_ambiguous():
    plain = parse('X weight 5: rate(a, t) >= 1 -> full; else -> 0\n')
    wide = parse('X weight 5：rate（a，t） >= 1 -> full；else -> 0\n')
    assert wide == plain


def test_other_full_width_punctuation_gets_a_hint():
    (d,) = _errors('X weight 5: x == “有效” -> full; else -> 0\n')
    assert "“" in d.message and "ASCII" in d.hint
    (d,) = _errors("X weight 5: x -> full; else -> 0。\n")
    assert "。" in d.message and "full stop" in d.hint


def test_unclosed_block_is_reported_at_the_end():
    diags = _errors('A "组" weight 1 {\n  A1 weight 1: x -> full; else -> 0\n')
    assert any("ends too early" in d.message and "'}'" in d.message for d in diags)


def test_incomplete_rule_points_at_the_dangling_token():
    diags = _errors("X weight 1: r >=\nY weight 1: x\n")
    assert diags[0].line == 1


def test_nesting_limit():
    deep = "(" * 200 + "1" + ")" * 200
    diags = _errors(f"X weight 1: {deep}\n")
    assert "nested" in diags[0].message


def test_binary_and_bad_encodings_are_refused():
    with pytest.raises(SetError, match="NUL"):
        decode_source(b"X weight 1: 1\x00", "b.ind")
    with pytest.raises(SetError, match="UTF-8"):
        decode_source("X weight 1: 1 # 注释".encode("gbk"), "g.ind")
    assert decode_source("\ufeffX".encode("utf-8"), "bom.ind") == "X"


def test_keyword_as_name_gets_a_hint():
    diags = _errors("X weight 1: each > 3 -> full; else -> 0\n")
    assert diags[0].line == 1 and "keyword" in (diags[0].hint or "")


def test_duplicate_header_is_an_error():
    diags = _errors('set "a"\nset "b"\nX weight 1: 1\n')
    assert "given twice" in diags[0].message


def test_rounding_in_decimals_or_steps():
    tree = parse("round leaves to 1 decimal\nround groups to 0.5\nround total to 0 decimals\n"
                 "X weight 1: 1\n")
    assert [(r.target, r.step) for r in tree.header.rounding] == [
        ("leaves", Decimal("0.1")), ("groups", Decimal("0.5")), ("total", Decimal(1))]


# ------------------------------------------------ recovery keeps the other checks

MISSING_SEMICOLON = """\
fact rate: percent "执行率"
B1 weight 80: rate >= 95% -> full
              rate < 60% -> 0;
              per 1% below -> -1% of weight; floor 0
B2 weight 20: rate >= 95% -> full
else -> 0
"""


def test_a_missing_semicolon_at_a_line_end_is_named_and_the_rule_read_whole():
    from indicator_dsl.api import check_text

    with pytest.raises(SetError) as info:
        check_text(MISSING_SEMICOLON, "s.ind")
    found = info.value.diagnostics
    assert [(d.line, d.message) for d in found] == [
        (2, "line 3 continues the rule above, but line 2 does not end with ';'"),
        (5, "line 6 continues the rule above, but line 5 does not end with ';'")]
    assert found[0].column == len("B1 weight 80: rate >= 95% -> full") + 1
    assert "end line 2 with ';'" in found[0].hint
    # read with the ';' in place, so no check error follows from the slip
    assert not any("no clause" in d.message for d in found)


def test_a_semicolon_is_not_suggested_before_a_new_statement():
    with pytest.raises(SetError) as info:
        parse("A weight 5: ok -> full\nB weight 5 ok -> full\n", "s.ind")
    assert "does not end with ';'" not in info.value.diagnostics[0].message


SEVERAL_PROBLEMS = """\
total 100
fact rate: percent "执行率"
fact done: bool "完成"
A "决策" weight 40 {
  A1 weight 20: rate >= 95% -> full; else -> 0
  A2 weight 15: done -> full; else -> 0
}
B "过程" weight 50 {
  B1 weight 25: rat >= 1 -> full; else -> 0
  B2 weight 25 : done -> full; else -> 0 ;;
}
C weight 10: rate >= 95% -> full
"""


def test_a_syntax_error_does_not_hide_the_checks_of_the_parts_that_parsed():
    from indicator_dsl.api import check_text

    with pytest.raises(SetError) as info:
        check_text(SEVERAL_PROBLEMS, "s.ind")
    by_line = {(d.line, d.severity): d.message for d in info.value.diagnostics}
    assert "add up to 35" in by_line[(4, "error")]           # A's weights: A lost no line
    assert "did you mean 'rate'" in by_line[(9, "error")]     # B1's name, beside the bad B2
    assert "unexpected ';'" in by_line[(10, "error")]         # the syntax error itself
    assert "no clause of C applies" in by_line[(12, "error")]  # C's bands
    # B lost B2's line: its weights cannot be judged, so nothing is said of them
    assert (8, "error") not in by_line


def test_a_lost_declaration_silences_unknown_name_errors():
    from indicator_dsl.api import check_text

    text = 'fact rate percent "执行率"\nA weight 5: rate >= 95% -> full; else -> 0\n'
    with pytest.raises(SetError) as info:
        check_text(text, "s.ind")
    assert [d.line for d in info.value.diagnostics] == [1]
