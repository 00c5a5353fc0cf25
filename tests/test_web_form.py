"""The form model (indicator_dsl.web.form): fields from the set's declarations, a
browser's state into facts, and facts written out exactly."""

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from indicator_dsl import load_facts, load_set, loads_facts
from indicator_dsl.errors import SetError
from indicator_dsl.web import form
from indicator_dsl.web.app import _split_set_path
from indicator_dsl.web.catalog import Catalog
from web_support import SEED, SEED_FACTS


@pytest.fixture(scope="module")
def seed():
    return load_set(SEED)


def spec(kind, unit=None, is_list=False):
    return form.FieldSpec("x", "x", kind, unit, (), None, is_list, None, ())


@pytest.mark.parametrize("kind, text, unit, expected", [
    ("count", "12", None, Decimal("12")),
    ("count", "2.5", None, Decimal("2.5")),  # the evaluator says what is wrong
    ("count", "abc", None, "abc"),
    ("percent", "93.5", None, "93.5%"),
    ("percent", "93.5%", None, "93.5%"),
    ("money", "2197150", "元", Decimal("2197150")),
    ("money", "219.715", "万元", "219.715万元"),
    ("money", "2,197,150", "元", "2,197,150元"),
    ("bool", "true", None, True),
    ("bool", "false", None, False),
    ("level", " 规范 ", None, "规范"),
    ("number", "-1.25", None, Decimal("-1.25")),
])
def test_typed_value(kind, text, unit, expected):
    got = form.typed_value(text, unit, spec(kind, unit="元" if kind == "money" else None))
    assert got == expected and type(got) is type(expected)


def test_typed_list_values():
    assert form.typed_value("95；90、80", None, spec("percent", is_list=True)) == \
        ["95%", "90%", "80%"]


@pytest.mark.parametrize("kind, value, shown", [
    ("percent", Decimal("0.935"), ("93.5", None)),
    ("percent", "95%", ("95", None)),
    ("percent", Decimal("95"), ("95", None)),  # ambiguous as written: shown as written
    ("money", "212.85万元", ("212.85", "万元")),
    ("money", Decimal("100"), ("100", None)),
    ("bool", True, ("true", None)),
    ("count", Decimal("3"), ("3", None)),
])
def test_shown_value(kind, value, shown):
    assert form.shown_value(value, spec(kind)) == shown


def test_unchanged_upload_is_read_as_the_file(seed):
    state = form.State(form.Source("spring-festival.facts.yaml", SEED_FACTS.read_bytes()))
    prepared = form.prepare(seed, state)
    assert not prepared.edited and prepared.yaml_text is None
    assert prepared.facts.source_lines == tuple(SEED_FACTS.read_text(encoding="utf-8")
                                                .splitlines())


def test_written_out_facts_score_the_same(seed):
    original = load_facts(SEED_FACTS)
    tree = form.Tree.from_facts(original)
    text = form.facts_yaml(tree.as_mapping(seed.codes))
    again = seed.evaluate(loads_facts(text, "x.yaml"))
    want = seed.evaluate(original)
    assert [(r.code, r.score, r.status) for r in again.indicators] == \
        [(r.code, r.score, r.status) for r in want.indicators]
    assert again.total == Decimal("96.4")


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e20"),
                   max_value=Decimal("1e20"), places=10))
def test_numbers_are_written_exactly(value):
    text = form.facts_yaml({"n": value, "indicators": {"C1": {"m": value}}})
    facts = loads_facts(text, "x.yaml")
    assert facts.project["n"].value == value
    assert facts.indicators["C1"]["m"].value == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_texts_are_written_exactly(text):
    out = form.facts_yaml({"name": text})
    assert loads_facts(out, "x.yaml").project["name"].value == text


def test_not_applicable_with_and_without_facts(seed):
    tree = form.Tree(indicators={"B12": {"adjustment": "规范"}}, na={"B12": True, "C114": "无"})
    facts = loads_facts(form.facts_yaml(tree.as_mapping(seed.codes)), "x.yaml")
    assert facts.not_applicable["B12"][0] is None and facts.not_applicable["C114"][0] == "无"
    assert facts.indicators["B12"]["adjustment"].value == "规范"


def test_fields_follow_the_declarations_and_the_file(seed):
    fields = {f["path"]: f for f in form.fields_for(seed, form.Tree())}
    # A group's fact has one field at the group until the facts give it leaf by leaf.
    assert "indicators.B32.execution" in fields
    assert "indicators.B321.execution" not in fields
    assert fields["indicators.B32.execution"]["readers"] == ["B321", "B322", "B323"]
    tree = form.Tree.from_facts(load_facts(SEED_FACTS))
    fields = {f["path"]: f for f in form.fields_for(seed, tree)}
    assert {"indicators.B321.execution", "indicators.B322.execution",
            "indicators.B323.execution"} <= set(fields)
    assert "indicators.B32.execution" not in fields  # every reader has its own
    assert list(fields)[:3] == ["name", "unit", "year"]


def test_state_is_checked():
    with pytest.raises(form.StateError):
        form.parse_state({"source": {"name": "x", "b64": "***"}}, 100)
    with pytest.raises(form.StateError):
        form.parse_state({"edits": {"a": {"text": 5}}}, 100)
    with pytest.raises(form.StateError):
        form.parse_state({"source": {"name": "x", "b64": "QUFBQQ=="}}, 2)
    state = form.parse_state({"source": {"name": "../../a/b.yaml", "b64": "YTogMQo="},
                              "na": {"C1": True}}, 100)
    assert state.source.name == "b.yaml" and state.na == {"C1": True}


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\facts.yaml", "facts.yaml"),
    ("", "facts.yaml"), ("a\x00b.yaml", "ab.yaml")])
def test_safe_name(name, expected):
    assert form.safe_name(name) == expected


@pytest.mark.parametrize("rest, expected", [
    ("f/a/b.ind", ("f/a/b.ind", "")),
    ("f/a/b.ind/doc/C1", ("f/a/b.ind", "doc/C1")),
    ("lib/national/2020/self-evaluation.ind/evaluate", ("lib/national/2020/self-evaluation.ind",
                                                         "evaluate")),
    ("u/abc/report.xlsx", ("u/abc", "report.xlsx")),
    ("x/y.ind", (None, "")), ("f/noset", (None, ""))])
def test_split_set_path(rest, expected):
    assert _split_set_path(rest) == expected


def test_catalog_lookups_never_join_paths(tmp_path):
    (tmp_path / "a.ind").write_text('set "甲"\nA "甲" weight 1: true -> full\n', encoding="utf-8")
    catalog = Catalog(tmp_path)
    assert set(catalog.folder_sets()) == {"f/a.ind"}
    for wanted in ("f/../a.ind", "f//a.ind", "f/./a.ind", "f/" + str(tmp_path / "a.ind")):
        assert catalog.get(wanted) is None


def test_uploaded_set_reads_nothing_outside_the_library(tmp_path, monkeypatch):
    secret = tmp_path / "secret.ind"
    secret.write_text("garbage that would be quoted in a message", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    catalog = Catalog(None)
    with pytest.raises(SetError) as info:
        catalog.add_upload("u.ind", b'import "secret.ind" as s\nset "x"\nA "a" weight 1: true -> full\n')
    assert "garbage" not in info.value.render()
