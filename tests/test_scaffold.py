"""``indicator-eval init``: a new set that checks, scores and tests at once, never
written over an existing file."""

import yaml

from conftest import run_cli


def test_init_then_check_eval_test_fmt_props(tmp_path):
    folder = tmp_path / "新表"
    done = run_cli("init", folder, "--name", "2024年春节慰问经费绩效评价",
                   "--region", "云南省昆明市东川区")
    assert done.returncode == 0, done.stderr
    stem = "2024年春节慰问经费绩效评价"
    ind = folder / f"{stem}.ind"
    facts = folder / f"{stem}.facts.yaml"
    cases = folder / f"{stem}.cases.yaml"
    assert ind.exists() and facts.exists() and cases.exists()
    text = ind.read_text(encoding="utf-8")
    assert 'set "2024年春节慰问经费绩效评价"' in text
    assert 'region "云南省昆明市东川区"' in text and "year 2024" in text
    assert "grades 优 >= 90, 良 >= 80, 中 >= 60, 差" in text
    assert "explain " in text and "standard " in text and "fact visited" in text

    checked = run_cli("check", ind)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""  # no warning either
    scored = run_cli("eval", ind, facts, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    import json

    result = json.loads(scored.stdout)
    assert result["total"] == "98" or result["total"] == 98
    assert run_cli("test", cases).returncode == 0
    assert run_cli("fmt", "--check", folder).returncode == 0
    assert run_cli("props", ind).returncode == 0
    assert yaml.safe_load(cases.read_text(encoding="utf-8"))["set"] == f"{stem}.ind"


def test_init_never_overwrites(tmp_path):
    assert run_cli("init", tmp_path).returncode == 0
    ind = tmp_path / "新建绩效评价指标体系.ind"
    ind.write_text("# 我改过的表\n", encoding="utf-8")
    (tmp_path / "新建绩效评价指标体系.facts.yaml").unlink()
    done = run_cli("init", tmp_path)
    assert done.returncode == 5
    assert "不会覆盖" in done.stderr and str(ind) in done.stderr
    assert ind.read_text(encoding="utf-8") == "# 我改过的表\n"
    # Nothing at all is written when one file exists: not even the missing facts file.
    assert not (tmp_path / "新建绩效评价指标体系.facts.yaml").exists()
    assert "Traceback" not in done.stderr


def test_init_in_the_current_folder_with_a_name_that_is_no_file_name(tmp_path):
    done = run_cli("init", "--name", "县/区 2023：帮扶*资金", "--year", "2023", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    # ASCII / * and spaces go; the full-width colon is a valid file name character.
    assert made == ["县区2023：帮扶资金.cases.yaml", "县区2023：帮扶资金.facts.yaml",
                    "县区2023：帮扶资金.ind"]
    assert 'set "县/区 2023：帮扶*资金"' in (tmp_path / "县区2023：帮扶资金.ind").read_text(
        encoding="utf-8")
    assert run_cli("test", tmp_path).returncode == 0


def test_init_over_a_file_is_refused(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("x", encoding="utf-8")
    done = run_cli("init", target)
    assert done.returncode == 5 and "不是文件夹" in done.stderr
