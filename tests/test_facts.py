"""The facts loader: YAML, JSON and TOML by extension; exact values; clear errors with places."""

from __future__ import annotations

from decimal import Decimal

import pytest

from indicator_dsl import (FactsError, FileAccessError, IndicatorError, load_facts, loads_facts,
                           loads_set)

SAME_FACTS = {
    ".yaml": "name: 春节活动\nrate: 93.5%\nindicators:\n  C114:\n    actual: 95\n    target: 100\n"
             "  C12: na\n",
    ".yml": "name: 春节活动\nrate: 93.5%\nindicators:\n  C114:\n    actual: 95\n    target: 100\n"
            "  C12: na\n",
    ".json": '{"name": "春节活动", "rate": "93.5%", "indicators": {"C114": {"actual": 95, '
             '"target": 100}, "C12": "na"}}',
    ".toml": 'name = "春节活动"\nrate = "93.5%"\n[indicators]\nC12 = "na"\n'
             "[indicators.C114]\nactual = 95\ntarget = 100\n",
}


def _error(exc_info) -> "object":
    errors = exc_info.value.errors
    assert errors, exc_info.value.render()
    return errors[0]


# ------------------------------------------------------------ format by extension


@pytest.mark.parametrize("suffix", sorted(SAME_FACTS))
def test_each_format_gives_the_same_facts(suffix):
    facts = loads_facts(SAME_FACTS[suffix], f"p{suffix}", suffix)
    assert facts.project["name"].value == "春节活动"
    assert facts.project["rate"].value == "93.5%"
    assert facts.indicators["C114"]["actual"].value == Decimal(95)
    assert facts.indicators["C114"]["target"].value == Decimal(100)
    assert "C12" in facts.not_applicable


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".toml", ".YAML", ".Json"])
def test_load_facts_chooses_the_format_by_extension(tmp_path, suffix):
    text = SAME_FACTS[suffix.lower()]
    path = tmp_path / f"project{suffix}"
    path.write_text(text, encoding="utf-8")
    facts = load_facts(path)
    assert facts.indicators["C114"]["actual"].value == Decimal(95)


def test_a_yaml_text_is_not_read_as_json():
    with pytest.raises(FactsError) as info:
        loads_facts("a: 1\n", "p.json", ".json")
    assert "JSON" in _error(info).message


def test_a_json_text_is_read_as_yaml_by_a_yaml_name():
    # JSON is YAML: a .yaml name reads it
    facts = loads_facts('{"a": 1}', "p.yaml", ".yaml")
    assert facts.project["a"].value == Decimal(1)


@pytest.mark.parametrize("suffix", [".txt", ".xml", ".ind"])
def test_unknown_extension(suffix):
    with pytest.raises(FactsError) as info:
        loads_facts("a: 1\n", f"p{suffix}", suffix)
    d = _error(info)
    assert "unknown facts file type" in d.message and suffix in d.message
    assert ".yaml" in d.hint and ".json" in d.hint and ".toml" in d.hint


def test_unknown_extension_through_load_facts(tmp_path):
    path = tmp_path / "project.ini"
    path.write_text("a = 1\n", encoding="utf-8")
    with pytest.raises(FactsError) as info:
        load_facts(path)
    assert ".ini" in _error(info).message


def test_missing_file(tmp_path):
    with pytest.raises(FileAccessError) as info:
        load_facts(tmp_path / "nope.yaml")
    assert "not found" in _error(info).message


def test_a_directory_is_not_a_facts_file(tmp_path):
    with pytest.raises(FileAccessError) as info:
        load_facts(tmp_path)
    assert "directory" in _error(info).message


# ------------------------------------------------------------------ exact values


def test_yaml_numbers_keep_their_written_digits():
    facts = loads_facts("a: 0.935\nb: 0.1\nc: 1_000\nd: 12\n", "p.yaml")
    assert [facts.project[k].value for k in "abcd"] == [
        Decimal("0.935"), Decimal("0.1"), Decimal(1000), Decimal(12)]
    assert str(facts.project["b"].value) == "0.1"


