"""Reports: the score-table layout, Markdown (snapshot), HTML (escaping, self-contained,
opened in a real headless Chromium), xlsx and docx read back, users' own templates.

The Markdown snapshots of every shipped set with its facts are tests/snapshots/*.md. After an
intended change to the report, refresh it explicitly and review the diff:

    INDICATOR_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_render.py -k snapshot

(the test then rewrites the file and skips; it never rewrites it on its own).
"""

from __future__ import annotations

import html.parser
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from indicator_dsl import IndicatorError, load_facts, load_set, loads_set
from indicator_dsl.render import (BINARY_FORMATS, FORMATS, TemplateError, render_docx,
                                  render_html, render_markdown, render_user_template,
                                  render_xlsx, report_context, score_table)

from conftest import ROOT, SHIPPED_SETS, shipped_name

SEED_001 = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
SNAPSHOTS = ROOT / "tests/snapshots"
UPDATE_ENV = "INDICATOR_UPDATE_SNAPSHOTS"

HOSTILE = "<script>alert(1)</script>"

# A small set with what seed 001 lacks: a hostile name, a leaf one level above the
# deepest (its cell spans the last level column), not-applicable leaves and
# re-scaled groups, pipes and HTML in texts.
ODD_SET = f'''
set "测试集 & <b>"
region "某地"
year 2021
total 100
grades 优 >= 90, 良 >= 80, 中 >= 60, 差

fact covered: bool "覆盖"
fact assessed: number

A "决策" weight 40 {{
  A1 "立项" weight 20 {{
    A11 "{HOSTILE}" weight 10 {{
      explain "解释 <i>斜</i> & 说明"
      standard "覆盖 | 得满分"
      score: covered -> full; else -> 0
    }}
    A12 "依据" weight 10: covered -> full; else -> 0
  }}
  A2 "浅层指标" weight 20: assess(assessed, 0, weight)
}}
B "管理" weight 60 {{
  B1 "执行" weight 30: assess(assessed, 0, weight)
  B2 "验收" weight 30: assess(assessed, 0, weight)
}}
'''
ODD_FACTS = {"name": "项目 <img src=x onerror=alert(1)>",
             "indicators": {"A11": {"covered": False}, "A12": "na", "A2": {"assessed": 15},
                            "B1": {"assessed": 25}, "B2": "na"}}


@pytest.fixture(scope="module")
def seed():
    """Seed 001 scored with its facts: 96.4, 优, 32 leaves in four levels."""
    facts = load_facts(SEED_001.with_name("spring-festival.facts.yaml"))
    return load_set(SEED_001).evaluate(facts)


@pytest.fixture(scope="module")
def odd():
    return loads_set(ODD_SET, "odd.ind").evaluate(ODD_FACTS)


@pytest.fixture(scope="module")
def failed():
    """An evaluation where an indicator cannot be scored (a fact is missing)."""
    return loads_set(ODD_SET, "odd.ind").evaluate({"indicators": {"A11": {"covered": True}}})


# ------------------------------------------------------------------ layout


def test_score_table_merges_groups_over_their_leaves(seed):
    rows = score_table(seed)
    assert len(rows) == 32 and seed.depth == 4
    first = rows[0].cells
    assert [c.indicator.code for c in first] == ["A", "A1", "A11", "A111"]
    assert [c.rowspan for c in first] == [10, 5, 1, 1]
    # A group's cell is drawn once; the rows below it are covered (rowspan 0).
    assert rows[1].cells[0].rowspan == 0 and rows[1].cells[0].indicator.code == "A"
    spans = {c.indicator.code: c.rowspan for r in rows for c in r.cells
             if c.indicator is not None and c.drawn and not c.indicator.is_leaf}
    assert (spans["A"], spans["B"], spans["C"]) == (10, 15, 7)
    # B11 sits at level 3 of a four-level table: its cell spans 三级 and 四级.
    b11 = next(r for r in rows if r.leaf.code == "B11")
    assert [(c.rowspan, c.colspan) for c in b11.cells[2:]] == [(1, 2), (1, 0)]
    # Every row covers exactly the level columns.
    for row in rows:
        assert sum(c.colspan for c in row.cells) == 4


