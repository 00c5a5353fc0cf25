"""Generated code (codegen.py, fastpath.py) against the closure interpreter (compiler.py).

The interpreter is the reference: every golden case (tests/golden/cases, every shipped
set's cases, the conformance list) and hypothesis-generated facts for every shipped set
and every golden set must give the same scores, statuses, clauses, justifications,
values, warnings and errors — compared as text, so a 4.80 for a 4.8 fails too. Then
the generated code's own promises: a let an untaken branch needs is never computed,
hostile or huge values are errors not tracebacks, no text of a set reaches the code.
"""

from __future__ import annotations

import ast
import decimal
import gc
import io
import re
import tokenize
import weakref
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicator_dsl import (EvaluationError, Facts, FactsError, SetError, load_set, loads_facts,
                           loads_set)
from indicator_dsl.casefiles import CaseRunner
from indicator_dsl.codegen import FLAGGED
from indicator_dsl.compiler import Frame, RuleFailure
from indicator_dsl.evaluator import Evaluator
from indicator_dsl.numbers import CONTEXT, round_in_context
from indicator_dsl.properties import fact_strategy
from indicator_dsl.render import evaluation_dict

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SHIPPED = sorted((ROOT / "indicator_sets").rglob("*.ind"))


# ------------------------------------------------------------------ comparing