def test_json_numbers_are_exact_decimals():
    facts = loads_facts('{"a": 0.1, "b": 3}', "p.json", ".json")
    assert facts.project["a"].value == Decimal("0.1")
    assert str(facts.project["a"].value) == "0.1"


def test_toml_floats_are_exact_decimals():
    facts = loads_facts("a = 0.1\nb = 3\n", "p.toml", ".toml")
    assert str(facts.project["a"].value) == "0.1"
    assert facts.project["b"].value == Decimal(3)


def test_yaml_bools_and_texts():
    facts = loads_facts("a: true\nb: no\nc: 是\nd: '93.5%'\n", "p.yaml")
    assert facts.project["a"].value is True
    assert facts.project["b"].value is False
    assert facts.project["c"].value == "是"
    assert facts.project["d"].value == "93.5%"


def test_a_byte_order_mark_is_ignored():
    facts = loads_facts("\ufeffa: 1\n".encode("utf-8"), "p.yaml", ".yaml")
    assert facts.project["a"].value == Decimal(1)


@pytest.mark.parametrize("suffix", [".yaml", ".toml"])
def test_an_empty_file_has_no_facts(suffix):
    facts = loads_facts("", f"p{suffix}", suffix)
    assert facts.project == {} and facts.indicators == {}


def test_the_place_of_a_yaml_value_is_kept():
    facts = loads_facts("name: x\nindicators:\n  C114:\n    actual: 95\n", "p.yaml")
    where = facts.indicators["C114"]["actual"].where
    assert (where.line, where.column) == (4, 13)
    assert where.path == "indicators.C114.actual"


# ----------------------------------------------------------------- not applicable


@pytest.mark.parametrize("text", [
    "indicators:\n  C12: na\n",
    "indicators:\n  C12: {not_applicable: 本年度无预算调整}\n",
    "indicators:\n  C12:\n    not_applicable: true\n",
])
def test_not_applicable_forms(text):
    facts = loads_facts(text, "p.yaml")
    assert "C12" in facts.not_applicable


def test_not_applicable_keeps_its_reason():
    facts = loads_facts("indicators:\n  C12: {not_applicable: 本年度无预算调整}\n", "p.yaml")
    assert facts.not_applicable["C12"][0] == "本年度无预算调整"


def test_not_applicable_reaches_the_evaluation():
    scorer = loads_set("total 100\nfact v: number\nA weight 10: assess(v, 0, weight)\n"
                       "B weight 90: assess(v, 0, weight)\n")
    facts = loads_facts("indicators:\n  A: {not_applicable: 无}\n  B: {v: 72}\n", "p.yaml")
    evaluation = scorer.evaluate(facts)
    assert evaluation.by_code()["A"].status == "not_applicable"
    assert evaluation.total == Decimal(80)


# -------------------------------------------------------------- broken files


@pytest.mark.parametrize("text,line,column", [
    ("a: [1, 2\nb: 3\n", 2, 2),
    ("indicators:\n  C114:\n    actual: 95\n   target: 100\n", 4, 4),
    ('a: "unclosed\n', 2, 1),
    ("a: 1\n\tb: 2\n", 2, 1),
])
def test_broken_yaml_says_where(text, line, column):
    with pytest.raises(FactsError) as info:
        loads_facts(text, "p.yaml")
    d = _error(info)
    assert d.message.startswith("broken YAML")
    assert (d.file, d.line, d.column) == ("p.yaml", line, column)
    assert d.location == f"p.yaml:{line}:{column}"
    assert d.source_line is not None or line > len(text.splitlines())


@pytest.mark.parametrize("text,line,column", [
    ('{"a": 1,}', 1, 9),
    ('{\n  "a": 1,\n  "b": \n}', 4, 1),
    ('{"a": 1}\n{"b": 2}', 2, 1),
    ("{'a': 1}", 1, 2),
])
def test_broken_json_says_where(text, line, column):
    with pytest.raises(FactsError) as info:
        loads_facts(text, "p.json", ".json")
    d = _error(info)
    assert d.message.startswith("broken JSON")
    assert (d.line, d.column) == (line, column)
    assert d.location == f"p.json:{line}:{column}"