def test_context_keys_are_documented(seed):
    """Every key of the template context appears in docs/reports.md."""
    doc = (ROOT / "docs/reports.md").read_text(encoding="utf-8")
    context = report_context(seed)
    missing = [k for k in context if f"`{k}`" not in doc]
    assert not missing, f"undocumented context keys: {missing}"
    for key in list(context["rows"][0]) + list(context["rows"][0]["cells"][0]) + \
            list(context["groups"][0]) + list(context["deductions"][0]):
        assert f"`{key}`" in doc, f"undocumented field {key!r}"


# ---------------------------------------------------------------- markdown


def _sets_with_facts():
    for ind in SHIPPED_SETS:
        facts = ind.with_suffix(".facts.yaml")
        if facts.is_file():
            yield pytest.param(ind, facts, id=shipped_name(ind))


@pytest.mark.parametrize("ind,facts", list(_sets_with_facts()))
def test_markdown_snapshot(ind, facts):
    """Every shipped set's report for its own project, as the evaluator hands it in."""
    text = render_markdown(load_set(ind).evaluate(load_facts(facts)))
    snapshot = SNAPSHOTS / (shipped_name(ind)[: -len(".ind")].replace("/", "-") + ".md")
    if os.environ.get(UPDATE_ENV):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
        pytest.skip(f"{UPDATE_ENV} is set: rewrote {snapshot.relative_to(ROOT)}; review the diff")
    assert snapshot.exists(), f"no snapshot for {ind.name}: run with {UPDATE_ENV}=1 to create it"
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"the Markdown report changed; if intended, refresh with {UPDATE_ENV}=1 "
        "(see this module's docstring)")


def test_markdown_layout(seed):
    text = render_markdown(seed)
    assert "| 一级指标 | 二级指标 | 三级指标 | 四级指标 | 分值 | 得分 | 指标解释 | 评分标准 | 评分说明 |" \
        in text
    # A group's name only in its first row; the leaf at level 3 leaves 四级 empty.
    assert "| A.项目决策 | A1.项目立项 | A11.与部门中长期规划目标适应性 | A111." in text
    assert "|  |  | A12.立项依据充分性 | A121." in text
    assert "| B.项目管理 | B1.投入管理 | B11.预算编制合理性 |  | 1 | 1 |" in text
    assert "| **合计** |  |  |  | **100** | **96.4** |  |  | 等级：优 |" in text
    assert "共扣 3.6 分" in text and "| C1115.2020年春节系列活动项目经费使用情况 | 6 | 5.5 | 0.5 |" in text


def test_markdown_escapes_cells_and_lists_na_and_rescaling(odd):
    text = render_markdown(odd)
    assert HOSTILE not in text and "&lt;script&gt;" in text
    assert "覆盖 \\| 得满分" in text
    assert "<img" not in text
    # A2 (level 2 of 3) leaves the 三级 cell empty.
    assert "|  | A2.浅层指标 |  | 20 | 15 |" in text
    assert "### 不适用与折算" in text
    assert "- A12.依据（10分）：不适用，不参与评分" in text
    assert "B2不适用；适用指标得25分（满分30分），按60分折算为50分" in text
    assert "总分比满分少 35 分" in text


# -------------------------------------------------------------------- html


