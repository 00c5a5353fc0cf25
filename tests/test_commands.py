"""The test, props, fmt and diff commands, as real subprocesses."""

import textwrap

import pytest

CARD = """\
fact actual, target: count in [1, 100000]
C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0;
               expect nondecreasing in actual
"""


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ------------------------------------------------------------------------ test

def test_golden_cases_pass_and_count(cli, tmp_path):
    write(tmp_path / "card.ind", CARD)
    write(tmp_path / "card.facts.yaml", "indicators:\n  C114: {actual: 87, target: 100}\n")
    write(tmp_path / "card.cases.yaml", """\
        cases:
          - name: published facts
            facts: card.facts.yaml
            expect: {total: 4.8, scores: {C114: 4.8}}
          - name: all visited
            facts: card.facts.yaml
            with: {indicators: {C114: {actual: 100}}}
            expect: {total: 5}
          - name: wrong type
            facts: {indicators: {C114: {actual: many, target: 100}}}
            expect_error: {code: C114, contains: actual}
        """)
    out = cli("test", tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "3 passed, 0 failed"


def test_failing_case_shows_a_readable_diff(cli, tmp_path):
    write(tmp_path / "card.ind", CARD)
    write(tmp_path / "card.cases.yaml", """\
        cases:
          - name: someone expected 4.9
            facts: {indicators: {C114: {actual: 87, target: 100}}}
            expect: {scores: {C114: 4.9}, grade: 优}
        """)
    out = cli("test", tmp_path / "card.ind")
    assert out.returncode == 6
    assert "FAIL" in out.stdout and "someone expected 4.9" in out.stdout
    assert "C114: expected 4.9, got 4.8" in out.stdout
    assert "共2档" in out.stdout  # the justification explains the difference
    assert "grade: expected 优, got None" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


@pytest.mark.parametrize("case,line,message,hint", [
    # a code where a section name belongs: it used to pass without checking anything
    ("expect: {C114: 4.9}", 4, "'C114' is an indicator code", "scores: {C114: 4.9}"),
    ("expect: {totl: 4.8}", 4, "unknown key 'totl' in `expect:`", "did you mean 'total'?"),
    ("expect: {}", 4, "`expect:` is empty", "total, grade, scores"),
    ("note: nothing to check", 2, "the case expects nothing", "expect_error"),
    ("expect: {scores: {C141: 4.8}}", 4, "the set has no indicator 'C141'",
     "did you mean 'C114'?"),
    ("expect: {status: {C114: done}}", 4, "unknown status 'done' for C114", "scored"),
    ("expcet: {total: 4.8}", 4, "unknown key 'expcet' in a case", "did you mean 'expect'?"),
    ("expect_error: {code: C114, contain: actual}", 4,
     "unknown key 'contain' in `expect_error:`", "did you mean 'contains'?"),
])
def test_case_files_that_could_never_fail_are_errors(cli, tmp_path, case, line, message, hint):
    write(tmp_path / "card.ind", CARD)
    (tmp_path / "card.cases.yaml").write_text(
        "cases:\n  - name: suspicious\n    facts: {indicators: {C114: {actual: 87, target: 100}}}\n"
        f"    {case}\n", encoding="utf-8")
    out = cli("test", tmp_path)
    assert out.returncode == 6, out.stdout
    assert f"card.cases.yaml:{line}:" in out.stdout, out.stdout
    assert message in out.stdout and hint in out.stdout, out.stdout
    assert out.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_a_case_file_with_unknown_top_level_keys_or_no_cases_fails(cli, tmp_path):
    write(tmp_path / "card.ind", CARD)
    write(tmp_path / "card.cases.yaml", "sets: card.ind\ncases: []\n")
    out = cli("test", tmp_path)
    assert out.returncode == 6
    assert "card.cases.yaml:1:1: error: unknown key 'sets'" in out.stdout
    write(tmp_path / "card.cases.yaml", "cases: []\n")
    out = cli("test", tmp_path)
    assert out.returncode == 6 and "lists no cases" in out.stdout


# ----------------------------------------------------------------------- props

def test_props_pass_on_a_sound_rule(cli, tmp_path):
    write(tmp_path / "card.ind", CARD)
    out = cli("props", tmp_path / "card.ind", "--examples", "60")
    assert out.returncode == 0, out.stdout
    assert "ok" in out.stdout


def test_props_catch_a_removed_floor_with_a_counterexample(cli, tmp_path):
    write(tmp_path / "card.ind", CARD.replace("; floor 0", "").replace("per 5%", "per 1%"))
    out = cli("props", tmp_path / "card.ind", "--examples", "100")
    assert out.returncode == 6
    assert "C114: scores" in out.stdout and "outside [0, 5]" in out.stdout
    assert "counterexample (facts YAML):" in out.stdout
    assert "indicators:" in out.stdout and "C114:" in out.stdout and "actual:" in out.stdout


def test_props_catch_a_reachable_division_by_zero(cli, tmp_path):
    write(tmp_path / "card.ind", CARD.replace(" in [1, 100000]", ""))
    out = cli("props", tmp_path / "card.ind", "--examples", "60")
    assert out.returncode == 6 and "division by zero" in out.stdout
    assert "target: 0" in out.stdout


def test_props_check_expect_promises(cli, tmp_path):
    write(tmp_path / "rev.ind", """\
        fact rate: percent in [0%, 200%]
        R weight 5: rate <= 100% -> full; per 1% above -> -0.5; floor 0;
                    expect nondecreasing in rate
        S weight 15: share >= 85% -> full; share <= 70% -> 0; per 0.1% above 70% -> 0.1;
                     expect continuous in share
        """)
    out = cli("props", tmp_path / "rev.ind", "--examples", "80")
    assert out.returncode == 6
    assert "promised nondecreasing in rate" in out.stdout
    assert "promised continuous in share" in out.stdout


def test_props_is_repeatable(cli, tmp_path):
    write(tmp_path / "card.ind", CARD.replace("; floor 0", "").replace("per 5%", "per 1%"))
    first = cli("props", tmp_path / "card.ind", "--seed", "3", "--examples", "50")
    second = cli("props", tmp_path / "card.ind", "--seed", "3", "--examples", "50")
    assert first.stdout == second.stdout


# ------------------------------------------------------------------------- fmt

MESSY = """\
# 东川区 2020 （节选）
set   "示例"
total 10


fact rate : percent   # 预算执行率

A "项目决策" weight 10 {   # 一级
  # 二级指标
  A1 "预算执行率" weight 10 {
    standard "预算执行率95%以上，得满分"
    score: rate < 60% -> 0;   # 60%以下不计分
           rate >= 95% -> full;
           per 1% below -> -1% of weight
  }
}
"""


def test_fmt_keeps_comments_and_is_idempotent(cli, tmp_path):
    path = write(tmp_path / "m.ind", MESSY)
    assert cli("fmt", "--check", path).returncode == 6
    out = cli("fmt", path)
    assert out.returncode == 0
    formatted = path.read_text(encoding="utf-8")
    for comment in ("# 东川区 2020 （节选）", "# 预算执行率", "# 一级", "# 二级指标",
                    "# 60%以下不计分"):
        assert comment in formatted
    assert 'set "示例"' in formatted and "fact rate: percent" in formatted
    assert "\n\n\n" not in formatted
    assert cli("fmt", "--check", path).returncode == 0
    cli("fmt", path)
    assert path.read_text(encoding="utf-8") == formatted


def test_fmt_refuses_broken_files_untouched(cli, tmp_path):
    path = write(tmp_path / "b.ind", "X weight: 1\n")
    out = cli("fmt", path)
    assert out.returncode == 3 and path.read_text(encoding="utf-8") == "X weight: 1\n"


# ------------------------------------------------------------------------ diff

def test_diff_lists_changes_and_score_moves(cli, tmp_path):
    old = write(tmp_path / "old.ind", """\
        total 10
        fact actual, target: count in [1, 1000]
        A "产出" weight 10 {
          A1 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0
          A2 weight 5: ok -> full; else -> 0
        }
        """)
    new = write(tmp_path / "new.ind", """\
        total 10
        fact actual, target: count in [1, 1000]
        A "产出" weight 10 {
          A1 weight 6: ratio(actual, target) >= 1 -> full; per 5% below -> -0.5; floor 0
          A3 "新增" weight 4: ok -> full; else -> 0
        }
        """)
    projects = tmp_path / "projects"
    projects.mkdir()
    write(projects / "p1.yaml", "name: 项目一\nok: true\nindicators:\n"
                                "  A1: {actual: 90, target: 100}\n")
    out = cli("diff", old, new, "--facts", projects)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "~ A1 weight: 5  →  6" in text and "~ A1 rule:" in text
    assert "+ A3" in text and "- A2" in text
    assert "total 9.8 → 9 (-0.8)" in text
    assert "A1: 4.8 → 5" in text and "A3: (new) → 4" in text and "A2: 5 → (removed)" in text


# ------------------------------------------------------------------ fmt keywords

def test_fmt_converts_between_keyword_spellings_and_keeps_the_files_own(cli, tmp_path):
    path = write(tmp_path / "card.ind", CARD)
    out = cli("fmt", "--keywords", "zh", path)
    assert out.returncode == 0, out.stderr
    chinese = path.read_text(encoding="utf-8")
    assert "数据 actual, target: 个数 在 [1, 100000]" in chinese
    assert "权重 5: 比率(actual, target) >= 1 -> 满分" in chinese
    assert "每低于 5% -> 扣 0.1" in chinese and "扣完为止" in chinese
    assert "承诺 不减 于 actual" in chinese
    assert cli("fmt", "--check", path).returncode == 0  # Chinese is kept as written
    out = cli("fmt", "--keywords", "en", path)
    assert out.returncode == 0
    from indicator_dsl.formatter import format_text
    assert path.read_text(encoding="utf-8") == format_text(CARD)