@pytest.mark.parametrize("text,lines", [
    ("a = \n", (1,)),
    ("a = 1\nb = [1, 2\n", (2, 3)),      # tomllib says "at end of document"
    ("[indicators\nx = 1\n", (1,)),
    ('a = "x\n', (1,)),
])
def test_broken_toml_says_where(text, lines):
    with pytest.raises(FactsError) as info:
        loads_facts(text, "p.toml", ".toml")
    d = _error(info)
    assert d.message.startswith("broken TOML")
    assert d.line in lines and d.column is not None and d.column >= 1, d
    assert d.location.startswith(f"p.toml:{d.line}:")


def test_broken_yaml_rendered_with_caret():
    with pytest.raises(FactsError) as info:
        loads_facts("a: [1, 2\nb: 3\n", "p.yaml")
    rendered = info.value.render()
    assert "p.yaml:2:2" in rendered and "b: 3" in rendered and "^" in rendered


# ---------------------------------------------------------------- duplicate keys


def test_duplicate_yaml_key():
    with pytest.raises(FactsError) as info:
        loads_facts("indicators:\n  C114:\n    actual: 95\n    actual: 96\n", "p.yaml")
    d = _error(info)
    assert "'actual'" in d.message and "twice" in d.message
    assert (d.line, d.column) == (4, 5)


def test_duplicate_yaml_indicator_code():
    with pytest.raises(FactsError) as info:
        loads_facts("indicators:\n  C114: {actual: 1}\n  C114: {actual: 2}\n", "p.yaml")
    d = _error(info)
    assert "'C114'" in d.message and d.line == 3


def test_duplicate_json_key():
    """A JSON object with a key twice is as ambiguous as in YAML: one value would be lost."""
    with pytest.raises(FactsError) as info:
        loads_facts('{"indicators": {"C114": {"actual": 95, "actual": 96}}}', "p.json",
                    ".json")
    assert "actual" in _error(info).message


def test_duplicate_toml_key():
    with pytest.raises(FactsError) as info:
        loads_facts("[indicators.C114]\nactual = 95\nactual = 96\n", "p.toml", ".toml")
    d = _error(info)
    assert d.message.startswith("broken TOML") and d.line == 3


# ---------------------------------------------------------- shape of the mapping


@pytest.mark.parametrize("text,suffix", [
    ("indicators: [1, 2]\n", ".yaml"),
    ("indicators: 5\n", ".yaml"),
    ("indicators: 有\n", ".yaml"),
    ('{"indicators": [1]}', ".json"),
    ('indicators = 5\n', ".toml"),
])
def test_indicators_must_be_a_mapping(text, suffix):
    with pytest.raises(FactsError) as info:
        loads_facts(text, f"p{suffix}", suffix)
    d = _error(info)
    assert "`indicators:`" in d.message and "indicator codes" in d.message
    if suffix == ".yaml":
        assert (d.line, d.column) == (1, 13)


def test_an_indicator_table_must_be_a_mapping():
    with pytest.raises(FactsError) as info:
        loads_facts("indicators:\n  C114: 95\n", "p.yaml")
    d = _error(info)
    assert "C114" in d.message and d.line == 2
    assert "na" in d.hint


@pytest.mark.parametrize("text,suffix", [
    ("- 1\n- 2\n", ".yaml"), ("42\n", ".yaml"), ("[1, 2]", ".json"), ('"x"', ".json"),
])
def test_a_facts_file_is_a_mapping(text, suffix):
    with pytest.raises(FactsError) as info:
        loads_facts(text, f"p{suffix}", suffix)
    assert "mapping" in _error(info).message


def test_an_empty_indicators_key_is_allowed():
    facts = loads_facts("indicators:\n", "p.yaml")
    assert facts.indicators == {}


@pytest.mark.parametrize("text,fragment", [
    ("a: 2020-01-01\n", "unsupported YAML value type"),
    ("a: !!binary aGVsbG8=\n", "unsupported YAML value type"),
    ("a: !!python/object:os.system x\n", "unsupported YAML value type"),
    ("<<: {b: 1}\n", "merge keys"),
    ("? [1, 2]\n: 3\n", "key must be a plain name"),
    ("a: .nan\n", "not a usable number"),
    ("a: .inf\n", "not a usable number"),
    ("a: -.inf\n", "not a usable number"),
])
def test_yaml_values_that_are_not_facts(text, fragment):
    with pytest.raises(FactsError) as info:
        loads_facts(text, "p.yaml")
    d = _error(info)
    assert fragment in d.message
    assert d.line == 1


