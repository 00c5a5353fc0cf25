"""The indicator-eval command, run as a real subprocess."""

import json
from decimal import Decimal

import pytest

from conftest import ROOT

CARD = "fact actual, target: count\nC114 weight 5: ratio(actual, target) >= 1 -> full; " \
       "per 5% below -> -0.1; floor 0\n"


@pytest.fixture
def card(tmp_path):
    path = tmp_path / "card.ind"
    path.write_text(CARD, encoding="utf-8")
    return path


def facts(tmp_path, text, name="facts.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_help_lists_commands_and_exit_codes(cli):
    out = cli("--help")
    assert out.returncode == 0
    assert "eval" in out.stdout and "check" in out.stdout and "exit codes" in out.stdout
    assert cli("eval", "--help").returncode == 0
    assert cli("check", "--help").returncode == 0


def test_usage_error_exits_2(cli):
    out = cli("eval")
    assert out.returncode == 2 and "usage" in out.stderr


@pytest.mark.parametrize("actual,score", [
    (95, 4.9), (96, 5), (90, 4.8), (0, 3), (100, 5), (120, 5), (94.99, 4.9), (85, 4.7),
    (89.99, 4.8), (50, 4), (5, 3.1), (4.99, 3.1), (4.9, 3.1), (99.99, 5), (80.01, 4.7)])
def test_design_card_json(cli, card, tmp_path, actual, score):
    kind = "number" if isinstance(actual, float) else "count"
    card.write_text(CARD.replace("count", kind), encoding="utf-8")
    f = facts(tmp_path, f"indicators:\n  C114:\n    actual: {actual}\n    target: 100\n")
    out = cli("eval", card, f, "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout, parse_float=Decimal)
    leaf = doc["indicators"][0]
    assert leaf["code"] == "C114" and leaf["parent"] is None
    assert leaf["score"] == Decimal(str(score))
    assert doc["total"] == Decimal(str(score)) and doc["max"] == 5
    assert doc["grade"] is None
    assert leaf["status"] == "scored" and leaf["explanation"]
    # The number's text is the exact decimal: 4.9, never 4.8999999.
    assert f'"score": {score}' in out.stdout.replace(".0,", ",") or \
        f'"score": {int(score)}' in out.stdout


def test_division_by_zero_names_target_and_exits_1(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114:\n    actual: 95\n    target: 0\n")
    out = cli("eval", card, f)
    assert out.returncode == 1
    assert "division by zero" in out.stderr and "target" in out.stderr
    assert "card.ind:2:" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_fact_is_never_zero(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114:\n    actual: 95\n")
    out = cli("eval", card, f, "--format", "json")
    assert out.returncode == 1
    # Listed with every other missing fact, with where to write it (an English set: in
    # English unless asked for Chinese).
    assert "1 fact is missing" in out.stderr and "(target, " in out.stderr
    assert "add it at indicators: C114: target" in out.stderr
    chinese = cli("--lang", "zh", "eval", card, f, "--format", "json")
    assert "缺少 1 项事实" in chinese.stderr and "（target，" in chinese.stderr
    assert "indicators → C114 → target:" in chinese.stderr
    doc = json.loads(out.stdout)
    assert doc["indicators"][0]["status"] == "error" and doc["indicators"][0]["score"] is None
    assert doc["total"] is None


def test_wrong_type_points_at_the_facts_line(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114:\n    actual: many\n    target: 100\n")
    out = cli("eval", card, f)
    assert out.returncode == 4
    assert "facts.yaml:3:13" in out.stderr and "actual" in out.stderr


def test_unknown_code_in_facts_suggests(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C141:\n    actual: 1\n  C114:\n    actual: 1\n"
                        "    target: 1\n")
    out = cli("eval", card, f)
    assert out.returncode == 4
    assert "unknown indicator code 'C141'" in out.stderr and "C114" in out.stderr


def test_broken_yaml(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114: [1, 2\n")
    out = cli("eval", card, f)
    assert out.returncode == 4 and "broken YAML" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("name,text", [
    ("f.json", '{"indicators": {"C114": {"actual": 95, "target": 100}}}'),
    ("f.toml", "[indicators.C114]\nactual = 95\ntarget = 100\n"),
    ("f.yml", "indicators:\n  C114: {actual: 95, target: 100}\n")])
def test_facts_formats_by_extension(cli, card, tmp_path, name, text):
    out = cli("eval", card, facts(tmp_path, text, name), "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 4.9


def test_table_and_markdown(cli, card, tmp_path):
    f = facts(tmp_path, "name: 示例项目\nindicators:\n  C114: {actual: 87, target: 100}\n")
    table = cli("eval", card, f)
    assert table.returncode == 0
    assert "C114" in table.stdout and "4.8" in table.stdout and "总分：4.8 / 5" in table.stdout
    assert "共2档" in table.stdout
    md = cli("eval", card, f, "--format", "markdown")
    assert md.returncode == 0 and "| C114 |" in md.stdout and "扣分情况" in md.stdout


def test_output_file_written_atomically_and_never_over_inputs(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114: {actual: 87, target: 100}\n")
    report = tmp_path / "report.md"
    out = cli("eval", card, f, "-f", "markdown", "-o", report)
    assert out.returncode == 0 and report.read_text(encoding="utf-8").startswith("#")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]
    # A failing run leaves the previous report untouched.
    before = report.read_text(encoding="utf-8")
    bad = facts(tmp_path, "indicators:\n  C114: {actual: 87, target: 0}\n", "bad.yaml")
    out = cli("eval", card, bad, "-f", "markdown", "-o", report)
    assert out.returncode == 1 and "was not written" in out.stderr
    assert report.read_text(encoding="utf-8") == before
    # The inputs are never overwritten.
    out = cli("eval", card, f, "-o", f)
    assert out.returncode == 5 and "refusing" in out.stderr
    assert "actual: 87" in f.read_text(encoding="utf-8")


def test_check_reports_every_error_with_caret_and_exit_3(cli, tmp_path):
    bad = tmp_path / "bad.ind"
    bad.write_text("total 10\nA weight 4: ratoi(a, b)\nB weight 5: x -> full\n",
                   encoding="utf-8")
    out = cli("check", bad)
    assert out.returncode == 3
    err = out.stderr
    assert "bad.ind:1:1: error: the top-level weights add up to 9" in err
    assert "did you mean 'ratio'?" in err
    assert "no clause of B applies" in err
    assert "^" in err and "hint:" in err


def test_check_ok_and_warnings_exit_0(cli, tmp_path):
    ok = tmp_path / "ok.ind"
    ok.write_text("C114 weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; "
                  "floor 0\n", encoding="utf-8")
    out = cli("check", ok)
    assert out.returncode == 0
    assert "not declared" in out.stderr and "ok — 1 indicators" in out.stdout


def test_missing_files_exit_5(cli, tmp_path, card):
    assert cli("check", tmp_path / "nope.ind").returncode == 5
    out = cli("eval", card, tmp_path / "nope.yaml")
    assert out.returncode == 5 and "not found" in out.stderr


def test_bundled_example_from_readme(cli):
    out = cli("eval", ROOT / "examples" / "c114.ind", ROOT / "examples" / "c114.facts.yaml")
    assert out.returncode == 0 and "4.8" in out.stdout


def test_binary_set_file(cli, tmp_path, card):
    junk = tmp_path / "junk.ind"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    out = cli("check", junk)
    assert out.returncode == 3 and "NUL" in out.stderr and "Traceback" not in out.stderr


def test_report_formats_follow_the_output_extension(cli, tmp_path):
    s = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival"
    for ext, magic in (("html", b"<!DOCTYPE html"), ("xlsx", b"PK"), ("docx", b"PK"),
                       ("md", b"# "), ("json", b"{")):
        target = tmp_path / f"report.{ext}"
        out = cli("eval", f"{s}.ind", f"{s}.facts.yaml", "-q", "-o", target)
        assert out.returncode == 0, out.stderr
        assert target.read_bytes().lstrip().startswith(magic), ext


def test_binary_format_needs_an_output_file(cli):
    out = cli("eval", ROOT / "examples/c114.ind", ROOT / "examples/c114.facts.yaml", "-f", "xlsx")
    assert out.returncode == 2 and "-o report.xlsx" in out.stderr


def test_user_template_in_the_sandbox(cli, tmp_path):
    good = tmp_path / "mine.txt.j2"
    good.write_text("总分 {{ total }}\n{% for r in rows %}{{ r.leaf.code }}={{ r.score }}\n"
                    "{% endfor %}", encoding="utf-8")
    out = cli("eval", ROOT / "examples/c114.ind", ROOT / "examples/c114.facts.yaml",
              "--template", good)
    assert out.returncode == 0 and out.stdout.startswith("总分 4.8") and "C114=4.8" in out.stdout
    evil = tmp_path / "evil.j2"
    evil.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    out = cli("eval", ROOT / "examples/c114.ind", ROOT / "examples/c114.facts.yaml",
              "--template", evil)
    assert out.returncode == 2 and "evil.j2:1" in out.stderr and "sandbox" in out.stderr
    assert "Traceback" not in out.stderr


def test_json_keeps_long_decimals_exact(cli, tmp_path):
    path = tmp_path / "third.ind"
    path.write_text("X weight 1: 1/3 of weight\n", encoding="utf-8")
    facts_path = tmp_path / "f.yaml"
    facts_path.write_text("{}\n", encoding="utf-8")
    out = cli("eval", path, facts_path, "-f", "json")
    doc = json.loads(out.stdout, parse_float=Decimal)
    leaf = doc["indicators"][0]
    assert leaf["score"] == Decimal("0.33")
    assert leaf["unrounded"] == Decimal(1) / Decimal(3) * 1 or \
        str(leaf["unrounded"]).startswith("0.33333333333333333333333333333")


# ------------------------------------------------- standard streams and outputs

def test_dash_output_is_standard_output(cli, card, tmp_path):
    f = facts(tmp_path, "indicators:\n  C114:\n    actual: 87\n    target: 100\n")
    out = cli("eval", card, f, "-o", "-", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 4.8
    assert not (tmp_path / "-").exists()


def test_dash_output_carries_a_binary_report(card, tmp_path):
    import io
    import subprocess
    import sys
    from openpyxl import load_workbook

    f = facts(tmp_path, "indicators:\n  C114:\n    actual: 87\n    target: 100\n")
    done = subprocess.run([sys.executable, "-m", "indicator_dsl", "eval", str(card), str(f),
                           "-o", "-", "--format", "xlsx"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert load_workbook(io.BytesIO(done.stdout)).worksheets


@pytest.mark.parametrize("name", ["report.pdf", "report", "report.xls"])
def test_an_output_extension_that_names_no_format_is_a_usage_error(cli, card, tmp_path, name):
    f = facts(tmp_path, "indicators:\n  C114:\n    actual: 87\n    target: 100\n")
    out = cli("eval", card, f, "-o", tmp_path / name)
    assert out.returncode == 2, out.stderr
    assert "cannot tell the report format" in out.stderr
    assert ".docx" in out.stderr and ".xlsx" in out.stderr and "--format" in out.stderr
    assert not (tmp_path / name).exists()


def test_facts_and_set_from_standard_input(cli, card, tmp_path):
    text = "indicators:\n  C114:\n    actual: 87\n    target: 100\n"
    out = cli("eval", card, "-", "--format", "json", input=text)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 4.8
    f = facts(tmp_path, text)
    out = cli("eval", "-", f, "--format", "json", input=CARD)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 4.8
    out = cli("eval", "-", "-", input=CARD)
    assert out.returncode == 2 and "standard input" in out.stderr


def test_a_closed_pipe_is_a_quiet_exit(tmp_path):
    import subprocess
    import sys

    seed = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival"
    child = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "diff",
                              f"{seed}.ind", ROOT / "examples/c114.ind"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader goes away before the first line, as `| head -0` does
    err = child.stderr.read().decode("utf-8")
    assert child.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""


def test_a_gbk_facts_file_is_named_as_such(cli, card, tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("indicators:\n  C114:\n    actual: 87  # 实际慰问人数\n    target: 100\n"
                     .encode("gbk"))
    out = cli("eval", card, path)
    assert out.returncode == 4
    assert "gbk.yaml:3:" in out.stderr and "GBK-encoded, not UTF-8" in out.stderr
    assert "# 实际慰问人数" in out.stderr  # the line itself, read as GBK
    assert "另存为" in out.stderr and "Traceback" not in out.stderr


def test_a_gbk_rule_file_is_named_as_such(cli, tmp_path):
    path = tmp_path / "gbk.ind"
    path.write_bytes('fact ok: bool "资料齐全"\nA weight 1: ok -> full; else -> 0\n'.encode("gbk"))
    out = cli("check", path)
    assert out.returncode == 3
    assert "gbk.ind:1:" in out.stderr and "GBK-encoded" in out.stderr


@pytest.mark.parametrize("text,line,key", [
    ("indicators:\n  C114:\n    actual： 87\n    target: 100\n", 3, "actual"),
    ("indicators:\n  C114：\n    actual: 87\n    target: 100\n", 2, "C114"),
    ("name： 测试\nindicators:\n  C114: {actual: 87, target: 100}\n", 1, "name"),
])
def test_a_fullwidth_colon_in_yaml_is_reported_at_its_line(cli, card, tmp_path, text, line, key):
    out = cli("eval", card, facts(tmp_path, text))
    assert out.returncode == 4
    assert f"facts.yaml:{line}:" in out.stderr, out.stderr
    assert f"full-width colon '：' after '{key}'" in out.stderr