class _Grid(html.parser.HTMLParser):
    """Rows of the first <table class="score-table">: per row, the columns its cells
    occupy once rowspans from above are counted."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.rows = []
        self.pending = {}  # column -> rows still covered by a rowspan above
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "score-table" in (attrs.get("class") or ""):
            self.inside = True
        if not self.inside:
            return
        if tag == "tr":
            self.rows.append([])
            self.col = 0
        if tag in ("td", "th"):
            while self.pending.get(self.col, 0) > 0:
                self.pending[self.col] -= 1
                self.rows[-1].append("^")
                self.col += 1
            rowspan = int(attrs.get("rowspan", 1))
            for _ in range(int(attrs.get("colspan", 1))):
                if rowspan > 1:
                    self.pending[self.col] = rowspan - 1
                self.rows[-1].append(tag)
                self.col += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        if self.inside and tag == "tr":
            while self.pending.get(self.col, 0) > 0:
                self.pending[self.col] -= 1
                self.rows[-1].append("^")
                self.col += 1


def test_html_table_is_a_rectangle_with_merged_groups(seed):
    page = render_html(seed)
    grid = _Grid()
    grid.feed(page)
    assert len(grid.rows) == 1 + 32 + 1  # header, leaves, total
    assert {len(r) for r in grid.rows} == {4 + 5}
    assert 'rowspan="10"' in page and 'rowspan="15"' in page and 'rowspan="7"' in page
    assert 'colspan="2"' in page  # B11 etc. over 三级 and 四级
    assert "<thead>" in page


def test_html_is_self_contained_printable_and_responsive(seed):
    page = render_html(seed)
    assert "http://" not in page and "https://" not in page
    for remote in ("<script", "<link", "<img", "<iframe", "@import", "url("):
        assert remote not in page.lower()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "size: A4" in page and "@media print" in page and "break-inside: avoid" in page
    assert '"Noto Sans CJK SC"' in page and '"Microsoft YaHei"' in page and "SimSun" in page
    assert "max-width: 760px" in page


def test_html_escapes_every_user_text(odd):
    page = render_html(odd)
    assert HOSTILE not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "测试集 &amp; &lt;b&gt;" in page
    assert "解释 &lt;i&gt;斜&lt;/i&gt; &amp; 说明" in page


def test_html_br_filter_keeps_line_breaks_but_escapes():
    from indicator_dsl.render import environment

    env = environment(autoescape=True)
    out = env.from_string("{{ t|br }}").render(t="a<b>\nc")
    assert out == "a&lt;b&gt;<br>c"


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def _run_chromium(binary, profile, *args):
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _png_size(path: Path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_html_in_a_real_browser(seed, tmp_path):
    """Open seed 001's report in headless Chromium: what the page shows, and
    screenshots at desktop and phone widths (kept in tmp_path for a look)."""
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    page = tmp_path / "report.html"
    page.write_text(render_html(seed), encoding="utf-8")
    url = page.as_uri()

    dom = _run_chromium(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shown = dom.stdout
    assert re.search(r'id="total">96\.4<', shown)
    assert re.search(r'id="grade">优<', shown)
    for header in ("一级指标", "二级指标", "三级指标", "四级指标", "评分说明"):
        assert f"<th scope=\"col\">{header}</th>" in shown
    for group in ("A.项目决策", "B.项目管理", "C.项目绩效"):
        assert group in shown
    assert ("预算执行率为96.88%，低于100%（差3.12%），每低1%扣权重的3%（0.18分）"
            "（按整档计，不足一档不计），共3档，扣0.54分，得5.46分，四舍五入为5.5分") in shown

    for name, size in (("desktop", "1200,2000"), ("phone", "390,2000")):
        png = tmp_path / f"{name}.png"
        shot = _run_chromium(binary, tmp_path / "profile", f"--screenshot={png}",
                             f"--window-size={size}", url)
        assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
        assert _png_size(png) == tuple(int(x) for x in size.split(","))
        assert png.stat().st_size > 20_000  # a rendered page, not a blank image


# -------------------------------------------------------------------- xlsx


def test_xlsx_reads_back(seed):
    from openpyxl import load_workbook

    data = render_xlsx(seed)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["评分表", "扣分与提示", "分组小计"]
    ws = wb["评分表"]
    assert ws["A1"].value == "2020年春节系列活动经费项目支出绩效评价指标体系"
    header = [c.value for c in ws[3]]
    assert header == ["一级指标", "二级指标", "三级指标", "四级指标", "分值", "得分",
                      "指标解释", "评分标准", "评分说明"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    # 一级: A over its 10 leaves (rows 4–13), B over 15, C over 7.
    assert {"A4:A13", "A14:A28", "A29:A35"} <= merged
    assert {"B4:B8", "B9:B13", "C5:C6"} <= merged  # A1, A2, A12
    assert "C14:D14" in merged  # B11: a level-3 leaf over 三级 and 四级
    assert ws["A4"].value == "A.项目决策\n20分，得20分"
    assert ws["D4"].value == "A111.与部门中长期规划目标匹配性"
    # Scores are numbers, exactly as computed.
    c112 = next(row for row in ws.iter_rows(min_row=4) if row[3].value and
                str(row[3].value).startswith("C112."))
    assert c112[4].value == 6 and c112[5].value == 5.9 and c112[5].data_type == "n"
    assert c112[8].value.startswith("系列活动完成率为91.67%")
    total = next(row for row in ws.iter_rows() if row[0].value == "合计")
    assert (total[4].value, total[5].value) == (100, 96.4)
    grade = next(row for row in ws.iter_rows() if row[0].value == "等级")
    assert grade[4].value == "优"
    assert ws.print_title_rows == "$3:$3"
    assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
    assert ws["G4"].alignment.wrap_text and ws.column_dimensions["I"].width >= 30
    # The XML holds "96.4" and "5.9", not 96.40000000000001.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>96.4</v>" in sheet and "<v>5.9</v>" in sheet and "0000000" not in sheet

    deductions = wb["扣分与提示"]
    rows = [[c.value for c in row] for row in deductions.iter_rows()]
    assert ["指标", "分值", "得分", "扣分", "原因"] in rows
    b21 = next(r for r in rows if r[0] == "B21.资金使用情况")
    assert b21[1:4] == [2, 1, 1]
    assert next(r for r in rows if r[0] == "合计")[3] == 3.6
    groups = [[c.value for c in row] for row in wb["分组小计"].iter_rows()]
    assert ["C.项目绩效", 60, 57.4] == groups[next(i for i, g in enumerate(groups)
                                                  if g[0] == "C.项目绩效")][:3]


def test_xlsx_lists_warnings_and_not_applicable(odd):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render_xlsx(odd)))
    ws = wb["评分表"]
    assert "B6:C6" in {str(r) for r in ws.merged_cells.ranges}  # A2, level 2 of 3
    na = next(row for row in ws.iter_rows() if row[2].value and "A12." in str(row[2].value))
    assert na[4].value == "不适用"
    notes = [[c.value for c in row] for row in wb["扣分与提示"].iter_rows()]
    kinds = {r[1] for r in notes if r[1]}
    assert {"不适用", "折算"} <= kinds
    assert ws["C4"].value == f"A11.{HOSTILE}"  # a text cell, kept as written


# -------------------------------------------------------------------- docx


def test_docx_reads_back(seed):
    import docx

    document = docx.Document(io.BytesIO(render_docx(seed)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "2020年春节系列活动经费项目支出绩效评价指标体系"
    assert "地区：云南省昆明市东川区" in texts
    assert any(t.startswith("总分：96.4 / 100") and "等级：优" in t for t in texts)
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "一级指标", "二级指标", "三级指标", "四级指标", "分值", "得分", "指标解释", "评分标准",
        "评分说明"]
    assert len(table.rows) == 1 + 32 + 2
    # A's cell is one merged cell over rows 1–10; row 11 starts B.
    assert table.cell(1, 0)._tc is table.cell(10, 0)._tc
    assert table.cell(11, 0)._tc is not table.cell(10, 0)._tc
    assert table.cell(1, 0).text == "A.项目决策\n20分，得20分"
    # B11 (row 11) spans 三级 and 四级.
    assert table.cell(11, 2)._tc is table.cell(11, 3)._tc
    assert table.cell(11, 2).text == "B11.预算编制合理性"
    row = [c.text for c in table.rows[-2].cells]
    assert row[0] == "合计" and row[4:6] == ["100", "96.4"]
    assert [c.text for c in table.rows[-1].cells][4] == "优"
    # The header row repeats on every page; rows do not split.
    assert table.rows[0]._tr.trPr.xml.count("tblHeader") == 1
    assert "cantSplit" in table.rows[5]._tr.trPr.xml
    assert "扣分情况" in texts and "共扣 3.6 分：" in texts
    deductions = document.tables[2]
    assert [c.text for c in deductions.rows[1].cells][:4] == ["B21.资金使用情况", "2", "1",
                                                              "1"]
    section = document.sections[0]
    assert section.page_width > section.page_height  # A4 landscape


def test_docx_lists_warnings(odd):
    import docx

    document = docx.Document(io.BytesIO(render_docx(odd)))
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "提示" in texts and "不适用：A12.依据" in texts and "折算：B.管理" in texts
    assert document.tables[0].cell(1, 2).text == f"A11.{HOSTILE}"


@pytest.mark.parametrize("render", [render_xlsx, render_docx])
def test_office_files_are_deterministic(seed, render):
    first = render(seed)
    assert render(seed) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "1980-01-01T00:00:00Z" in core
    assert core.count("1980-01-01") == 2  # created and modified


# ----------------------------------------------------------- formats, edges


def test_formats_registry(seed):
    assert set(FORMATS) == {"table", "json", "markdown", "html", "xlsx", "docx"}
    assert BINARY_FORMATS == {"xlsx", "docx"}
    for name, render in FORMATS.items():
        out = render(seed)
        assert isinstance(out, bytes if name in BINARY_FORMATS else str), name


@pytest.mark.parametrize("path", SHIPPED_SETS, ids=shipped_name)
def test_every_bundled_set_renders_in_every_format(path):
    ev = load_set(path).evaluate(load_facts(path.with_suffix(".facts.yaml")))
    for name, render in FORMATS.items():
        assert render(ev), name


def test_an_incomplete_evaluation_still_renders(failed):
    assert not failed.ok and failed.total is None
    md = render_markdown(failed)
    assert "总分：**—**" in md and "有指标无法评分" in md and "### 问题" in md
    assert "有指标无法评分" in render_html(failed)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(render_xlsx(failed)))["评分表"]
    total = next(row for row in ws.iter_rows() if row[0].value == "合计")
    assert [c.value for c in total[3:5]] == [100, "—"]  # 分值, 得分 (three levels)
    assert render_docx(failed)


# ----------------------------------------------------------- user templates


def test_user_template_sees_the_documented_context(seed):
    text = ("{{ title }}|{{ total }}|{{ grade }}|{{ rows|length }}|{{ level_names|join(',') }}\n"
            "{% for d in deductions %}{{ d.code }}={{ d.lost }};{% endfor %}.\n"
            "{{ report.indicators[0].code }}|{{ rows[0].cells[0].rowspan }}")
    out = render_user_template(seed, text, autoescape=False, path="mine.md.j2")
    lines = out.splitlines()
    assert lines[0] == ("2020年春节系列活动经费项目支出绩效评价指标体系|96.4|优|32|"
                        "一级指标,二级指标,三级指标,四级指标")
    assert lines[1] == "B21=1;C111=2;C112=0.1;C1115=0.5;."
    assert lines[2] == "A|10"


def test_user_template_autoescape(odd):
    text = "{{ rows[0].name }}"
    assert render_user_template(odd, text, autoescape=False) == HOSTILE
    assert render_user_template(odd, text, autoescape=True) == \
        "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize("template, line, words", [
    ("标题\n{{ ''.__class__.__mro__ }}\n", 2, "sandbox refuses"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", 1, "sandbox refuses"),
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", 1, "sandbox refuses"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", 1, "sandbox refuses"),
    ("{{ ''|attr('__class__') }}", 1, "sandbox refuses"),
    ("{{ '{0.__class__}'.format(1) }}", 1, "sandbox refuses"),
    ("\n{{ os.system('id') }}", 2, "unknown name"),
    ("{{ totl }}", 1, "unknown name"),
    ("{% for r in rows %}\n{{ r.nope }}{% endfor %}", 2, "unknown name"),
    ("ok\n{% for x in rows %}\n{{ x.code }\n", 3, "syntax error"),
    ("{% for x in rows %}{{ x }}", 1, "syntax error"),
    ("{{ total|no_such_filter }}", 1, "syntax error"),
    ("\n\n{{ 1 // 0 }}", 3, "ZeroDivisionError"),
    ("{{ 'x' * 100000000 }}", 1, "over a limit"),
    ("{{ 10 ** 100000 }}", 1, "over a limit"),
    ("{% for i in range(10**9) %}{% endfor %}", 1, "Range too big"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", None, "recurses"),
])
def test_user_template_failures_are_clean_diagnostics(seed, template, line, words):
    with pytest.raises(IndicatorError) as info:
        render_user_template(seed, template, autoescape=False, path="reports/mine.md.j2")
    error = info.value
    assert isinstance(error, TemplateError)
    assert error.__cause__ is None and error.__suppress_context__
    [diagnostic] = error.diagnostics
    assert diagnostic.file == "reports/mine.md.j2" and diagnostic.line == line
    assert words in diagnostic.message and diagnostic.hint
    rendered = error.render()
    assert rendered.startswith("reports/mine.md.j2")
    assert "Traceback" not in rendered and "jinja2.exceptions" not in rendered


def test_unknown_name_hint_suggests_the_close_key(seed):
    with pytest.raises(TemplateError) as info:
        render_user_template(seed, "{{ totl }}", autoescape=False)
    assert "did you mean 'total'" in info.value.diagnostics[0].hint


def test_the_examples_in_docs_render(seed):
    doc = (ROOT / "docs/reports.md").read_text(encoding="utf-8")
    examples = re.findall(r"```jinja\n(.*?)```", doc, re.S)
    assert len(examples) == 2
    summary = render_user_template(seed, examples[0], autoescape=False, path="summary.md.j2")
    assert "总分 **96.4** / 100，等级「优」" in summary and "| C.项目绩效 | 60 | 57.4 |" in summary
    table = render_user_template(seed, examples[1], autoescape=True, path="table.html.j2")
    assert table.count("<tr>") == 32 and 'rowspan="10"' in table
