"""Stage: linking — imports, parametric rules, extends with overrides."""

import json
from decimal import Decimal as D

import pytest

from indicator_dsl import SetError, load_set

LIBRARY = """\
fact actual, target: count in [1, 100000]
rule completion(step, penalty): ratio(actual, target) >= 1 -> full;
                                per step below -> penalty; floor 0
rule art16(a, t): ratio(a, t) >= 1 -> full; else -> ratio(a, t) of weight;
                  flag over if ratio(a, t) > 150%
let pass_line = 60%
"""

PROVINCE = """\
set "省级模板"
year 2021 to 2023
total 100
grades 优 >= 90, 良 >= 80, 中 >= 60, 差
import "lib/rules.ind" as lib

A "产出" weight 60 {
  A1 "数量" weight 30: lib.completion(5%, -0.1)
  A2 "质量" weight 30: lib.art16(actual, target)
}
B "效益" weight 40 {
  fact sat: percent
  B1 "满意度" weight 40: sat >= 90% -> full; sat >= lib.pass_line -> 30; else -> 0
}
"""

COUNTY = """\
extends "../province.ind"
set "县级表"
override A1 weight 20
override A2: ratio(actual, target) >= 1 -> full; else -> 0
under A {
  fact on_time: bool
  A3 "时效" weight 10: on_time -> full; else -> 0
}
remove B1
under B {
  fact benefit: bool
  B2 "社会效益" weight 40: benefit -> full; else -> 0
}
"""


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "county").mkdir()
    (tmp_path / "lib" / "rules.ind").write_text(LIBRARY, encoding="utf-8")
    (tmp_path / "province.ind").write_text(PROVINCE, encoding="utf-8")
    (tmp_path / "county" / "county.ind").write_text(COUNTY, encoding="utf-8")
    return tmp_path


def test_namespaced_import_and_parametric_rules(tree):
    scorer = load_set(tree / "province.ind")
    result = scorer.evaluate({"indicators": {"A1": {"actual": 90, "target": 100},
                                             "A2": {"actual": 125, "target": 50},
                                             "B1": {"sat": "70%"}}})
    scores = {r.code: r.score for r in result.indicators}
    assert scores["A1"] == D("29.8") and scores["A2"] == 30 and scores["B1"] == 30
    assert any("偏离度" in w for w in result.by_code()["A2"].warnings)
    assert result.total == D("89.8") and result.grade == "良"


def test_selective_import(tree):
    (tree / "s.ind").write_text('from "lib/rules.ind" import completion\n'
                                "C114 weight 5: completion(5%, -0.1)\n", encoding="utf-8")
    result = load_set(tree / "s.ind").evaluate(
        {"indicators": {"C114": {"actual": 95, "target": 100}}})
    assert result.total == D("4.9")


def test_extends_with_overrides_removals_and_additions(tree):
    scorer = load_set(tree / "county" / "county.ind")
    assert scorer.codes == ["A", "A1", "A2", "A3", "B", "B2"]
    result = scorer.evaluate({"year": 2022, "indicators": {
        "A1": {"actual": 90, "target": 100}, "A2": {"actual": 99, "target": 100},
        "A3": {"on_time": True}, "B2": {"benefit": True}}})
    by = result.by_code()
    assert by["A1"].weight == 20 and by["A1"].score == D("19.8")
    assert by["A2"].score == 0  # the county's own rule, not the province's art16
    assert result.total == D("69.8") and result.grade == "中"
    assert result.set_name == "县级表" and result.years == (2021, 2023)
    assert any("weight from county.ind:3" in o for o in by["A1"].origin)
    assert any("added by county.ind" in o for o in by["A3"].origin)
    assert by["A"].origin == []


def test_overrides_are_checked_again(tree):
    (tree / "bad.ind").write_text('extends "province.ind"\noverride A1 weight 25\n',
                                  encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "bad.ind")
    assert "children add up to 55" in info.value.render()


def test_unknown_code_in_override_suggests(tree):
    (tree / "bad.ind").write_text('extends "province.ind"\noverride A11 weight 25\n',
                                  encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "bad.ind")
    d = info.value.diagnostics[0]
    assert "no indicator A11" in d.message and "A1" in d.hint and d.line == 2


def test_missing_file_and_cycle(tree):
    (tree / "a.ind").write_text('import "nope.ind" as x\nX weight 1: 1\n', encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "a.ind")
    assert "cannot find 'nope.ind'" in info.value.render()
    (tree / "b.ind").write_text('extends "c.ind"\n', encoding="utf-8")
    (tree / "c.ind").write_text('extends "b.ind"\nX weight 1: 1\n', encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "b.ind")
    assert "cycle" in info.value.render() and "b.ind → c.ind → b.ind" in info.value.render()


