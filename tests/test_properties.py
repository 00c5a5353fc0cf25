"""Property tests (hypothesis).

(a) the formatter round trip ``parse(format_set(x)) == x`` for generated expressions and
    whole sets; (b) scores stay within [0, weight] for facts inside their declared domains;
(c) whole-step rules are monotone in their ratio; (d) fuzzing: the parser, the checker,
the facts loader and the evaluator let only ``IndicatorError`` escape.

Every test runs with a fixed seed (``derandomize=True``) and a bounded number of examples.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicator_dsl import Evaluation, IndicatorError, loads_facts, loads_set
from indicator_dsl import nodes as n
from indicator_dsl.formatter import spelled, format_expr, format_set
from indicator_dsl.parser import parse


def _settings(examples: int):
    return settings(derandomize=True, deadline=None, max_examples=examples, database=None,
                    report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ------------------------------------------------------------------ strategies

# The documented reserved words (both lists), the formatter's keyword list and the function
# names: generated names avoid all of them, so a failure is never about a name.
RESERVED = set("""
set region year source total grades round fact let rule weight bonus explain standard note
score point share else per whole started pro rata below above off each from floor cap deduct
at most flag over if na and or not in of true false full to leaves groups decimals decimal
number percent count bool text money level ratio min max sum mean abs clamp linear assess
around published require after before
""".split())

NAME_POOL = ["a", "b", "rate", "actual", "target", "满意度", "完成率", "x1", "_y", "C114",
             "Ab_c", "甲", "②", "a①"]
names = st.one_of(
    st.sampled_from(NAME_POOL),
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,6}", fullmatch=True),
).filter(lambda s: s not in RESERVED)

# Texts: anything printable, including quotes, backslashes, tabs, newlines and Chinese.
texts = st.text(alphabet=st.one_of(
    st.sampled_from(list('ab 中文，；：（）"\\\t\n#%①')),
    st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
), max_size=12)
nonempty_texts = texts.filter(lambda s: s != "")

FUNCTIONS = {"ratio": (2, 2), "min": (1, 4), "max": (1, 4), "sum": (1, 4), "mean": (1, 4),
             "abs": (1, 1), "clamp": (3, 3), "linear": (3, 3), "round": (2, 2),
             "assess": (3, 3)}


def _decimals(places=4, hi=10 ** 6):
    return st.decimals(min_value=0, max_value=hi, places=places, allow_nan=False,
                       allow_infinity=False)


def _signed(d: Decimal, negative: bool) -> Decimal:
    return -d if negative else d


EXTREME_LITERALS = [Decimal("1E+30"), Decimal("1E-20"), Decimal("123456789012345678901234567890.5"),
                    Decimal("0.000000000000000000000000000001"), Decimal("100"), Decimal("1E+2")]
plain_numbers = st.builds(lambda d, neg: n.Number(_signed(d, neg)),
                          st.one_of(_decimals(), st.sampled_from(EXTREME_LITERALS)), st.booleans())
percent_numbers = st.builds(lambda d, neg: n.Number(_signed(d, neg) / 100, True),
                            _decimals(places=3, hi=1000), st.booleans())
numbers = st.one_of(plain_numbers, percent_numbers)

atoms = st.one_of(
    numbers,
    names.map(n.Name),
    texts.map(n.String),
    st.booleans().map(n.Boolean),
    st.just(n.Full()),
    st.just(n.WeightRef()),
)


def _is_literal_number(e) -> bool:
    return isinstance(e, n.Number) and e.value >= 0


def _calls(children, any_arity=False):
    def build(func):
        lo, hi = (0, 4) if any_arity else FUNCTIONS[func]
        return st.lists(children, min_size=lo, max_size=hi).map(
            lambda args: n.Call(func, tuple(args)))
    return st.sampled_from(sorted(FUNCTIONS)).flatmap(build)


def _intervals(children):
    return st.builds(n.Interval, children, children, st.booleans(), st.booleans())


def _extend(children, any_arity=False):
    return st.one_of(
        # the parser folds -<number literal>, so - is never put before a literal >= 0
        st.builds(n.Unary, st.just("-"), children.filter(lambda e: not _is_literal_number(e))),
        st.builds(n.Unary, st.just("+"), children),
        st.builds(n.Binary, st.sampled_from(["+", "-", "*", "/", "of"]), children, children),
        st.builds(n.Compare, st.sampled_from([">=", "<=", "==", "!=", ">", "<"]), children,
                  children),
        st.builds(n.Logical, st.sampled_from(["and", "or"]), children, children),
        st.builds(n.Not, children),
        _calls(children, any_arity),
        st.builds(n.InInterval, children, _intervals(children)),
    )


exprs = st.recursive(atoms, _extend, max_leaves=10)
small_exprs = st.recursive(atoms, _extend, max_leaves=4)
outcomes = st.one_of(small_exprs, st.just(n.NotApplicable()))
optional = lambda s: st.one_of(st.none(), s)  # noqa: E731

clauses = st.one_of(
    st.builds(n.Guarded, small_exprs, outcomes),
    st.builds(n.Otherwise, outcomes),
    st.builds(n.Result, small_exprs),
    st.builds(n.Step, st.sampled_from([n.STEP_WHOLE, n.STEP_STARTED, n.STEP_PRO_RATA]),
              small_exprs, st.sampled_from(["below", "above", "off", "around"]),
              optional(small_exprs), small_exprs, optional(small_exprs),
              optional(small_exprs)),
    st.just(n.Published()),
    st.builds(n.Each, small_exprs, small_exprs, optional(small_exprs)),
    st.builds(n.Floor, small_exprs),
    st.builds(n.Cap, small_exprs),
    st.builds(n.DeductAtMost, small_exprs),
    st.builds(n.Flag, optional(texts), small_exprs),
    st.builds(n.Let, names, optional(nonempty_texts), small_exprs),
)
rules = st.lists(clauses, min_size=1, max_size=5).map(lambda cs: n.Rule(tuple(cs)))

# -- declarations

UNITS = ["元", "千元", "万元", "亿元"]  # `money` alone is read as money(元)


@st.composite
def fact_decls(draw):
    kind = draw(st.sampled_from(n.FACT_TYPES))
    unit = draw(st.sampled_from(UNITS)) if kind == "money" else None
    levels = tuple(draw(st.lists(nonempty_texts, min_size=1, max_size=3, unique=True))) \
        if kind == "level" else ()
    domain = None
    if kind in ("number", "percent", "count", "money") and draw(st.booleans()):
        bound = percent_numbers if kind == "percent" else plain_numbers
        domain = draw(st.builds(n.Interval, bound, bound, st.booleans(), st.booleans()))
    decl_names = tuple(draw(st.lists(names, min_size=1, max_size=3, unique=True)))
    return n.FactDecl(decl_names, n.FactType(kind, unit, levels), domain,
                      draw(optional(nonempty_texts)))


lets = st.builds(n.Let, names, optional(nonempty_texts), small_exprs)
requires = st.builds(n.Require, small_exprs, optional(texts))

POINT_LABELS = st.one_of(st.sampled_from([chr(c) for c in range(0x2460, 0x2474)]), names,
                         nonempty_texts)


@st.composite
def points(draw, count):
    out = []
    for _ in range(count):
        is_share = draw(st.booleans())
        if is_share:
            k = draw(st.integers(1, 9))
            weight = n.Binary("/", n.Number(Decimal(1)), n.Number(Decimal(k)))
        else:
            weight = n.Number(draw(_decimals(places=2, hi=100)))
        out.append(n.Point(draw(POINT_LABELS), is_share, weight, draw(rules)))
    return tuple(out)


weights = _decimals(places=2, hi=1000).filter(lambda d: d > 0)


@st.composite
def details(draw):
    return dict(
        name=draw(optional(nonempty_texts)),
        explain=draw(optional(texts)),
        standard=draw(optional(texts)),
        notes=tuple(draw(st.lists(texts, max_size=2))),
        facts=tuple(draw(st.lists(fact_decls(), max_size=2))),
        lets=tuple(draw(st.lists(lets, max_size=2))),
        requires=tuple(draw(st.lists(requires, max_size=1))),
    )


@st.composite
def indicators(draw, code, depth, percent_ok):
    kind = draw(st.sampled_from(["leaf", "points", "group"] if depth < 2 else ["leaf", "points"]))
    extra = draw(st.one_of(st.just(None), details()))
    extra = extra or dict(name=draw(optional(nonempty_texts)))
    if kind == "group":
        children = tuple(draw(indicators(f"{code}{i + 1}", depth + 1, False))
                         for i in range(draw(st.integers(1, 3))))
        total = sum((c.weight.value for c in children), Decimal(0))
        return n.Indicator(code, weight=n.Number(total), children=children, **extra)
    if percent_ok and draw(st.booleans()):
        weight = n.Number(draw(st.integers(1, 100)) / Decimal(100), True)
    else:
        weight = n.Number(draw(weights))
    bonus = draw(st.booleans())
    if kind == "points":
        return n.Indicator(code, weight=weight, bonus=bonus,
                           points=draw(points(draw(st.integers(1, 3)))), **extra)
    return n.Indicator(code, weight=weight, bonus=bonus, rule=draw(rules), **extra)


@st.composite
def grades(draw):
    bounds = sorted(draw(st.lists(_decimals(places=2, hi=100), min_size=1, max_size=4,
                                  unique=True)), reverse=True)
    labels = draw(st.lists(st.one_of(names, nonempty_texts), min_size=len(bounds) + 1,
                           max_size=len(bounds) + 1, unique=True))
    out = [n.Grade(label, bound) for label, bound in zip(labels, bounds)]
    if draw(st.booleans()):
        out.append(n.Grade(labels[-1], None))
    return tuple(out)


@st.composite
def headers(draw):
    year_from = draw(optional(st.integers(1990, 2100)))
    year_to = None
    if year_from is not None:
        year_to = year_from + draw(st.sampled_from([0, 0, 1, 4]))
    targets = draw(st.lists(st.sampled_from(["leaves", "groups", "total"]), unique=True,
                            max_size=3))
    steps = [Decimal(s) for s in ("0.01", "0.1", "0.5", "1", "0.001")]
    return n.Header(
        name=draw(optional(texts)), region=draw(optional(texts)), year_from=year_from,
        year_to=year_to, source=draw(optional(texts)),
        total=draw(optional(weights)), grades=draw(st.one_of(st.just(()), grades())),
        rounding=tuple(n.Rounding(t, draw(st.sampled_from(steps))) for t in targets))


@st.composite
def set_files(draw):
    prefix = draw(st.sampled_from(["C", "B", "指标", "X_"]))
    roots = tuple(draw(indicators(f"{prefix}{i + 1}", 0, True))
                  for i in range(draw(st.integers(1, 3))))
    return n.SetFile(
        header=draw(headers()),
        facts=tuple(draw(st.lists(fact_decls(), max_size=3))),
        lets=tuple(draw(st.lists(lets, max_size=2))),
        indicators=roots,
        requires=tuple(draw(st.lists(requires, max_size=2))),
    )


# ------------------------------------------------------------- (a) round trip


@_settings(250)
@given(exprs)
def test_expression_round_trip(expr):
    text = f"X weight 5: {format_expr(expr)}\n"
    parsed = parse(text, "expr.ind")
    assert parsed.indicators[0].rule.clauses == (n.Result(expr),), text


@_settings(150)
@given(rules)
def test_rule_round_trip(rule):
    text = format_set(n.SetFile(n.Header(), indicators=(n.Indicator("X", None, n.Number(
        Decimal(5)), rule=rule),)))
    assert parse(text, "rule.ind").indicators[0].rule == rule, text


@_settings(60)
@given(set_files())
def test_set_round_trip(setfile):
    text = format_set(setfile)
    assert parse(text, "set.ind") == setfile, text


@_settings(25)
@given(set_files())
def test_format_is_idempotent(setfile):
    text = format_set(setfile)
    assert format_set(parse(text, "set.ind")) == text


# The same round trips written in the Chinese keywords (权重, 满分, 每低于, 扣完为止 …).

@_settings(200)
@given(exprs)
def test_expression_round_trip_in_chinese(expr):
    with spelled("zh"):
        text = f"X 权重 5: {format_expr(expr)}\n"
    parsed = parse(text, "expr.ind")
    assert parsed.indicators[0].rule.clauses == (n.Result(expr),), text


@_settings(150)
@given(rules)
def test_rule_round_trip_in_chinese(rule):
    tree = n.SetFile(n.Header(), indicators=(n.Indicator("X", None, n.Number(Decimal(5)),
                                                          rule=rule),))
    text = format_set(tree, "zh")
    assert parse(text, "rule.ind").indicators[0].rule == rule, text


@_settings(60)
@given(set_files())
def test_set_round_trip_in_chinese(setfile):
    text = format_set(setfile, "zh")
    parsed = parse(text, "set.ind")
    assert parsed == setfile, text
    assert parsed.spelling == "zh"
    assert format_set(parsed, "en") == format_set(setfile), "converting back gives English"


def test_round_trip_generators_are_not_vacuous():
    """The round trip can fail: a changed tree does not compare equal."""
    tree = parse("fact a: number\nX weight 5: a >= 1 -> full; else -> 0\n")
    other = parse("fact a: number\nX weight 5: a >= 1 -> full; else -> 1\n")
    assert tree != other
    assert parse(format_set(tree)) == tree


@pytest.mark.parametrize("text", [
    'fact x: number ""\nX weight 5: 1\n',      # an empty label
    'X "" weight 5: 1\n',                       # an empty indicator name
    'X weight 5 {\n  point "" weight 5: 1\n}\n',  # an empty point label
    'grades "" >= 1, b\nX weight 5: 1\n',      # an empty grade label
])
def test_round_trip_of_empty_texts(text):
    tree = parse(text)
    assert parse(format_set(tree)) == tree, format_set(tree)


# ------------------------------------------------- (b) scores within [0, weight]

CARD = loads_set("fact actual, target: count\n"
                 "C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; "
                 "floor 0\n", "c114.ind")

BOUNDED = {
    "threshold-decline": ("fact rate: percent in [0%, 200%]\n"
                          "X weight 2: rate < 60% -> 0; rate >= 95% -> full; "
                          "per 1% below -> -1% of weight\n", {"rate": "percent"}),
    "started": ("fact rate: percent in [0%, 200%]\n"
                "X weight 10: rate >= 100% -> full; per started 1% below -> -2; floor 0\n",
                {"rate": "percent"}),
    "pro-rata": ("fact rate: percent in [0%, 200%]\n"
                 "X weight 4: rate >= 100% -> full; pro rata 1% below -> -0.1; floor 0\n",
                 {"rate": "percent"}),
    "above": ("fact share: percent in [0%, 100%]\n"
              "X weight 15: share >= 85% -> full; share <= 70% -> 0; "
              "per 0.1% above 70% -> 0.1\n", {"share": "percent100"}),
    "off": ("fact rate: percent in [0%, 200%]\n"
            "X weight 4: rate == 100% -> full; per 5% off -> -1; floor 0\n",
            {"rate": "percent"}),
    "year-over-year": ("fact this_year, last_year: percent in [0%, 100%]\n"
                       "X weight 1: this_year <= last_year -> 0; "
                       "per 0.1% above last_year -> 0.01; cap full\n",
                       {"this_year": "percent100", "last_year": "percent100"}),
    "bands": ("fact rate: percent in [0%, 200%]\n"
              "X weight 5: rate >= 90% -> 5; rate in [80%, 90%) -> 4; rate in [70%, 80%) -> 3;"
              "\n  rate in [60%, 70%) -> 2; else -> 0\n", {"rate": "percent"}),
    "linear": ("fact rate: percent in [0%, 200%]\n"
               "X weight 10: rate < 60% -> 0; else -> linear(rate, 60%, 100%) of weight\n",
               {"rate": "percent"}),
    "deduct": ("fact findings: count in [0, 1000]\n"
               "X weight 5: each findings -> -1; deduct at most 2\n", {"findings": "count"}),
    "nested-points": (
        "fact u1, u2: count in [0, 1000]\n"
        "X weight 4 {\n"
        "  point ① share 1/2: u1 >= 3 -> 0; each u1 -> -1/3 of weight\n"
        "  point ② share 1/2: u2 >= 3 -> 0; each u2 -> -1/3 of weight\n"
        "}\n", {"u1": "count", "u2": "count"}),
    "satisfaction": (
        "fact very, fairly, neutral: count in [0, 100000]\n"
        "X weight 4 {\n"
        "  let rate = (very*100% + fairly*75% + neutral*50%) / (very + fairly + neutral + 1)\n"
        "  score: rate >= 90% -> full; per 1% below -> -5% of weight; floor 0\n"
        "}\n", {"very": "count", "fairly": "count", "neutral": "count"}),
    "levels": ('fact execution: level("有效执行", "部分执行", "未执行")\n'
               'X weight 1: execution == "有效执行" -> full; '
               'execution == "部分执行" -> 60% of weight; execution == "未执行" -> 0\n',
               {"execution": "level"}),
}
SCORERS = {key: loads_set(text, f"{key}.ind") for key, (text, _) in BOUNDED.items()}

percent_values = st.decimals(min_value=0, max_value=2, places=5)
DOMAIN = {
    "percent": percent_values,  # [0%, 200%]
    "percent100": st.decimals(min_value=0, max_value=1, places=5),
    "count": st.integers(0, 1000).map(Decimal),
    "level": st.sampled_from(["有效执行", "部分执行", "未执行"]),
}


def _score(scorer, code, facts):
    evaluation = scorer.evaluate({"indicators": {code: facts}})
    result = evaluation.by_code()[code]
    assert evaluation.ok, [d.render() for d in evaluation.errors]
    assert result.status == "scored"
    return result.score, result.weight


@_settings(300)
@given(st.integers(0, 100000), st.integers(1, 100000))
def test_design_card_within_weight(actual, target):
    score, weight = _score(CARD, "C114", {"actual": actual, "target": target})
    assert Decimal(0) <= score <= weight == Decimal(5)


@pytest.mark.parametrize("key", sorted(BOUNDED))
@_settings(40)
@given(st.data())
def test_rule_within_weight(key, data):
    _, domains = BOUNDED[key]
    facts = {name: data.draw(DOMAIN[kind], label=name) for name, kind in domains.items()}
    score, weight = _score(SCORERS[key], "X", facts)
    assert Decimal(0) <= score <= weight, facts


# ----------------------------------------------------------- (c) monotone steps

MONOTONE = {
    "threshold-decline": "rate", "started": "rate", "pro-rata": "rate", "above": "share",
    "bands": "rate", "linear": "rate",
}


@_settings(300)
@given(st.integers(1, 10000), st.integers(0, 20000), st.integers(0, 20000))
def test_design_card_monotone_in_actual(target, a, b):
    low, high = sorted((a, b))
    s_low, _ = _score(CARD, "C114", {"actual": low, "target": target})
    s_high, _ = _score(CARD, "C114", {"actual": high, "target": target})
    assert s_low <= s_high, (low, high, target)


@pytest.mark.parametrize("key", sorted(MONOTONE))
@_settings(60)
@given(percent_values, percent_values)
def test_step_rule_monotone(key, a, b):
    name = MONOTONE[key]
    if key == "above":
        a, b = min(a, 1), min(b, 1)
    low, high = sorted((a, b))
    s_low, _ = _score(SCORERS[key], "X", {name: low})
    s_high, _ = _score(SCORERS[key], "X", {name: high})
    assert s_low <= s_high, (low, high)


def test_monotone_check_can_fail():
    """A decreasing rule is caught by the same comparison."""
    scorer = loads_set("fact rate: percent in [0%, 100%]\nX weight 5: (1 - rate) of weight\n")
    s_low, _ = _score(scorer, "X", {"rate": Decimal("0.2")})
    s_high, _ = _score(scorer, "X", {"rate": Decimal("0.8")})
    assert not s_low <= s_high


# ------------------------------------------------------------------- (d) fuzzing

KEYWORDS = sorted(RESERVED | {"->", ";", ":", ",", "=", "==", ">=", "<=", "!=", ">", "<",
                              "≥", "≤", "≠", "×", "÷", "+", "-", "*", "/", "(", ")", "[",
                              "]", "{", "}", "%"})
TOKENS = st.one_of(
    st.sampled_from(KEYWORDS),
    names,
    st.decimals(min_value=-1000, max_value=10 ** 9, places=3).map(str),
    st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: f"{d}%"),
    texts.map(lambda s: '"' + s.replace('"', '\\"') + '"'),
    st.sampled_from(["\n", "\n", "  ", "\t", "# 注释\n", "；", "，", "（", "）", "：", "＝",
                     "满意度", "①", "“有效执行”", '"', "\\", "\r\n", "\x00", "\ufeff",
                     "1e5", "0x1F", "9" * 60, "weight 5", "weight 20%", "score:",
                     "point ① share 1/3:", "per 5% below -> -0.1", "-> na", "else -> 0"]),
)
token_soup = st.lists(TOKENS, max_size=40).map(" ".join)
line_soup = st.lists(st.lists(TOKENS, max_size=10).map(" ".join), max_size=8).map("\n".join)


def _only_indicator_errors(fn, *args):
    try:
        return fn(*args)
    except IndicatorError:
        return None


@_settings(200)
@given(st.text(max_size=200))
def test_parser_random_text(text):
    _only_indicator_errors(parse, text, "fuzz.ind")


@_settings(200)
@given(st.one_of(token_soup, line_soup))
def test_parser_token_soup(text):
    _only_indicator_errors(parse, text, "fuzz.ind")


@_settings(150)
@given(st.one_of(token_soup, line_soup))
def test_checker_token_soup(text):
    _only_indicator_errors(loads_set, text, "fuzz.ind")


# Rules over declared facts (functions with their documented number of arguments; other
# counts are tested below): checking only raises SetError; what passes evaluates safely.
CHECK_ATOMS = st.one_of(numbers, st.sampled_from(["a", "t", "rate", "ok", "kind", "lst"])
                        .map(n.Name), st.just(n.Full()), st.just(n.WeightRef()),
                        st.sampled_from(["有效执行", "x"]).map(n.String),
                        st.booleans().map(n.Boolean))
check_exprs = st.recursive(CHECK_ATOMS, _extend, max_leaves=6)  # arity: see below
CHECK_HEAD = ("fact a, t: count\nfact rate: percent in [0%, 200%]\nfact ok: bool\n"
              'fact kind: level("有效执行", "未执行")\nfact lst: number\n')
check_clauses = st.one_of(
    st.builds(n.Guarded, check_exprs, st.one_of(check_exprs, st.just(n.NotApplicable()))),
    st.builds(n.Otherwise, check_exprs),
    st.builds(n.Result, check_exprs),
    st.builds(n.Step, st.sampled_from([n.STEP_WHOLE, n.STEP_STARTED, n.STEP_PRO_RATA]),
              check_exprs, st.sampled_from(["below", "above", "off"]), optional(check_exprs),
              check_exprs, optional(check_exprs)),
    st.builds(n.Each, check_exprs, check_exprs, optional(check_exprs)),
    st.builds(n.Floor, check_exprs), st.builds(n.Cap, check_exprs),
    st.builds(n.DeductAtMost, check_exprs), st.builds(n.Flag, optional(texts), check_exprs),
)
CHECK_FACTS = st.fixed_dictionaries({
    "a": st.one_of(st.integers(0, 10 ** 6), st.sampled_from([Decimal("1e30"), "x", None])),
    "t": st.one_of(st.integers(0, 10 ** 6), st.just(Decimal("-1"))),
    "rate": st.one_of(st.decimals(0, 2, places=4), st.just("93.5%")),
    "ok": st.one_of(st.booleans(), st.just("是")),
    "kind": st.sampled_from(["有效执行", "未执行", "其他"]),
    "lst": st.lists(st.decimals(-100, 100, places=2), max_size=3),
})


@_settings(250)
@given(st.lists(check_clauses, min_size=1, max_size=4), st.booleans(), CHECK_FACTS)
def test_checker_and_evaluator_on_generated_rules(clause_list, bonus, facts):
    rule = n.Rule(tuple(clause_list))
    text = format_set(n.SetFile(n.Header(), indicators=(
        n.Indicator("X", None, n.Number(Decimal(5)), bonus=bonus, rule=rule),)))
    scorer = _only_indicator_errors(loads_set, CHECK_HEAD + text, "gen.ind")
    if scorer is not None:
        _evaluate_safely(scorer, {"indicators": {"X": facts}})


# Well-typed rules (numbers where numbers go, conditions where conditions go) pass the
# checker far more often, so the evaluator runs them against many facts.
NUM_NAMES = st.sampled_from(["a", "t", "rate"]).map(n.Name)
positive_literals = st.decimals(min_value=Decimal("0.01"), max_value=100, places=2).map(n.Number)
num_atoms = st.one_of(numbers, NUM_NAMES, st.just(n.Full()), st.just(n.WeightRef()),
                      st.sampled_from(["sum", "mean", "max"]).map(
                          lambda f: n.Call(f, (n.Name("lst"),))))


def _num_extend(c):
    return st.one_of(
        st.builds(n.Binary, st.sampled_from(["+", "-", "*", "/", "of"]), c, c),
        st.builds(n.Unary, st.just("-"), c.filter(lambda e: not _is_literal_number(e))),
        st.builds(lambda f, args: n.Call(f, tuple(args)), st.sampled_from(["min", "max", "sum",
                  "mean"]), st.lists(c, min_size=1, max_size=3)),
        st.builds(lambda x, y: n.Call("ratio", (x, y)), c, c),
        st.builds(lambda x: n.Call("abs", (x,)), c),
        st.builds(lambda x, lo, hi: n.Call("clamp", (x, lo, hi)), c, c, c),
        st.builds(lambda x, s: n.Call("round", (x, s)), c, positive_literals),
        st.builds(lambda x, lo, d: n.Call("linear", (x, lo, n.Number(lo.value + d.value))), c,
                  plain_numbers, positive_literals),
        st.builds(lambda x, lo, d: n.Call("assess", (x, lo, n.Number(lo.value + d.value))), c,
                  plain_numbers, positive_literals),
    )


num_exprs = st.recursive(num_atoms, _num_extend, max_leaves=5)
compares = st.builds(n.Compare, st.sampled_from([">=", "<=", "==", "!=", ">", "<"]), num_exprs,
                     num_exprs)
cond_atoms = st.one_of(
    compares,
    st.builds(lambda x, lo, d, a, b: n.InInterval(x, n.Interval(lo, n.Number(lo.value + d.value),
                                                                  a, b)),
              num_exprs, plain_numbers, positive_literals, st.booleans(), st.booleans()),
    st.just(n.Name("ok")),
    st.sampled_from(["有效执行", "未执行"]).map(
        lambda v: n.Compare("==", n.Name("kind"), n.String(v))),
)
conds = st.recursive(cond_atoms, lambda c: st.one_of(
    st.builds(n.Not, c), st.builds(n.Logical, st.sampled_from(["and", "or"]), c, c)),
    max_leaves=3)
typed_middle = st.one_of(
    st.builds(n.Guarded, conds, st.one_of(num_exprs, st.just(n.NotApplicable()))),
    st.builds(n.Floor, num_exprs), st.builds(n.Cap, num_exprs),
    st.builds(n.DeductAtMost, num_exprs), st.builds(n.Flag, optional(nonempty_texts), conds),
    st.builds(n.Let, st.sampled_from(["r", "s"]), st.none(), num_exprs),
)
typed_last = st.one_of(
    st.builds(n.Otherwise, st.one_of(num_exprs, st.just(n.NotApplicable()))),
    st.builds(n.Result, num_exprs),
    st.builds(lambda guard, mode, size, d, ref, delta, base: (guard, n.Step(mode, size, d, ref,
                                                                             delta, base)),
              compares, st.sampled_from([n.STEP_WHOLE, n.STEP_STARTED, n.STEP_PRO_RATA]),
              positive_literals, st.sampled_from(["below", "above", "off"]),
              optional(num_exprs), num_exprs, optional(num_exprs)),
    st.builds(n.Each, num_exprs, num_exprs, optional(num_exprs)),
)


def _typed_rule(middle, last):
    clauses = list(middle)
    if isinstance(last, tuple):  # a step and the guard that gives its subject
        clauses += [n.Guarded(last[0], n.Full()), last[1]]
    else:
        clauses.append(last)
    return n.Rule(tuple(clauses))


typed_rules = st.builds(_typed_rule, st.lists(typed_middle, max_size=3), typed_last)


@_settings(200)
@given(typed_rules, CHECK_FACTS)
def test_well_typed_rules_evaluate_safely(rule, facts):
    text = format_set(n.SetFile(n.Header(), indicators=(
        n.Indicator("X", None, n.Number(Decimal(5)), bonus=True, rule=rule),)))
    scorer = _only_indicator_errors(loads_set, CHECK_HEAD + text, "typed.ind")
    if scorer is not None:
        _evaluate_safely(scorer, {"indicators": {"X": facts}})


@pytest.mark.parametrize("bonus", ["", " bonus"])
@pytest.mark.parametrize("func", sorted(FUNCTIONS))
@pytest.mark.parametrize("arity", range(5))
def test_a_call_with_any_number_of_arguments_is_checked_safely(func, arity, bonus):
    args = ", ".join(["a", "5", "t", "1", "2"][:arity])
    text = f"fact a, t: count\nX weight 5{bonus}: {func}({args})\n"
    lo, hi = FUNCTIONS[func]
    if lo <= arity <= hi:
        _only_indicator_errors(loads_set, text, "arity.ind")
    else:
        with pytest.raises(IndicatorError) as info:
            loads_set(text, "arity.ind")
        assert any(func in d.message for d in info.value.errors), info.value.render()


VALID_PREFIX = "fact a, t: count\nfact rate: percent\nX weight 5: "


@_settings(200)
@given(st.lists(TOKENS, max_size=12).map(" ".join))
def test_checker_rule_soup(rule_text):
    """Rule-shaped soup after a valid head reaches the checker more often."""
    _only_indicator_errors(loads_set, VALID_PREFIX + rule_text + "\n", "fuzz.ind")


# A generated set may be anything the parser accepts; checking, compiling and evaluating
# it against random facts may fail only with IndicatorError.

scalars = st.one_of(
    st.none(), st.booleans(), texts,
    st.integers(-10 ** 30, 10 ** 30),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1e999999"), Decimal("-1e999999"), Decimal("1e-999999"),
                     Decimal("9.999999999e+999999"), Decimal("0"), Decimal("-0"),
                     Decimal("1e-30"), Decimal("1e40")]),
    st.sampled_from(["93.5%", "0.935", "2,128,504.6元", "212.85万元", "是", "否", "na",
                     "有效执行", "部分执行", "", "1e999999", "-5", "NaN", "∞", "1,2,3"]),
    st.floats(allow_nan=True, allow_infinity=True),
)
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                   st.dictionaries(names, c, max_size=3)),
                      max_leaves=6)


@st.composite
def fact_mappings(draw, fact_names, codes):
    fact_names = list(fact_names) + ["not_applicable", "不适用", "assessor"]
    def table():
        return draw(st.dictionaries(st.sampled_from(fact_names), values, max_size=6))
    indicators = {}
    for code in draw(st.lists(st.sampled_from(codes), max_size=len(codes), unique=True)):
        indicators[code] = draw(st.one_of(st.just("na"), st.builds(dict), st.just(None),
                                          values, st.just(table())))
    project = table()
    if draw(st.booleans()):
        project["indicators"] = indicators
    elif draw(st.booleans()):
        project["indicators"] = draw(values)
    return project


def _evaluate_safely(scorer, mapping):
    try:
        evaluation = scorer.evaluate(mapping)
    except IndicatorError:
        return None
    assert isinstance(evaluation, Evaluation)
    for result in evaluation.indicators:
        assert result.status in ("scored", "not_applicable", "error")
        if result.status == "scored":
            assert result.score is not None and result.score.is_finite()
    return evaluation


def _fact_names(setfile):
    out = [name for decl in setfile.facts for name in decl.names]
    out += [let.name for let in setfile.lets]
    def walk(nodes):
        for node in nodes:
            out.extend(name for decl in node.facts for name in decl.names)
            yield node.code
            yield from walk(node.children)
    codes = list(walk(setfile.indicators))
    return out or ["a"], codes


@_settings(40)
@given(set_files(), st.data())
def test_generated_sets_check_and_evaluate_safely(setfile, data):
    try:
        scorer = loads_set(format_set(setfile), "gen.ind")
    except IndicatorError:
        return
    fact_names, codes = _fact_names(setfile)
    for _ in range(2):
        _evaluate_safely(scorer, data.draw(fact_mappings(fact_names, codes)))


FIXED = """
set "模糊测试"
total 100
grades 优 >= 90, 良 >= 80, 中 >= 60, 差
round leaves to 0.1
round groups to 0.1
fact actual, target: count "慰问人数"
fact rate: percent in [0%, 200%]
fact spent, budget: money(万元)
fact matched: bool
fact execution: level("有效执行", "部分执行", "未执行")
fact items: number
fact band: level("达成", "部分达成", "未达成")
fact assessed: number
fact findings: count
fact remark: text
let r = ratio(actual, target)
C "项目绩效" weight 60 {
  C114 weight 5: r >= 1 -> full; per 5% below -> -0.1; floor 0
  C2 weight 10: rate < 60% -> 0; rate >= 95% -> full; per started 1% below -> -1% of weight
  C3 weight 10: min(ratio(spent, budget), 1) of weight
  C4 weight 5: matched -> full; else -> na
  C5 weight 10: execution == "有效执行" -> full; execution == "部分执行" -> 60% of weight;
                execution == "未执行" -> 0
  C6 weight 10 {
    point ① share 1/2: min(mean(items), 1) of weight
    point ② share 1/2: clamp(sum(items), 0, weight)
  }
  C7 weight 10: band == "达成" -> assess(assessed, 80% of weight, weight);
                band == "部分达成" -> assess(assessed, 60% of weight, 80% of weight);
                else -> assess(assessed, 0, 60% of weight)
}
D weight 40 {
  D1 weight 20: each findings -> -1; deduct at most 5; flag over if r > 150%
  D2 weight 20: rate == 100% -> full; pro rata 5% off -> -1; floor 0
}
"""
FIXED_SCORER = loads_set(FIXED, "fixed.ind")
FIXED_FACTS = ["actual", "target", "rate", "spent", "budget", "matched", "execution", "items",
               "band", "assessed", "findings", "remark", "r"]
FIXED_CODES = ["C", "C114", "C2", "C3", "C4", "C5", "C6", "C7", "D", "D1", "D2"]


@_settings(100)
@given(fact_mappings(FIXED_FACTS, FIXED_CODES))
def test_evaluate_fixed_set_with_random_facts(mapping):
    _evaluate_safely(FIXED_SCORER, mapping)


def test_fixed_set_scores_good_facts():
    """The fuzzed set itself evaluates: the fuzz is not only exercising error paths."""
    evaluation = FIXED_SCORER.evaluate({
        "actual": 95, "target": 100, "rate": Decimal("0.93"), "spent": 150, "budget": 200,
        "matched": True, "execution": "有效执行", "items": [Decimal("0.5"), Decimal("0.5")],
        "band": "达成", "assessed": 9, "findings": 1,
    })
    assert evaluation.ok, [d.render() for d in evaluation.errors]
    scores = {r.code: r.score for r in evaluation.indicators}
    # C114 one 5% step: 4.9; C2 2 started 1% steps below 95%: 10 - 0.2; C3 7.5; C4 5; C5 10;
    # C6 points of 5: 0.5 × 5 + clamp(1, 0, 5) = 3.5; C7 9; D1 20 - 1;
    # D2 |93% - 100%| / 5% = 1.4 steps -> 20 - 1.4
    assert scores == {"C114": Decimal("4.9"), "C2": Decimal("9.8"), "C3": Decimal("7.5"),
                      "C4": Decimal(5), "C5": Decimal(10), "C6": Decimal("3.5"),
                      "C7": Decimal(9), "C": Decimal("49.7"), "D1": Decimal(19),
                      "D2": Decimal("18.6"), "D": Decimal("37.6")}
    assert evaluation.total == Decimal("87.3")
    assert evaluation.grade == "良"


# --- loads_facts

SUFFIXES = st.sampled_from([".yaml", ".yml", ".json", ".toml", "", ".txt"])

yaml_like = st.lists(st.one_of(
    st.sampled_from(["indicators:", "  C114:", "    actual: 95", "- a", "- [1, 2", "{a: 1}",
                     "&a [1]", "*a", "<<: *a", "? x", ": y", "!!binary AAAA", "!!python/object:os.system",
                     "a: .nan", "a: .inf", "a: -.inf", "a: 1e999999", "a: 1.0e+999999",
                     "a: 93.5%", "a: 是", "a: ~", "a: 2020-01-01", "a: 0x1F", "a: 1_000",
                     "a: 'x", 'a: "\\u0000"', "\t", "---", "...", "%YAML 1.1", "a: |", "  text",
                     "C1: na", "C1: {not_applicable: 原因}", "a: b: c"]),
    texts,
), max_size=12).map("\n".join)
json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
              st.sampled_from(["1e999999", "-1e-999999", "NaN", "Infinity", "93.5%"])),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c,
                                                                 max_size=3)),
    max_leaves=8,
).map(lambda v: json.dumps(v, ensure_ascii=False).replace('"1e999999"', "1e999999")
      .replace('"NaN"', "NaN").replace('"Infinity"', "Infinity"))
toml_like = st.lists(st.one_of(
    st.sampled_from(["[indicators]", "[indicators.C114]", "actual = 95", "a = inf", "a = nan",
                     "a = 1e999999", "a = 1979-05-27T07:32:00Z", "a = [1, [2]]", "[[x]]",
                     "a = 1\na = 2", "a = {b = 1}", "a = '''", 'a = "x', "a.b.c = 1",
                     "C114 = \"na\""]),
    texts,
), max_size=10).map("\n".join)

NESTED = [
    "[" * 20000 + "]" * 20000,
    "{\"a\": " * 20000 + "1" + "}" * 20000,
    "a: " + "[" * 20000 + "]" * 20000,
    "".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v: 1\n",
    "a = " + "[" * 10000 + "]" * 10000,
    "x" + ".y" * 5000 + " = 1",
]
LAUGHS = ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
          + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9)
                    + "]\n" for i in range(8)))


@_settings(300)
@given(st.one_of(st.binary(max_size=300), yaml_like.map(str.encode), json_like.map(str.encode),
                 toml_like.map(str.encode), st.text(max_size=200).map(str.encode)), SUFFIXES)
def test_loads_facts_random_input(data, suffix):
    _only_indicator_errors(loads_facts, data, f"fuzz{suffix}", suffix)


@pytest.mark.parametrize("index", range(len(NESTED)))
@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_loads_facts_deep_nesting(index, suffix):
    _only_indicator_errors(loads_facts, NESTED[index], f"deep{suffix}", suffix)


def test_loads_facts_billion_laughs():
    with pytest.raises(IndicatorError):
        loads_facts(LAUGHS, "laughs.yaml", ".yaml")


@pytest.mark.parametrize("text,suffix", [
    ("a: 1.0e+999999\nindicators:\n  X: {v: 1.0e+999999}\n", ".yaml"),
    ('{"a": 1e999999, "indicators": {"X": {"v": 1e999999}}}', ".json"),
    ("a = 1e999999\n[indicators.X]\nv = 1e-999999\n", ".toml"),
    ("a: .nan\n", ".yaml"), ("a: .inf\n", ".yaml"),
    ('{"a": NaN}', ".json"), ('{"a": -Infinity}', ".json"),
    ("a = nan\n", ".toml"), ("a = -inf\n", ".toml"),
])
def test_loads_facts_extreme_numbers(text, suffix):
    facts = _only_indicator_errors(loads_facts, text, f"x{suffix}", suffix)
    if facts is not None:
        scorer = loads_set("fact v, a: number\nX weight 5 bonus: v * a + ratio(v, a) - v / 3\n")
        _evaluate_safely(scorer, facts)


@_settings(200)
@given(st.sampled_from([Decimal("1e999999"), Decimal("-1e999999"), Decimal("1e-999999"),
                        Decimal("9.99e999998"), Decimal("1e40"), Decimal("1e-40"),
                        Decimal("123456789012345678901234567890.123456789")]),
       st.sampled_from([Decimal("1e999999"), Decimal("1e-999999"), Decimal(3), Decimal("-7"),
                        Decimal("0.1")]))
def test_evaluate_extreme_decimals(v, w):
    _evaluate_safely(EXTREME_SCORER, {"v": v, "w": w})


EXTREME_SCORER = loads_set(
    "fact v, w: number\n"
    "X weight 5 bonus: v * w + ratio(v, w) - v / 3 + abs(v) - round(w, 0.5)\n"
    "Y weight 5 bonus: v >= w -> full; per 1% below -> -1\n"
    "Z weight 5: clamp(linear(v, 0, w), 0, 1) of weight\n"
    "W weight 5: v >= 1 -> full; per started 0.1 below -> -1; floor 0\n", "extreme.ind")
