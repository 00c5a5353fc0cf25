"""fact_needs(): the one list of the facts a set reads, and where a facts file gives each
(FactNeed.places) — decided from the shipped sets' own facts files."""

from __future__ import annotations

from pathlib import Path

from indicator_dsl import load_facts, load_set, loads_set

CARD = """set "卡片"
total 10
fact actual: count "实际人数"
fact target: count in [1, 1000] "计划人数"
fact rate: percent "执行率"
G "组" weight 10 {
  let share "完成率" = ratio(actual, target)
  C1 weight 5: share >= 1 -> full; per 10% below -> -1; floor 0
  C2 weight 3: share >= 90% -> full; else -> 0
  C3 weight 2: rate >= 95% -> full; else -> 0
}
"""

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
WUCHANG = ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"
SETS = sorted((ROOT / "indicator_sets").rglob("*.ind"))


def test_placement_follows_the_seed_sets_facts_files():
    seed = load_set(SEED)
    needs = {n.name: n for n in seed.fact_needs()}
    # Declared at the top and read by B13 and C1115 through the set-level execution_rate.
    assert needs["budget"].places == (None,) and needs["spent"].places == (None,)
    assert needs["budget"].readers == ("B13", "C1115")
    # Declared once in B32 for its levels; each leaf gives its own value.
    assert needs["execution"].declared_in == "B32"
    assert needs["execution"].places == ("B321", "B322", "B323")
    assert needs["visited"].places == ("C114",)
    # The set's facts file puts every fact exactly there.
    facts = load_facts(SEED.with_suffix(".facts.yaml"))
    for need in seed.fact_needs():
        for place in need.places:
            table = facts.project if place is None else facts.indicators[place]
            assert need.name in table, (need.name, place)


def test_a_group_level_let_places_its_facts_under_the_group():
    scorer = loads_set(CARD, "card.ind")
    needs = {n.name: n for n in scorer.fact_needs()}
    assert needs["actual"].places == ("G",) and needs["target"].places == ("G",)
    assert needs["rate"].places == ("C3",)


def test_a_name_declared_differently_in_two_leaves_is_two_needs():
    scorer = load_set(WUCHANG)
    actual = [n for n in scorer.fact_needs() if n.name == "actual"]
    assert [(n.label, n.places) for n in actual] == [("慰问人数", ("B1",)),
                                                    ("按期开展的慰问活动次数", ("B2",))]


def test_every_shipped_facts_file_gives_each_fact_where_its_need_places_it():
    from indicator_dsl.requirements import place_for

    for path in SETS:
        scorer = load_set(path)
        facts = load_facts(path.with_suffix(".facts.yaml"))
        for need in scorer.fact_needs():
            for leaf in need.readers:
                chain = scorer.checked.by_code[leaf].chain
                given = [c for c in chain if need.name in facts.indicators.get(c, {})]
                given += [None] if need.name in facts.project else []
                if given:  # (a leaf may not need it: a branch the project does not take)
                    assert given[0] == place_for(need, leaf), (path, need.name, leaf, given)