def test_search_path(tree, tmp_path_factory, monkeypatch):
    elsewhere = tmp_path_factory.mktemp("installed")
    (elsewhere / "shared.ind").write_text("rule yes(x): x -> full; else -> 0\n",
                                          encoding="utf-8")
    (tree / "u.ind").write_text('import "shared.ind" as shared\n'
                                "fact ok: bool\nX weight 2: shared.yes(ok)\n", encoding="utf-8")
    with pytest.raises(SetError):
        load_set(tree / "u.ind")
    monkeypatch.setenv("INDICATOR_PATH", str(elsewhere))
    assert load_set(tree / "u.ind").evaluate({"indicators": {"X": {"ok": True}}}).total == 2


def test_selective_import_of_unknown_name(tree):
    (tree / "s.ind").write_text('from "lib/rules.ind" import completoin\nX weight 1: 1\n',
                                encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "s.ind")
    assert "did you mean 'completion'?" in info.value.render()


def test_rule_arity_is_checked(tree):
    (tree / "s.ind").write_text('import "lib/rules.ind" as lib\nX weight 1: lib.completion(5%)\n',
                                encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "s.ind")
    assert "takes 2 values" in info.value.render()


def test_error_in_library_points_into_the_library(tree):
    (tree / "lib" / "broken.ind").write_text("rule r(a): ratoi(a, 1) >= 1 -> full; else -> 0\n",
                                             encoding="utf-8")
    (tree / "s.ind").write_text('import "lib/broken.ind" as b\nfact v: number\n'
                                "X weight 1: b.r(v)\n", encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tree / "s.ind")
    d = info.value.diagnostics[0]
    assert d.file.endswith("broken.ind") and "ratoi" in d.source_line


def test_year_outside_validity_warns(tree, cli):
    facts = tree / "f.yaml"
    facts.write_text("year: 2025\nindicators:\n  A1: {actual: 1, target: 1}\n"
                     "  A2: {actual: 1, target: 1}\n  B1: {sat: 95%}\n", encoding="utf-8")
    out = cli("eval", tree / "province.ind", facts, "-f", "json")
    assert out.returncode == 0
    assert "outside the set's validity (2021–2023)" in out.stderr
    assert json.loads(out.stdout)["total"] == 100


# ------------------------------------------------------------------ placement

BASE_ABC = 'total 100\nA "决策" weight 40: full\nB "过程" weight 30: full\nC "产出" weight 30: full\n'


@pytest.mark.parametrize("placed,order", [
    ('D "新增" weight 10 after A: 10', ["A", "D", "B", "C"]),
    ('D "新增" weight 10 before C: 10', ["A", "B", "D", "C"]),
    ('D "新增" 权重 10 排在 B 之后: 10', ["A", "B", "D", "C"]),
    ('D "新增" weight 10: 10', ["A", "B", "C", "D"]),
])
def test_an_added_top_level_indicator_goes_where_it_is_placed(tmp_path, placed, order):
    (tmp_path / "base.ind").write_text(BASE_ABC, encoding="utf-8")
    (tmp_path / "county.ind").write_text(
        f'extends "base.ind"\noverride C weight 20\n{placed}\n', encoding="utf-8")
    scorer = load_set(tmp_path / "county.ind")
    assert [r.code for r in scorer.checked.roots] == order
    assert scorer.total == 100


def test_an_added_group_child_can_be_placed_too(tmp_path):
    (tmp_path / "base.ind").write_text(
        'G weight 10 {\n  G1 weight 5: full\n  G2 weight 5: full\n}\n', encoding="utf-8")
    (tmp_path / "county.ind").write_text(
        'extends "base.ind"\noverride G weight 12\nunder G {\n  G0 weight 2 before G1: 2\n}\n',
        encoding="utf-8")
    scorer = load_set(tmp_path / "county.ind")
    assert [c.code for c in scorer.checked.roots[0].children] == ["G0", "G1", "G2"]


def test_a_placement_next_to_an_unknown_code_is_an_error(tmp_path):
    (tmp_path / "base.ind").write_text(BASE_ABC, encoding="utf-8")
    (tmp_path / "county.ind").write_text(
        'extends "base.ind"\noverride C weight 20\nD weight 10 after X: 10\n',
        encoding="utf-8")
    with pytest.raises(SetError) as info:
        load_set(tmp_path / "county.ind")
    assert any("placed after X" in d.message and d.line == 3 for d in info.value.diagnostics)
