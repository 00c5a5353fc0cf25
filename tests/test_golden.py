"""Golden cases: every construct of docs/language.md with hand-computed, exact results.

Each file in tests/golden/cases/ holds the cases of one construct family::

    cases:
      - name: a short unique name
        set: |                      # the .ind text
          ...
        facts: {...}                # a mapping (dumped to YAML) or a literal YAML text
        expect:                     # a successful evaluation
          scores: {CODE: 4.8, OTHER: na}    # na: not applicable
          total: 4.8                # null: no total
          grade: 优                 # null: no grade (checked only when given)
          ok: true                  # default true
          warnings: {CODE: ["偏离度"]}      # fragments of the leaf's warnings ([]: none)
          set_warnings: ["name"]    # fragments of the set's check warnings ([]: none)
          header: {set_name: …, region: …, years: [2020, 2020], source: …}
          details: {CODE: {explain: …, standard: …, notes: […]}}   # kept verbatim
          shown: {CODE: ["李四"]}   # fragments of the leaf's justification or values
      # or
        expect_error:               # a runtime error inside the evaluation
          code: C114                # optional: that indicator's status is 'error'
          contains: "target"        # a fragment (or a list) of one error message
          scores: {...}             # optional: the indicators that still scored
      # or
        expect_check_error:         # a static error: loads_set raises SetError
          line: 3
          contains: "did you mean"  # a fragment (or a list) of one diagnostic's message
          hint: "=="                # optional fragment of that diagnostic's hint
          excludes: "(with )"       # optional fragment(s) the message must not contain

Facts always go through the real YAML loader (``loads_facts``), so ``93.5%``,
``2,128,504.6元`` and ``是`` are read exactly as from a facts file. Expected values
are compared as ``Decimal(str(value))``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from indicator_dsl import (Evaluation, FactsError, IndicatorError, SetError, loads_facts,
                           loads_set)

CASES_DIR = Path(__file__).parent / "golden" / "cases"
OUTCOMES = ("expect", "expect_error", "expect_check_error")


def _files():
    return sorted(CASES_DIR.glob("*.yaml"))


def _cases():
    for path in _files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield pytest.param(path.stem, case, id=f"{path.stem}:{case['name']}")


ALL = list(_cases())


def _dec(value) -> Decimal:
    return Decimal(str(value))


def _fragments(value):
    return [value] if isinstance(value, str) else list(value)


def _facts_text(case) -> str:
    facts = case.get("facts", {})
    if isinstance(facts, str):
        return facts
    return yaml.safe_dump(facts, allow_unicode=True, sort_keys=False)


def _load(case):
    return loads_set(case["set"], f"{case['name']}.ind")


def _evaluate(case) -> Evaluation:
    scorer = _load(case)
    facts = loads_facts(_facts_text(case), "facts.yaml", ".yaml")
    return scorer.evaluate(facts)


def _show(evaluation: Evaluation) -> str:
    rows = [f"total={evaluation.total} grade={evaluation.grade}"]
    for r in evaluation.indicators:
        rows.append(f"  {r.code}: {r.status} {r.score} {r.explanation!r} "
                    f"{r.error.message if r.error else ''}")
    rows += [d.render() for d in evaluation.diagnostics]
    return "\n".join(rows)


def _check_scores(evaluation: Evaluation, scores: dict):
    results = evaluation.by_code()
    for code, expected in scores.items():
        assert code in results, f"no indicator {code}"
        got = results[code]
        if expected == "na":
            assert got.status == "not_applicable", (code, got.status, _show(evaluation))
            assert got.score is None
        else:
            assert got.status == "scored", (code, got.status, _show(evaluation))
            assert got.score == _dec(expected), (code, got.score, expected, _show(evaluation))


def _check_success(case, expect):
    scorer = _load(case)
    messages = [f"{w.message} {w.hint or ''}" for w in scorer.warnings]
    if expect.get("set_warnings") == []:
        assert not messages, messages
    for fragment in expect.get("set_warnings", []):
        assert any(fragment in m for m in messages), (fragment, messages)
    facts = loads_facts(_facts_text(case), "facts.yaml", ".yaml")
    evaluation = scorer.evaluate(facts)
    if expect.get("ok", True):
        assert evaluation.ok, _show(evaluation)
    else:
        assert not evaluation.ok, _show(evaluation)
    _check_scores(evaluation, expect.get("scores", {}))
    if "total" in expect:
        if expect["total"] is None:
            assert evaluation.total is None, _show(evaluation)
        else:
            assert evaluation.total == _dec(expect["total"]), _show(evaluation)
    if "grade" in expect:
        assert evaluation.grade == expect["grade"], _show(evaluation)
    header = expect.get("header", {})
    for field in ("set_name", "region", "source"):
        if field in header:
            assert getattr(evaluation, field) == header[field]
    if "years" in header:
        assert evaluation.years is not None and list(evaluation.years) == header["years"]
    results = evaluation.by_code()
    for code, details in expect.get("details", {}).items():
        for field in ("explain", "standard"):
            if field in details:
                assert getattr(results[code], field) == details[field]
        if "notes" in details:
            assert list(results[code].notes) == details["notes"]
    for code, fragments in expect.get("shown", {}).items():
        # what a report shows beside the score: the justification and the values used
        result = results[code]
        shown = result.explanation + " " + " ".join(f"{k} {v}" for k, v in result.values.items())
        for fragment in fragments:
            assert fragment in shown, (fragment, shown)
    for code, fragments in expect.get("warnings", {}).items():
        warnings = evaluation.by_code()[code].warnings
        if not fragments:
            assert not warnings, warnings
        for fragment in fragments:
            assert any(fragment in w for w in warnings), (fragment, warnings)


def _check_runtime_error(case, expect):
    fragments = _fragments(expect["contains"])
    try:
        evaluation = _evaluate(case)
    except FactsError as exc:  # a value the loader itself refuses
        assert "code" not in expect, exc.render()
        messages = [d.message for d in exc.errors]
        assert any(all(f in m for f in fragments) for m in messages), (fragments, messages)
        return
    assert not evaluation.ok, _show(evaluation)
    if "code" in expect:
        result = evaluation.by_code()[expect["code"]]
        assert result.status == "error", _show(evaluation)
        assert result.score is None
        message = result.error.message
        assert all(f in message for f in fragments), (fragments, message)
    else:
        messages = [d.message for d in evaluation.errors]
        assert any(all(f in m for f in fragments) for m in messages), (fragments, messages)
    _check_scores(evaluation, expect.get("scores", {}))


def _check_static_error(case, expect):
    with pytest.raises(SetError) as info:
        _load(case)
    fragments = _fragments(expect["contains"])
    errors = info.value.errors
    excluded = _fragments(expect.get("excludes", []))
    found = [d for d in errors if d.line == expect["line"]
             and all(f in d.message for f in fragments)
             and not any(f in d.message for f in excluded)]
    assert found, (expect, [(d.line, d.message, d.hint) for d in errors])
    if "hint" in expect:
        assert any(d.hint and expect["hint"] in d.hint for d in found), \
            [(d.message, d.hint) for d in found]


@pytest.mark.parametrize("family,case", ALL)
def test_golden(family, case):
    outcomes = [k for k in OUTCOMES if k in case]
    assert len(outcomes) == 1, f"a case has exactly one of {OUTCOMES}"
    if "expect" in case:
        _check_success(case, case["expect"])
    elif "expect_error" in case:
        _check_runtime_error(case, case["expect_error"])
    else:
        _check_static_error(case, case["expect_check_error"])


def _in_chinese(case):
    """The case with its set rewritten in the Chinese keywords by `fmt --keywords zh`."""
    from indicator_dsl.formatter import format_text

    chinese = format_text(case["set"], f"{case['name']}.ind", "zh")
    assert chinese != case["set"] or "权重" in case["set"]
    return {**case, "set": chinese}


SCORED = [p for p in ALL if "expect_check_error" not in p.values[1]]


@pytest.mark.parametrize("family,case", SCORED)
def test_golden_in_chinese_keywords(family, case):
    """Every scored golden case gives the same result with its set in Chinese keywords."""
    chinese = _in_chinese(case)
    if "expect" in case:
        _check_success(chinese, case["expect"])
    else:
        _check_runtime_error(chinese, case["expect_error"])


def test_case_files_are_well_formed():
    assert len(ALL) >= 120
    for path in _files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = [c["name"] for c in doc["cases"]]
        assert len(names) == len(set(names)), f"duplicate case names in {path.name}"
        for case in doc["cases"]:
            assert set(case) <= {"name", "set", "facts", *OUTCOMES}, (path.name, case["name"])


def test_every_family_is_present():
    families = {p.stem for p in _files()}
    assert {"steps", "bands", "levels", "points", "each", "let", "functions", "facts_types",
            "not_applicable", "rounding", "grades", "lookup", "errors",
            "check_errors"} <= families


def test_the_runner_catches_a_wrong_score():
    """The comparison itself is not a tautology: a wrong expectation fails."""
    case = {"name": "probe", "set": "fact v: number\nA weight 5: assess(v, 0, weight)\n",
            "facts": {"indicators": {"A": {"v": 3}}}}
    _check_success(case, {"scores": {"A": 3}, "total": 3})
    with pytest.raises(AssertionError):
        _check_success(case, {"scores": {"A": "3.01"}})
    with pytest.raises(AssertionError):
        _check_success(case, {"scores": {"A": "na"}})


def test_an_indicator_error_is_never_hidden_by_the_runner():
    with pytest.raises(IndicatorError):
        _load({"name": "broken", "set": "A weight 5: ->\n"})