def _plain(value):
    """Decimals as their exact text (exponent included), recursively."""
    if isinstance(value, Decimal):
        return ("D", str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def snapshot(ev) -> dict:
    """Everything an evaluation shows, as comparable data."""
    out = {
        "total": _plain(ev.total), "unrounded_total": _plain(ev.unrounded_total),
        "grade": ev.grade, "max": _plain(ev.max), "rescaled": ev.rescaled, "ok": ev.ok,
        "set": (ev.set_name, ev.region, ev.years, ev.source, ev.set_path, ev.facts_path),
        "project": _plain(ev.project),
        "diagnostics": [(d.severity, d.message, d.file, d.line, d.column, d.source_line,
                         d.hint, d.code, d.message_cn) for d in ev.diagnostics],
        "json": _plain(evaluation_dict(ev)),
    }
    rows = []
    for r in ev.indicators:
        rows.append({
            "code": r.code, "status": r.status, "score": _plain(r.score),
            "unrounded": _plain(r.unrounded), "clause": r.clause,
            "explanation": r.explanation, "raw_values": _plain(r.raw_values),
            "values": r.values, "warnings": list(r.warnings), "error": r.error,
            "rescaled": r.rescaled, "published": _plain(r.published),
            "fixed": (r.name, r.parent, r.level, _plain(r.weight), r.is_leaf, r.explain,
                      r.standard, list(r.notes), r.source, r.line, list(r.origin)),
        })
    out["indicators"] = rows
    return out


def _scores_both(evaluator: Evaluator, facts):
    def run(fn):
        try:
            return "ok", _plain(fn(facts))
        except EvaluationError as exc:
            return "error", [d.render() for d in exc.diagnostics]

    return run(evaluator.scores), run(evaluator.scores_interpreted)


def assert_agree(scorer, facts):
    """Generated and interpreted paths give the same evaluation and the same scores()."""
    evaluator = scorer._evaluator
    assert evaluator.fast is not None, "the set was not compiled to code"
    fast = evaluator.evaluate(facts)
    slow = evaluator.evaluate_interpreted(facts)
    # really the compact result (facts with a point's own table are interpreted)
    assert fast._lazy is not None or facts.points
    # the summary a batch row reads, before any result object is made
    brief = [(status, _plain(score), list(warnings)) for status, score, warnings in fast.brief()]
    assert brief == [(r.status, _plain(r.score), list(r.warnings)) for r in slow.indicators]
    a, b = snapshot(fast), snapshot(slow)
    if a != b:  # show the first difference readably
        for key in b:
            if key == "indicators":
                for x, y in zip(a[key], b[key]):
                    assert x == y, x["code"]
            assert a[key] == b[key], key
    fast_scores, slow_scores = _scores_both(evaluator, facts)
    assert fast_scores == slow_scores
    assert_leaves_agree(evaluator, facts)


def assert_leaves_agree(evaluator: Evaluator, facts):
    """Each generated leaf function: the same unrounded score, clause, fact values read
    (the same set of facts: what the justification lists) and the same failures."""
    program = evaluator.fast.program
    na = facts.not_applicable
    if facts.points:  # a point's own table is read by the interpreter, never by generated code
        return
    for layout, fn in zip(program.leaves, program.leaf_functions):
        if any(code in na for code in layout.chain):
            continue
        plan = layout.plan
        frame = Frame(plan, facts)
        with decimal.localcontext(CONTEXT):
            try:
                decision = plan.run(frame)
                want = ("ok", _plain(decision.score), decision.na, decision.clause,
                        _plain(frame.fact_values))
            except (RuleFailure, ArithmeticError):
                want = ("failed",)
            try:
                raw, clause, *values = fn(facts.indicators, facts.project)
                got = ("ok", _plain(raw), raw is None,
                       layout.clause_texts[clause & ~FLAGGED], _plain(values))
            except Exception:
                got = ("failed",)
        assert got == want, layout.code


# ------------------------------------------------------------- golden cases


def _golden_cases():
    for path in sorted((GOLDEN / "cases").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            if "expect_check_error" in case:
                continue
            yield pytest.param(case, id=f"{path.stem}:{case['name']}")


def _case_facts_text(case) -> str:
    facts = case.get("facts", {})
    if isinstance(facts, str):
        return facts
    return yaml.safe_dump(facts, allow_unicode=True, sort_keys=False)


GOLDEN_CASES = list(_golden_cases())


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_cases_agree(case):
    scorer = loads_set(case["set"], f"{case['name']}.ind")
    try:
        facts = loads_facts(_case_facts_text(case), "facts.yaml", ".yaml")
    except FactsError:
        return  # refused by the loader: no evaluation to compare
    assert_agree(scorer, facts)


def _set_cases():
    for path in sorted((ROOT / "indicator_sets").rglob("*.cases.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(doc["cases"]):
            yield pytest.param(path, i, id=f"{path.relative_to(ROOT)}:{i}")


@pytest.mark.parametrize("path,index", list(_set_cases()))
def test_shipped_set_cases_agree(path, index):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    stem = path.name[: -len(".cases.yaml")]
    scorer = load_set(path.parent / str(doc.get("set") or f"{stem}.ind"))
    facts = CaseRunner()._facts(path, doc["cases"][index])
    assert_agree(scorer, facts)


def _conformance():
    cases = yaml.safe_load((GOLDEN / "conformance.yaml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((GOLDEN / "conformance_rules.yaml").read_text(encoding="utf-8"))
    for case in cases["cases"]:
        for i, example in enumerate(case["examples"]):
            yield pytest.param(rules[case["id"]], case, example, id=f"{case['id']}-{i}")


@pytest.mark.parametrize("text,case,example", list(_conformance()))
def test_conformance_agrees(text, case, example):
    scorer = loads_set(text, f"{case['id']}.ind")
    if case["id"] == "not-applicable":
        facts = {"indicators": {"A": "na", "B": {"assessed": 72}}}
    else:
        leaf = "C114" if case["id"] == "design-card" else "X"
        values = {k: Decimal(repr(v)) if isinstance(v, float) else v
                  for k, v in example["facts"].items()}
        facts = {"indicators": {leaf: values}}
    assert_agree(scorer, Facts.from_mapping(facts))


# ------------------------------------------------------- generated facts


_MISSING = object()
_WILD = st.one_of(
    st.none(), st.booleans(), st.sampled_from(["", "abc", "12%", "1,234", "是", "否", "95",
                                               "有效执行", "212.85万元", "na"]),
    st.sampled_from([Decimal(0), Decimal("-1"), Decimal("0.5"), Decimal(150), Decimal("1e30"),
                     Decimal("1e-30"), Decimal("-1e30"), Decimal("3.00"), Decimal("1E+2")]),
    st.integers(-5, 200), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.lists(st.integers(0, 100), max_size=3), st.just({}), st.just(_MISSING))


def _value_strategy(info, wild: bool):
    valid = fact_strategy(info)
    if not wild:
        return valid
    return st.one_of(valid, valid, _WILD)


def facts_strategy(scorer, wild: bool):
    """A facts mapping for every leaf of a set: values from the declarations (and, when
    wild, values of every wrong kind, missing facts, not-applicable marks), placed under
    the leaf, an ancestor or the project, as a facts file may place them."""
    plans = scorer._evaluator.plans
    codes = [node.code for node in scorer.checked.walk()]
    parts = []
    for code, plan in plans.items():
        for name, info, _, _ in plan.fact_slots:
            where = st.sampled_from(list(plan.chain) + [None]) if wild else st.just(code)
            parts.append(st.tuples(st.just(name), where, _value_strategy(info, wild)))
    na = st.lists(st.sampled_from(codes), max_size=2) if wild and codes else st.just([])

    def build(args):
        entries, na_codes = args
        mapping = {"indicators": {}}
        for name, code, value in entries:
            if value is _MISSING:
                continue
            if code is None:
                mapping.setdefault(name, value)
            else:
                mapping["indicators"].setdefault(code, {}).setdefault(name, value)
        for code in na_codes:
            mapping["indicators"][code] = "na"
        return mapping

    return st.tuples(st.tuples(*parts), na).map(build)


def _facts_or_none(mapping):
    try:
        return Facts.from_mapping(mapping)
    except FactsError:
        return None


def _golden_sets():
    seen = {}
    for param in GOLDEN_CASES:
        case = param.values[0]
        seen.setdefault(case["set"], case["name"])
    return [pytest.param(text, id=name) for text, name in seen.items()]


SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("wild", [False, True], ids=["valid", "wild"])
def test_generated_facts_agree_on_shipped_sets(path, wild):
    scorer = load_set(path)

    @settings(max_examples=40, **SETTINGS)
    @given(facts_strategy(scorer, wild))
    def check(mapping):
        facts = _facts_or_none(mapping)
        if facts is not None:
            assert_agree(scorer, facts)

    check()


@pytest.mark.parametrize("text", _golden_sets())
def test_generated_facts_agree_on_golden_sets(text):
    try:
        scorer = loads_set(text)
    except SetError:
        return

    @settings(max_examples=12, **SETTINGS)
    @given(facts_strategy(scorer, True))
    def check(mapping):
        facts = _facts_or_none(mapping)
        if facts is not None:
            assert_agree(scorer, facts)

    check()


# ------------------------------------------------- the generated code itself


def test_a_let_only_an_untaken_branch_needs_is_never_computed():
    scorer = loads_set("fact actual, target: count\n"
                       "C weight 5: let r = ratio(actual, target); target == 0 -> 0; "
                       "r >= 1 -> full; else -> 2\n")
    facts = Facts.from_mapping({"indicators": {"C": {"actual": 3, "target": 0}}})
    assert scorer.scores(facts)["C"] == 0
    ev = scorer.evaluate(facts)
    assert ev.ok and ev.total == 0
    # the generated code itself scored it (no fall-back to the interpreter)
    program = scorer._evaluator.fast.program
    raw, clause, *values = program.leaf_functions[0](facts.indicators, facts.project)
    assert raw == 0 and program.leaves[0].clause_texts[clause] == "target == 0 -> 0"
    assert_agree(scorer, facts)
    # …and when the branch is taken, the division by zero is the interpreter's error
    facts = Facts.from_mapping({"indicators": {"C": {"actual": 3, "target": 0}}})
    other = loads_set("fact actual, target: count\n"
                      "C weight 5: let r = ratio(actual, target); r >= 1 -> full; else -> 2\n")
    ev = other.evaluate(facts)
    assert not ev.ok and "division by zero" in ev.leaves()[0].error.message
    assert_agree(other, facts)


def test_and_or_compute_their_right_side_only_when_needed():
    scorer = loads_set("fact a, b: number\nfact y: bool\n"
                       "C weight 5: y or ratio(a, b) > 1 -> full; else -> 0\n"
                       "D weight 5: not y and ratio(a, b) > 1 -> full; else -> 0\n")
    facts = Facts.from_mapping({"indicators": {"C": {"y": True, "a": 1, "b": 0},
                                               "D": {"y": True, "a": 1, "b": 0}}})
    assert scorer.scores(facts) == {"C": 5, "D": 0, "total": 5}
    assert_agree(scorer, facts)
    # the justification lists only the facts that were read
    assert scorer.evaluate(facts).by_code()["C"].values.keys() == {"y"}


def test_hostile_and_huge_values_are_errors_not_tracebacks(cli, tmp_path):
    scorer = loads_set("fact a, t: number\n"
                       "A weight 5: a * a * a >= 1 -> full; else -> 0\n"
                       "B weight 5: ratio(a, t) <= 1 -> full; per 5% above -> -0.1; floor 0\n"
                       "C weight 5 bonus: a * a\n")
    for a, t in [(Decimal("1e30"), Decimal("1e-30")), (Decimal("-1e30"), Decimal(3)),
                 (Decimal("9" * 30), Decimal("1e-29"))]:
        facts = Facts.from_mapping({"a": a, "t": t})
        ev = scorer.evaluate(facts)
        assert not ev.ok
        assert all(d.message for d in ev.errors)
        with pytest.raises(EvaluationError):
            scorer.scores(facts)
        assert_agree(scorer, facts)
    set_file = tmp_path / "huge.ind"
    set_file.write_text("fact a: number\nC weight 5 bonus: a * a\n", encoding="utf-8")
    facts_file = tmp_path / "huge.yaml"
    facts_file.write_text("a: " + "9" * 30 + "\n", encoding="utf-8")
    done = cli("eval", str(set_file), str(facts_file))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "overflow or are invalid" in done.stdout + done.stderr


_LOCAL_NAME = re.compile(r"^(v\d+_[a-z]+\d*|s\d+|g\d+|full_|ok|total|groups|ind|proj|skip|"
                         r"facts|saved|data)$")
_GLOBAL_NAME = re.compile(r"^(__builtins__|_k\d+|_cv\d+_\d+|_leaf\d+|_scores|_evaluate|_CTX|"
                          r"_[A-Z]+(_[A-Z]+)?|_[A-Z]?[a-z]+(_[a-z]+)?)$")
HOSTILE = '''fact __import__, exec: number "a\\"b\\n'); import os"
fact __builtins__: level("x\\"y", "z\\nw")
fact eval: bool "'''  '''"
let open "let's" = ratio(__import__, exec)
__class__ "x\\ny\\"" weight 5: exec == 0 -> 0; open >= 1 -> full; per 5% below -> -0.1; floor 0
os.system "q" weight 5: __builtins__ == "x\\"y" -> full; eval -> 2; else -> 0
'''


def test_no_text_of_the_set_reaches_the_generated_code():
    scorer = loads_set(HOSTILE, "hostile.ind")
    program = scorer._evaluator.fast.program
    tree = program.tree
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            assert node.value is None or isinstance(node.value, (bool, int)), node.value
        if isinstance(node, ast.Name):
            assert node.id in program.constants or _LOCAL_NAME.match(node.id), node.id
        if isinstance(node, ast.FunctionDef):
            assert _GLOBAL_NAME.match(node.name), node.name
        if isinstance(node, ast.Attribute):
            assert node.attr in {"get", "value", "quantize", "to_integral_value", "__class__",
                                 "not_applicable", "indicators", "project", "points"}
    assert all(_GLOBAL_NAME.match(name) for name in program.constants), program.constants
    source = ast.unparse(tree)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    assert not [t for t in tokens if t.type == tokenize.STRING]
    words = {t.string for t in tokens if t.type == tokenize.NAME}
    for text in ("__import__", "exec", "eval", "__builtins__", "open", "os", "system", "import"):
        assert text not in words, text
    for text in ("let's", 'x"y', "z\nw", "a\"b"):
        assert text not in source, text
    for fn in program.leaf_functions + [program.scores_all, program.evaluate_all,
                                        program.scores_entry]:
        assert fn.__globals__["__builtins__"] == {}
        assert all(not isinstance(c, str) for c in fn.__code__.co_consts)
    # …and it scores right
    facts = {"indicators": {"__class__": {"__import__": 3, "exec": 4},
                            "os.system": {"__builtins__": 'x"y', "eval": False}}}
    assert scorer.scores(facts) == {"__class__": Decimal("4.5"), "os.system": 5,
                                    "total": Decimal("9.5")}
    assert_agree(scorer, Facts.from_mapping(facts))


def test_every_shipped_and_golden_set_is_compiled_to_code():
    for path in SHIPPED:
        assert load_set(path)._evaluator.fast is not None, path
    for param in _golden_sets():
        try:
            scorer = loads_set(param.values[0])
        except SetError:
            continue
        assert scorer._evaluator.fast is not None, param.id


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8,
                   min_value=Decimal("-1e12"), max_value=Decimal("1e12")) |
       st.decimals(allow_nan=False, allow_infinity=False))
@settings(max_examples=300, **SETTINGS)
def test_leaf_rounding_by_quantize_is_round_half_up(value):
    from indicator_dsl.codegen import _quantum

    for step in ("0.1", "0.01", "1", "1E+1", "0.001"):
        step = Decimal(step)
        quantum = _quantum(step)
        with decimal.localcontext(CONTEXT):
            try:
                want = str(round_in_context(value, step))
            except ArithmeticError:
                want = "error"
            try:
                got = str(value.quantize(quantum, decimal.ROUND_HALF_UP))
            except ArithmeticError:
                got = "error"
        assert got == want, (value, step)
    assert _quantum(Decimal("0.5")) is None and _quantum(Decimal("0.10")) is None


def test_an_evaluation_keeps_no_facts_and_few_objects():
    scorer = load_set(ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind")
    mapping = yaml.safe_load((ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/"
                              "spring-festival.facts.yaml").read_text(encoding="utf-8"))
    facts = Facts.from_mapping(mapping)
    alive = weakref.ref(facts)
    ev = scorer.evaluate(facts)
    del facts
    gc.collect()
    assert alive() is None  # the evaluation does not hold the project's facts
    assert ev.total == Decimal("96.4")
    # one record; no fact objects in it
    assert all(type(v).__name__ not in ("_MappedFact", "FactValue") for v in ev._record)
    # …and it still words every justification, the same as the interpreter
    facts = Facts.from_mapping(mapping)
    assert snapshot(ev) == snapshot(scorer._evaluator.evaluate_interpreted(facts))


def test_generated_code_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("INDICATOR_INTERPRET", "1")
    scorer = loads_set("fact a: number\nC weight 5: a >= 1 -> full; else -> 0\n")
    assert scorer._evaluator.fast is None
    assert scorer.scores({"indicators": {"C": {"a": 2}}})["C"] == 5


def test_a_compact_evaluation_pickles_as_plain_worded_data():
    import pickle

    scorer = load_set(ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind")
    facts = loads_facts((ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/"
                         "spring-festival.facts.yaml").read_bytes(), "f.yaml")
    ev = scorer.evaluate(facts)
    copy = pickle.loads(pickle.dumps(ev))
    assert copy._lazy is None
    assert snapshot(copy) == snapshot(scorer._evaluator.evaluate_interpreted(facts))


def test_one_set_shared_between_threads_gives_the_same_results():
    from concurrent.futures import ThreadPoolExecutor

    scorer = load_set(ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind")
    base = yaml.safe_load((ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/"
                           "spring-festival.facts.yaml").read_text(encoding="utf-8"))
    mappings = []
    for i in range(40):
        mapping = dict(base, spent=f"{1_500_000 + i * 20_000:,}元")
        mapping["indicators"] = dict(base["indicators"], C114={"visited": 18000 + i * 10,
                                                               "expected": 18384})
        mappings.append(mapping)
    want = [(scorer.scores(m), scorer.evaluate(m).by_code()["B13"].explanation)
            for m in mappings]

    def run(mapping):
        return scorer.scores(mapping), scorer.evaluate(mapping).by_code()["B13"].explanation

    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(run, mappings)) == want


def _scores_of_mapping(scorer, mapping):
    """scores() of a plain mapping (read directly by the generated code) and the
    interpreter's scores of the same facts built by Facts.from_mapping."""
    def run(fn):
        try:
            return "ok", _plain(fn())
        except (EvaluationError, FactsError) as exc:
            return "error", [d.render() for d in exc.diagnostics]

    direct = run(lambda: scorer.scores(mapping))
    built = run(lambda: scorer._evaluator.scores_interpreted(Facts.from_mapping(mapping)))
    return direct, built


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_scores_of_a_plain_mapping_agree(path):
    scorer = load_set(path)

    @settings(max_examples=60, **SETTINGS)
    @given(facts_strategy(scorer, wild=True))
    def check(mapping):
        direct, built = _scores_of_mapping(scorer, mapping)
        assert direct == built

    check()


@pytest.mark.parametrize("text", _golden_sets())
def test_scores_of_a_plain_mapping_agree_on_golden_sets(text):
    try:
        scorer = loads_set(text)
    except SetError:
        return

    @settings(max_examples=8, **SETTINGS)
    @given(facts_strategy(scorer, wild=True))
    def check(mapping):
        direct, built = _scores_of_mapping(scorer, mapping)
        assert direct == built

    check()


def test_a_fact_given_as_none_is_given_not_looked_up_further():
    scorer = loads_set("fact actual: number\nC weight 5: actual >= 1 -> full; else -> 0\n")
    mapping = {"actual": 3, "indicators": {"C": {"actual": None}}}
    direct, built = _scores_of_mapping(scorer, mapping)
    assert direct == built and direct[0] == "error"  # "has no value", not the project's 3
    assert scorer.scores({"actual": 3, "indicators": {"C": {}}})["C"] == 5
    assert scorer.scores({"actual": 0.5})["C"] == 0  # a float, read as Decimal("0.5")
