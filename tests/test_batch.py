"""Batch scoring as an evaluator runs it: folders and many-project sheets in, a summary
workbook (with its chart), an html or csv summary and per-project reports out; a bad
project never stops the batch; an interrupted run resumes losing nothing and redoing
nothing; --jobs and a real Dask LocalCluster give the same rows as one process."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from indicator_dsl import load_facts, load_set
from indicator_dsl.batch import Progress, set_fingerprint
from indicator_dsl.tabular import facts_template

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
WUCHANG = ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"
WUCHANG_HEADER = ["项目名称", "A.spent", "A.budget", "B1.actual", "B1.target", "B2.actual",
                  "B2.target", "B3.band", "B3.assessed", "C1.band", "C1.assessed", "D1.band",
                  "D1.assessed"]


def _env():
    env = dict(os.environ)
    env.pop("INDICATOR_DEBUG", None)
    return env


def _wuchang_row(i: int) -> list:
    return [f"项目{i}", 80 + i % 21, 100, 40 + i % 61, 100, i % 3, 2, "达成", 12 + i % 4,
            ["达成", "部分达成", "未达成"][i % 3], [27, 20, 10][i % 3], "达成", 8 + i % 3]


def _wuchang_csv(path: Path, count: int, broken=()) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(WUCHANG_HEADER)
        for i in range(count):
            row = _wuchang_row(i)
            if i in broken:
                row[WUCHANG_HEADER.index("B1.target")] = "零"
            writer.writerow(row)
    return path


def _wuchang_mapping(i: int) -> dict:
    row = dict(zip(WUCHANG_HEADER, _wuchang_row(i)))
    out = {"name": row.pop("项目名称"), "indicators": {}}
    for key, value in row.items():
        code, name = key.split(".")
        out["indicators"].setdefault(code, {})[name] = value
    return out


@pytest.fixture
def folder(tmp_path):
    """Projects as a county bureau collects them: YAML files, a filled-in xlsx template,
    an incomplete and a broken file, and a sheet of three projects with a bad cell."""
    scorer = load_set(SEED)
    facts = load_facts(SEED.with_suffix(".facts.yaml"))
    root = tmp_path / "projects"
    (root / "乡镇").mkdir(parents=True)
    (root / "p1.yaml").write_text(SEED.with_suffix(".facts.yaml").read_text("utf-8"), "utf-8")
    (root / "乡镇" / "p2.xlsx").write_bytes(facts_template(scorer, "xlsx", facts=facts))
    (root / "p3.yaml").write_text("name: 缺项目\nbudget: 100\nspent: 96\n", "utf-8")
    (root / "p4.yaml").write_text("name: [broken\n", "utf-8")
    (root / "~$p1.xlsx").write_bytes(b"lock file of an open workbook")
    sheet = facts_template(scorer, "csv", facts=facts, projects=True).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(sheet)))
    header, values = rows[0], rows[1]
    second = list(values)
    second[0] = "第二个项目"
    second[header.index("B321 执行情况")] = "部分执行"
    third = list(values)
    third[0] = "第三个项目"
    third[header.index("C112 计划活动次数")] = "二十四"
    out = io.StringIO()
    csv.writer(out).writerows([header, values, second, third])
    (root / "多项目.csv").write_bytes(out.getvalue().encode("gbk"))
    return root


def header_of_sheet(folder: Path) -> list:
    return next(csv.reader(io.StringIO((folder / "多项目.csv").read_bytes().decode("gbk"))))


def _batch(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "indicator_dsl", "batch", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=_env(),
                          timeout=timeout)


def _summary_rows(path: Path):
    book = openpyxl.load_workbook(path)
    ws = book["汇总"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return book, rows[0], rows[1:]


def test_xlsx_summary_lists_every_project_problem_and_a_chart(folder, tmp_path):
    out = _batch(SEED, folder, "-o", tmp_path / "summary.xlsx")
    assert out.returncode == 7, out.stderr  # some projects could not be scored
    assert "Traceback" not in out.stderr
    book, header, rows = _summary_rows(tmp_path / "summary.xlsx")
    assert book.sheetnames == ["汇总", "问题", "统计"]
    assert header[:8] == ["序号", "项目名称", "来源", "状态", "总分", "等级", "警告数", "问题数"]
    assert "B321 项目实施单位管理制度执行情况（1分）" in header and "C11 2020年春节系列活动完成情况（30分）" in header
    by_source = {r[2]: r for r in rows}
    assert len(rows) == 7  # the lock file is not a project
    col = {h: i for i, h in enumerate(header)}
    good = by_source[f"{folder}/p1.yaml"]
    assert (good[col["状态"]], good[col["总分"]], good[col["等级"]]) == ("已评分", 96.4, "优")
    assert good[col["警告数"]] == 6 and good[col["C112 全区各族各界春节慰问、游园、三下乡、灯展等系列活动完成率（6分）"]] == 5.9
    assert by_source[f"{folder}/乡镇/p2.xlsx"][col["总分"]] == 96.4
    sheet_rows = [r for r in rows if r[2].startswith(f"{folder}/多项目.csv")]
    assert [r[col["项目名称"]] for r in sheet_rows] == ["2020年春节系列活动经费", "第二个项目", "第三个项目"]
    assert sheet_rows[1][col["B321 项目实施单位管理制度执行情况（1分）"]] == 0.6
    assert sheet_rows[2][col["状态"]] == "评分失败"
    missing = by_source[f"{folder}/p3.yaml"]
    assert missing[col["状态"]] == "待补充" and missing[col["总分"]] == "待补充"
    assert missing[col["B13 预算执行率（2分）"]] == 2  # scored from the facts it has
    assert missing[col["A111 与部门中长期规划目标匹配性（1分）"]] == "待补充"
    assert by_source[f"{folder}/p4.yaml"][col["状态"]] == "无法读取"
    problems = [[c.value for c in row] for row in book["问题"].iter_rows(min_row=2)]
    cell = [p for p in problems if p[1] == "第三个项目"]
    letter = openpyxl.utils.get_column_letter(header_of_sheet(folder).index("C112 计划活动次数") + 1)
    assert cell and cell[0][6] == f"{folder}/多项目.csv:{letter}4" and cell[0][3] == "C112"
    assert "“二十四”不是不小于0的整数（计划活动次数，planned），请填写整数" in cell[0][5]
    assert any(p[3] == "A111" and p[4] == "待补充" and "plan_matched" in p[5] for p in problems)
    stats = book["统计"]
    assert len(stats._charts) == 2
    values = {r[0]: r[1] for r in stats.iter_rows(values_only=True) if r and r[0]}
    assert values["项目数"] == 7 and values["已评分"] == 4 and values["优"] == 4
    assert values["90–100"] == 4
    journal = tmp_path / "summary.xlsx.journal.jsonl"
    assert json.loads(journal.read_text("utf-8").splitlines()[-1]) == {"done": True,
                                                                        "projects": 7}


def test_html_summary_is_one_page_with_an_inline_chart(folder, tmp_path):
    out = _batch(SEED, folder, "-o", tmp_path / "summary.html", "--jobs", "2")
    assert out.returncode == 7
    page = (tmp_path / "summary.html").read_text("utf-8")
    assert page.count("<svg") == 2 and "总分分布" in page and "<rect" in page
    assert "<script" not in page and "<link" not in page
    assert "https://" not in page and page.count("http://") == page.count(
        'xmlns="http://www.w3.org/2000/svg"')
    assert "第三个项目" in page and "不是不小于0的整数" in page
    assert ">None<" not in page


def test_jobs_and_formats_give_the_same_rows(folder, tmp_path):
    one = _batch(SEED, folder, "-o", tmp_path / "one.csv")
    two = _batch(SEED, folder, "-o", tmp_path / "two.csv", "--jobs", "2")
    assert one.returncode == two.returncode == 7
    a = (tmp_path / "one.csv").read_text("utf-8-sig")
    assert a == (tmp_path / "two.csv").read_text("utf-8-sig")
    assert (tmp_path / "one.problems.csv").read_text("utf-8-sig") == \
        (tmp_path / "two.problems.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(a)))
    assert len(rows) == 8 and rows[1][4] == "96.4"


def test_reports_for_each_scored_project(folder, tmp_path):
    out = _batch(SEED, folder, "-o", tmp_path / "s.csv", "--reports", tmp_path / "报告",
                 "--format", "docx")
    assert out.returncode == 7
    import docx

    names = sorted(p.name for p in (tmp_path / "报告").iterdir())
    assert names == ["p1.docx", "乡镇_p2.docx", "多项目-2.docx", "多项目-3.docx"]
    document = docx.Document(tmp_path / "报告" / "多项目-3.docx")
    assert any("第二个项目" in p.text for p in document.paragraphs)
    rows = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text("utf-8-sig"))))
    assert {r[8] for r in rows[1:]} >= {"p1.docx", "多项目-2.docx"}


def test_all_scored_exits_0_and_bad_arguments_are_usage_errors(tmp_path):
    data = _wuchang_csv(tmp_path / "p.csv", 20)
    out = _batch(WUCHANG, data, "-o", tmp_path / "s.xlsx")
    assert out.returncode == 0, out.stderr
    assert "20 projects" in out.stderr
    assert _batch(WUCHANG, data, "-o", tmp_path / "s.pdf").returncode == 2
    over = _batch(WUCHANG, data, "-o", data)  # never over an input
    assert over.returncode == 5 and "refusing to write" in over.stderr
    missing = _batch(WUCHANG, tmp_path / "nothing", "-o", tmp_path / "s.xlsx")
    assert missing.returncode == 5 and "no such file or folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _batch(WUCHANG, empty, "-o", tmp_path / "e.xlsx").returncode == 5


def test_a_sheet_with_no_usable_header_is_one_failed_input_not_a_crash(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.csv").write_text("序号,备注\n1,x\n", "utf-8")
    _wuchang_csv(tmp_path / "in" / "good.csv", 3)
    out = _batch(WUCHANG, tmp_path / "in", "-o", tmp_path / "s.csv")
    assert out.returncode == 7
    rows = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == ["无法读取", "已评分", "已评分", "已评分"]


# ------------------------------------------------------------ interrupted and resumed


ROWS_TO_INTERRUPT = 20_000


def _journal_records(path: Path):
    lines = path.read_bytes().split(b"\n")
    out = []
    for line in lines[1:]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "k" in record:
            out.append(record)
    return out


def test_an_interrupted_batch_resumes_losing_and_redoing_nothing(tmp_path):
    # Many rows, so that a fast machine cannot finish before the kill.
    data = _wuchang_csv(tmp_path / "big.csv", ROWS_TO_INTERRUPT, broken={1234})
    summary = tmp_path / "s.csv"
    journal = tmp_path / "s.csv.journal.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "batch", str(WUCHANG),
                                str(data), "-o", str(summary), "--jobs", "1"],
                               cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if journal.exists() and len(_journal_records(journal)) >= 600:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.wait(timeout=30)
    done = _journal_records(journal)
    assert 600 <= len(done) < ROWS_TO_INTERRUPT, "the batch ended before it was interrupted"
    assert not summary.exists()  # never a half-written summary
    # Starting afresh would throw the journal away: refused.
    fresh = _batch(WUCHANG, data, "-o", summary)
    assert fresh.returncode == 2 and "--resume" in fresh.stderr
    resumed = _batch(WUCHANG, data, "-o", summary, "--resume")
    assert resumed.returncode == 7, resumed.stderr  # row 1236 (index 1234) is broken
    assert f"; {len(done)} taken from the journal" in resumed.stderr
    records = _journal_records(journal)
    keys = [r["k"] for r in records]
    assert len(keys) == len(set(keys)) == ROWS_TO_INTERRUPT  # every row once: nothing redone
    # The same summary as an uninterrupted run.
    whole = _batch(WUCHANG, data, "-o", tmp_path / "whole.csv")
    assert whole.returncode == 7
    assert summary.read_text("utf-8-sig") == (tmp_path / "whole.csv").read_text("utf-8-sig")


def test_a_terminated_batch_says_how_to_resume(tmp_path):
    data = _wuchang_csv(tmp_path / "big.csv", ROWS_TO_INTERRUPT)
    summary = tmp_path / "s.xlsx"
    journal = tmp_path / "s.xlsx.journal.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "batch", str(WUCHANG),
                                str(data), "-o", str(summary), "--jobs", "2"], cwd=ROOT,
                               env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if journal.exists() and len(_journal_records(journal)) >= 300:
            break
        time.sleep(0.05)
    process.terminate()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "run again with --resume" in err and "Traceback" not in err
    assert not summary.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no leftovers
    done = len(_journal_records(journal))
    again = _batch(WUCHANG, data, "-o", summary, "--resume")
    assert again.returncode == 0 and f"{done} taken from the journal" in again.stderr


def test_resume_scores_again_only_rows_that_changed(tmp_path):
    data = _wuchang_csv(tmp_path / "p.csv", 50, broken={7})
    summary = tmp_path / "s.xlsx"
    assert _batch(WUCHANG, data, "-o", summary).returncode == 7
    journal = tmp_path / "s.xlsx.journal.jsonl"
    before = len(_journal_records(journal))
    _wuchang_csv(data, 50)  # row 9 (index 7) fixed
    again = _batch(WUCHANG, data, "-o", summary, "--resume")
    assert again.returncode == 0, again.stderr
    assert "49 taken from the journal" in again.stderr
    assert len(_journal_records(journal)) == before + 1
    _, _, rows = _summary_rows(summary)
    assert len(rows) == 50 and {r[3] for r in rows} == {"已评分"}


def test_resume_refuses_a_journal_of_another_set(tmp_path):
    rules = 'set "s"\ntotal 10\nfact done: count "完成数"\nA weight 10: done >= 5 -> full; else -> {}\n'
    first, second = tmp_path / "a.ind", tmp_path / "b.ind"
    first.write_text(rules.format(0), "utf-8")
    second.write_text(rules.format(5), "utf-8")
    data = tmp_path / "p.csv"
    data.write_text("项目名称,完成数\n甲,3\n乙,6\n", "utf-8")
    summary = tmp_path / "s.csv"
    assert _batch(first, data, "-o", summary).returncode == 0
    out = _batch(second, data, "-o", summary, "--resume")
    assert out.returncode == 2 and "the set changed since the interrupted run" in out.stderr
    assert _batch(second, data, "-o", summary).returncode == 0  # a finished run: replaced
    rows = list(csv.reader(io.StringIO(summary.read_text("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == ["5", "10"]


# ------------------------------------------------------------ progress


def test_progress_bar_on_a_terminal_only(tmp_path):
    data = _wuchang_csv(tmp_path / "p.csv", 400)
    quiet = _batch(WUCHANG, data, "-o", tmp_path / "a.csv")
    assert "█" not in quiet.stderr and "\r" not in quiet.stderr
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "batch", str(WUCHANG),
                                str(data), "-o", str(tmp_path / "b.csv")], cwd=ROOT,
                               env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            block = os.read(master, 4096)
        except OSError:
            break
        if not block:
            break
        shown += block
    process.wait(timeout=120)
    os.close(master)
    text = shown.decode("utf-8", "replace")
    assert process.returncode == 0
    assert "\r评分 " in text and "400/400 项目 100%" in text and "█" in text


def test_progress_draws_only_for_a_tty():
    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    for tty in (True, False):
        stream = Stream(tty)
        progress = Progress(stream, interval=0)
        progress.start(10)
        for done in range(1, 11):
            progress.update(done)
        progress.finish()
        assert ("10/10 项目 100%" in stream.getvalue()) is tty
        assert (stream.getvalue() == "") is not tty


# ------------------------------------------------------------ Python API, Dask


def test_score_many_streams_in_order_without_reading_ahead():
    scorer = load_set(WUCHANG)
    taken = []

    def projects():
        for i in range(500):
            taken.append(i)
            yield _wuchang_mapping(i)

    results = scorer.score_many(projects())
    first = next(results)
    assert len(taken) <= 64  # one chunk read, not the whole input
    rest = list(results)
    assert [r.index for r in [first] + rest] == list(range(500))
    for r in [first] + rest[:50]:
        expected = scorer.scores(_wuchang_mapping(r.index))
        assert r.total == expected["total"] and r.status == "ok"
        assert {k: v for k, v in r.scores.items()} == {k: v for k, v in expected.items()
                                                      if k != "total"}


def test_score_many_in_processes_equals_one_process():
    scorer = load_set(WUCHANG)
    mappings = [_wuchang_mapping(i) for i in range(300)]
    mappings[17]["indicators"]["B1"]["target"] = 0
    del mappings[33]["indicators"]["C1"]["band"]
    one = list(scorer.score_many(mappings))
    two = list(scorer.score_many(mappings, jobs=2))
    assert one == two
    assert one[17].status == "failed" and one[33].status == "incomplete"
    assert any(p.code == "C1" and p.severity == "missing" for p in one[33].problems)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    # Threads, not processes: two cores are shared here; each worker still has its own
    # compiled set (the cache lives on the worker object), as the counts below prove.
    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                         dashboard_address=None, protocol="tcp", host="127.0.0.1")
    client = Client(local)
    yield client
    client.close()
    local.close()


def test_local_cluster_rows_equal_one_process_and_compile_once_per_worker(cluster):
    from indicator_dsl.cluster import compiles_per_worker

    scorer = load_set(WUCHANG)
    mappings = [_wuchang_mapping(i) for i in range(2000)]
    mappings[5]["indicators"]["B1"]["target"] = "零"
    one = list(scorer.score_many(mappings))
    on_cluster = list(scorer.score_many(mappings, client=cluster))
    assert len(on_cluster) == 2000
    for a, b in zip(one, on_cluster):
        assert a == b
    key = set_fingerprint(scorer)
    counts = compiles_per_worker(cluster)
    assert len(counts) == 2 and all(c == {key: 1} for c in counts.values()), counts


def test_dask_bag_of_mappings(cluster):
    import dask.bag as db

    from indicator_dsl.cluster import compiles_per_worker, score_bag

    scorer = load_set(WUCHANG)
    mappings = [_wuchang_mapping(i) for i in range(400)]
    bag = db.from_sequence(mappings, npartitions=8)
    results = score_bag(scorer, bag).compute()
    one = list(scorer.score_many(mappings))
    assert [(r.scores, r.total, r.grade, r.status) for r in results] == \
        [(r.scores, r.total, r.grade, r.status) for r in one]
    key = set_fingerprint(scorer)
    assert all(c.get(key) == 1 for c in compiles_per_worker(cluster).values())


def test_batch_command_on_a_scheduler_gives_the_same_summary(cluster, tmp_path):
    data = _wuchang_csv(tmp_path / "p.csv", 600, broken={10, 300})
    address = cluster.scheduler.address
    remote = _batch(WUCHANG, data, "-o", tmp_path / "remote.csv", "--scheduler", address,
                    "--reports", tmp_path / "r", "--format", "md")
    local = _batch(WUCHANG, data, "-o", tmp_path / "local.csv")
    assert remote.returncode == local.returncode == 7, remote.stderr
    a = list(csv.reader(io.StringIO((tmp_path / "remote.csv").read_text("utf-8-sig"))))
    b = list(csv.reader(io.StringIO((tmp_path / "local.csv").read_text("utf-8-sig"))))
    assert len(a) == 601
    for row_a, row_b in zip(a, b):
        assert row_a[:8] == row_b[:8] and row_a[9:] == row_b[9:]
    assert len(list((tmp_path / "r").iterdir())) == 598  # reports of the scored ones
    assert Decimal(a[1][4]) == load_set(WUCHANG).scores(_wuchang_mapping(0))["total"]