@pytest.mark.parametrize("text", ["a = nan\n", "a = inf\n", "a = -inf\n"])
def test_toml_nan_and_inf_are_refused(text):
    with pytest.raises(FactsError) as info:
        loads_facts(text, "p.toml", ".toml")
    assert "not a usable number" in _error(info).message


# --------------------------------------------------------- bytes and encodings


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_nul_bytes_are_refused(suffix):
    with pytest.raises(FactsError) as info:
        loads_facts(b"a: 1\x00\n", f"p{suffix}", suffix)
    assert "NUL" in _error(info).message


@pytest.mark.parametrize("data,line", [
    (b"a: \xff\xfe\n", 1),
    (b"a: 1\nb: \xc3\x28\n", 2),
    (b"a: 1\nb: 2\nc: \xe4\xb8\n", 3),
])
def test_invalid_utf8_is_refused_with_its_line(data, line):
    with pytest.raises(FactsError) as info:
        loads_facts(data, "p.yaml", ".yaml")
    d = _error(info)
    assert "UTF-8" in d.message and d.line == line
    assert "UTF-8" in d.hint


def test_gbk_text_is_refused_as_not_utf8():
    with pytest.raises(FactsError) as info:
        loads_facts("名称: 春节活动\n".encode("gbk"), "p.yaml", ".yaml")
    assert "UTF-8" in _error(info).message


def test_a_very_large_file_is_refused():
    data = b"a: 1\n" + b"# " + b"x" * 21_000_000 + b"\n"
    with pytest.raises(FactsError) as info:
        loads_facts(data, "p.yaml", ".yaml")
    assert "limit" in _error(info).message


# -------------------------------------------------------------- alias expansion


BILLION_LAUGHS = (
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
)


def test_alias_bomb_is_refused_clearly():
    with pytest.raises(FactsError) as info:
        loads_facts(BILLION_LAUGHS, "bomb.yaml")
    d = _error(info)
    assert "more than" in d.message and "values" in d.message
    assert "aliases" in d.message
    assert d.line is not None


def test_a_small_alias_is_expanded():
    facts = loads_facts("base: &b {actual: 95, target: 100}\nindicators:\n  C114: *b\n",
                        "p.yaml")
    assert facts.indicators["C114"]["actual"].value == Decimal(95)


# ------------------------------------------------------------------ deep nesting


@pytest.mark.parametrize("text,suffix", [
    ("a: " + "[" * 100 + "]" * 100 + "\n", ".yaml"),
    ('{"a": ' + "[" * 100 + "]" * 100 + "}", ".json"),
    ("a = " + "[" * 100 + "]" * 100 + "\n", ".toml"),
    ("[" * 100000 + "]" * 100000, ".json"),
    ("a: " + "[" * 100000 + "]" * 100000 + "\n", ".yaml"),
])
def test_deep_nesting_is_refused(text, suffix):
    with pytest.raises(FactsError) as info:
        loads_facts(text, f"p{suffix}", suffix)
    message = _error(info).message
    assert "nested" in message or "deep" in message or "mapping" in message


def test_nesting_within_the_limit_is_kept():
    facts = loads_facts("a: " + "[" * 10 + "1" + "]" * 10 + "\n", "p.yaml")
    value = facts.project["a"].value
    for _ in range(10):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == Decimal(1)


# ------------------------------------------------------- errors are IndicatorErrors


def test_every_loader_error_is_an_indicator_error():
    for data, suffix in [("a: [", ".yaml"), ("{", ".json"), ("a =", ".toml"), (b"\xff", ".yaml"),
                         ("a: 1", ".bin")]:
        with pytest.raises(IndicatorError):
            loads_facts(data, f"p{suffix}", suffix)


