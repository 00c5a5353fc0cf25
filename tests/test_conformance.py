"""The field guide's conformance cases: every published standard encoded, every example exact.

tests/golden/conformance.yaml is the domain's case list; conformance_rules.yaml holds
each case's encoding. A case without an encoding fails, so none is skipped silently.
"""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from indicator_dsl import loads_set
from indicator_dsl.evaluator import grade_for
from indicator_dsl.nodes import Grade
from indicator_dsl.numbers import round_half_up

HERE = Path(__file__).parent / "golden"
CASES = yaml.safe_load((HERE / "conformance.yaml").read_text(encoding="utf-8"))
RULES = yaml.safe_load((HERE / "conformance_rules.yaml").read_text(encoding="utf-8"))


def _examples():
    for case in CASES["cases"]:
        for i, example in enumerate(case["examples"]):
            yield pytest.param(case, example, id=f"{case['id']}-{i}")


def test_every_case_is_encoded():
    assert {c["id"] for c in CASES["cases"]} == set(RULES)


def _leaf(case):
    return "C114" if case["id"] == "design-card" else "X"


def _facts(value):
    # YAML gives floats for 0.935-style values; keep their written digits.
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _rules(case, spelling):
    text = RULES[case["id"]]
    if spelling == "zh":  # the same rule written in the Chinese keywords
        from indicator_dsl.formatter import format_text

        text = format_text(text, f"{case['id']}.ind", "zh")
    return text


@pytest.mark.parametrize("spelling", ["en", "zh"])
@pytest.mark.parametrize("case,example", list(_examples()))
def test_conformance(case, example, spelling):
    scorer = loads_set(_rules(case, spelling), f"{case['id']}.ind")
    if case["id"] == "not-applicable":
        result = scorer.evaluate({"indicators": {"A": "na", "B": {"assessed": 72}}})
        assert result.ok, [d.render() for d in result.errors]
        assert result.total == Decimal(str(example["total"]))
        assert result.rescaled
        return
    facts = {k: _facts(v) for k, v in example["facts"].items()}
    result = scorer.evaluate({"indicators": {_leaf(case): facts}})
    leaf = result.by_code()[_leaf(case)]
    if "error" in example:
        assert not result.ok
        assert leaf.status == "error"
        message = leaf.error.message
        expected = example["error"]
        if expected.startswith("division by zero"):
            assert "division by zero" in message and "target" in message
        else:
            assert expected in message, message
        return
    assert result.ok, [d.render() for d in result.errors]
    assert leaf.score == Decimal(str(example["score"])), leaf.explanation
    if case["weight"] is not None:
        assert leaf.weight == Decimal(str(case["weight"]))
    if example.get("warning") == "over-achievement":
        assert any("偏离度" in w for w in leaf.warnings), leaf.warnings
    else:
        assert not leaf.warnings


@pytest.mark.parametrize("example", CASES["grades"], ids=lambda e: str(e["total"]))
def test_grades(example):
    grades = (Grade("优", Decimal(90)), Grade("良", Decimal(80)), Grade("中", Decimal(60)),
              Grade("差", None))
    assert grade_for(Decimal(str(example["total"])), grades) == example["grade"]


@pytest.mark.parametrize("example", CASES["rounding"], ids=lambda e: str(e["value"]))
def test_rounding(example):
    value = round_half_up(Decimal(str(example["value"])), Decimal(str(example["to"])))
    assert value == Decimal(str(example["result"]))


def test_grades_through_a_set():
    text = "grades 优 >= 90, 良 >= 80, 中 >= 60, 差\nA weight 100: assess(v, 0, weight)\n"
    scorer = loads_set(text)
    for total, grade in [(90, "优"), ("89.99", "良"), (60, "中"), ("59.99", "差")]:
        result = scorer.evaluate({"indicators": {"A": {"v": Decimal(str(total))}}})
        assert result.grade == grade