def test_an_evaluation_with_errors_has_no_total():
    from indicator_dsl import loads_set

    scorer = loads_set('fact ok: bool "资料齐全"\nA weight 5: ok -> full; else -> 0\n')
    ev = scorer.evaluate(loads_facts("indicators:\n  A: {ok: true}\n  Z9: {ok: true}\n",
                                     "f.yaml", ".yaml"))
    assert not ev.ok and ev.total is None and ev.grade is None
    assert ev.by_code()["A"].score == 5  # the leaf itself still scored
    assert any("Z9" in d.message and d.message_cn for d in ev.errors)


# ------------------------------------------- Facts.from_mapping: fast and careful paths

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from indicator_dsl.facts import (Facts, _build, _fast_build, _plain_tree,  # noqa: E402
                                 plain_mapping)

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.sampled_from(["na", "n/a", "不适用", "否"]),
    st.integers(-10 ** 32, 10 ** 32), st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e31"), Decimal("1e-31"), Decimal("-0"), Decimal("0E+5")]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) |
                       st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)
_NAMES = st.one_of(st.sampled_from(["actual", "target", "not_applicable", "不适用",
                                    "published", "indicators"]), st.text(max_size=4),
                   st.integers(0, 3))
_TABLES = st.one_of(st.none(), st.sampled_from(["na", "NA ", "maybe"]), st.integers(0, 2),
                    st.dictionaries(_NAMES, _VALUES, max_size=4))
_WILD_MAPPINGS = st.dictionaries(
    st.one_of(st.sampled_from(["indicators", "name", "year", "budget"]), _NAMES),
    st.one_of(_VALUES, st.dictionaries(st.one_of(st.sampled_from(["C1", "C2"]), _NAMES),
                                       _TABLES, max_size=4)), max_size=5)
# The usual shape: project-wide values and an `indicators:` table of plain facts, now and
# then an odd value, table or key.
_PLAIN = st.one_of(st.booleans(), st.integers(-5, 10 ** 6), st.sampled_from(["是", "95%", "x"]),
                   st.decimals(places=3, min_value=-1000, max_value=1000))
_FACT_TABLES = st.dictionaries(st.sampled_from(["actual", "target", "done", "rate", "n"]),
                               st.one_of(_PLAIN, _PLAIN, _PLAIN, _SCALARS, _VALUES), max_size=4)
_USUAL = st.builds(
    lambda project, tables: {**project, "indicators": tables},
    st.dictionaries(st.sampled_from(["name", "year", "budget", "spent", "actual"]),
                    st.one_of(_PLAIN, _SCALARS), max_size=3),
    st.dictionaries(st.sampled_from(["C1", "C2", "C11", "A"]),
                    st.one_of(_FACT_TABLES, _FACT_TABLES, _FACT_TABLES, _TABLES), max_size=4))
_MAPPINGS = st.one_of(_WILD_MAPPINGS, _USUAL)


def _careful(mapping):
    try:
        return "ok", _build(_plain_tree(mapping, "<facts>"), "<facts>", ())
    except FactsError as exc:
        return "error", [d.render() for d in exc.diagnostics]


def _shown(facts):
    def table(t):
        return {k: (repr(v.value), v.where) for k, v in t.items()}

    return (table(facts.project), {c: table(t) for c, t in facts.indicators.items()},
            facts.not_applicable, facts.path)


@settings(max_examples=600, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(_MAPPINGS)
def test_the_fast_path_builds_what_the_careful_path_builds(mapping):
    want = _careful(mapping)
    try:
        got = "ok", Facts.from_mapping(mapping)
    except FactsError as exc:
        got = "error", [d.render() for d in exc.diagnostics]
    assert got[0] == want[0]
    if got[0] == "ok":
        assert _shown(got[1]) == _shown(want[1])
    else:
        assert got[1] == want[1]
    fast = _fast_build(mapping, "<facts>")
    if fast is not None:  # taken: the same facts
        assert want[0] == "ok" and _shown(fast) == _shown(want[1])
    if plain_mapping(mapping):  # read directly by generated code: simply wrapped values
        assert fast is not None and not fast.not_applicable
        assert all(not isinstance(v.value, (dict, list)) for v in fast.project.values())
