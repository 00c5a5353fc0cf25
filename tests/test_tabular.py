"""Facts templates and spreadsheets: every shipped set's template, filled from its own
facts file, scores as the YAML facts do, in every form (YAML, xlsx and CSV, one project
or one row per project); spreadsheets as Excel and WPS users save them (labels as
headers, GBK CSV, merged title rows, numbers stored as text, percent-formatted cells,
是/否) are read; a bad cell names its sheet and cell and the fix."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from indicator_dsl import FactsError, load_facts, load_set, loads_facts, loads_set
from indicator_dsl.tabular import facts_template, read_projects

ROOT = Path(__file__).resolve().parents[1]
SETS = sorted((ROOT / "indicator_sets").rglob("*.ind"))
SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
WUCHANG = ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"


def _set_and_facts(path: Path):
    return load_set(path), load_facts(path.with_suffix(".facts.yaml"))


@pytest.fixture(scope="module")
def seed():
    return _set_and_facts(SEED)


# ------------------------------------------------------------ templates round-trip


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["yaml", "xlsx", "csv"])
def test_one_project_template_filled_from_the_facts_file_scores_the_same(path, fmt, tmp_path):
    scorer, facts = _set_and_facts(path)
    data = facts_template(scorer, fmt, facts=facts)
    target = tmp_path / f"facts.{fmt}"
    target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    again = load_facts(target)
    assert scorer.scores(again) == scorer.scores(facts)
    # Everything the file held is still there (published figures, names …).
    assert scorer.evaluate(again).ok and \
        len(scorer.evaluate(again).warnings) == len(scorer.evaluate(facts).warnings)


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_many_project_template_filled_from_the_facts_file_scores_the_same(path, fmt):
    scorer, facts = _set_and_facts(path)
    data = facts_template(scorer, fmt, facts=facts, projects=True)
    rows = list(read_projects(data, f"projects.{fmt}", scorer))
    assert len(rows) == 1 and rows[0].error is None, rows[0].error
    assert rows[0].row == 2
    assert scorer.scores(rows[0].facts) == scorer.scores(facts)


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_a_blank_template_loads_and_lists_every_fact_missing(path, tmp_path):
    scorer, _ = _set_and_facts(path)
    for fmt in ("yaml", "xlsx", "csv"):
        data = facts_template(scorer, fmt)
        target = tmp_path / f"blank.{fmt}"
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        evaluation = scorer.evaluate(load_facts(target))
        leaves = [r for r in evaluation.leaves() if r.status == "error"]
        assert evaluation.total is None  # never a silent 0
        assert len(leaves) == len([leaf for leaf in scorer.checked.leaves()
                                   if any(leaf.code in n.readers for n in scorer.fact_needs())])


def test_yaml_template_has_labels_types_ranges_and_standards(seed):
    scorer, _ = seed
    text = facts_template(scorer, "yaml")
    # Project-wide where the set shares them through a set-level `let` …
    top = text.split("indicators:")[0]
    assert "\nbudget:" in top and "\nspent:" in top and "B13、C1115读取" in top
    assert "项目预算金额 · 金额（元），范围(0, 10000000000]" in top
    # … and under each leaf otherwise, with its 评分标准 and allowed values.
    assert "  B321:\n    execution:" in text and "  B322:\n    execution:" in text
    assert "等级：有效执行/部分执行/未执行" in text
    assert "评分标准：慰问人数与预期人数的比例达到100%，得满分" in text
    assert "计划活动次数 · 整数，范围[1, 10000]" in text


def test_xlsx_template_has_dropdowns_ranges_frozen_header_and_widths(seed):
    scorer, _ = seed
    book = openpyxl.load_workbook(io.BytesIO(facts_template(scorer, "xlsx")))
    ws = book["事实"]
    header = [c.value for c in ws[2]]
    assert header[:7] == ["指标编码", "指标名称", "事实名", "事实说明", "类型", "可选值/范围", "填写值"]
    assert ws.freeze_panes == "A3"
    assert ws.column_dimensions["H"].width >= 40
    rows = {(r[0].value, r[2].value): r[0].row for r in ws.iter_rows(min_row=3)}
    validations = ws.data_validations.dataValidation

    def rule_for(code, name):
        cell = f"G{rows[(code, name)]}"
        found = [v for v in validations if cell in v.sqref]
        assert len(found) == 1, cell
        return found[0]

    assert rule_for("B321", "execution").formula1 == '"有效执行,部分执行,未执行"'
    assert rule_for("A111", "plan_matched").formula1 == '"是,否"'
    count = rule_for("C112", "planned")
    assert (count.type, count.operator, count.formula1, count.formula2) == \
        ("whole", "between", "1", "10000")
    percent_row = rows[("C221", "sat_output")]
    assert ws[f"G{percent_row}"].number_format == "0.00%"
    assert ws[f"A{rows[('（项目）', 'budget')]}"].value == "（项目）"


def test_xlsx_projects_template_has_one_column_per_fact_with_validation(seed):
    scorer, _ = seed
    book = openpyxl.load_workbook(io.BytesIO(facts_template(scorer, "xlsx", projects=True)))
    ws = book["项目"]
    header = [c.value for c in ws[1]]
    assert header[0] == "项目名称" and "项目预算金额（元）" in header
    assert "B321 执行情况" in header and "B322 执行情况" in header
    assert ws.freeze_panes == "B2"
    column = openpyxl.utils.get_column_letter(header.index("B321 执行情况") + 1)
    lists = [v for v in ws.data_validations.dataValidation
             if f"{column}2:{column}1048576" in str(v.sqref)]
    assert lists and lists[0].formula1 == '"有效执行,部分执行,未执行"'
    assert "评分标准" in ws[f"{column}1"].comment.text


def test_long_level_lists_go_to_a_hidden_options_sheet():
    levels = ", ".join(f'"等级{i},含逗号"' for i in range(3))
    scorer = loads_set(f'set "s"\ntotal 1\nfact q: level({levels})\nA weight 1: '
                       'q == "等级0,含逗号" -> full; else -> 0\n', "s.ind")
    book = openpyxl.load_workbook(io.BytesIO(facts_template(scorer, "xlsx")))
    assert book["选项"].sheet_state == "hidden"
    formulas = [v.formula1 for v in book["事实"].data_validations.dataValidation]
    assert "选项!$A$1:$A$3" in formulas


# ------------------------------------------------------------ spreadsheets as users save them


def _rows(scorer, data: bytes, name: str):
    return list(read_projects(data, name, scorer))


def test_gbk_csv_with_chinese_labels_is_read(seed):
    scorer, facts = seed
    text = facts_template(scorer, "csv", facts=facts, projects=True).decode("utf-8-sig")
    rows = _rows(scorer, text.encode("gbk"), "projects.csv")
    assert rows[0].error is None and scorer.scores(rows[0].facts) == scorer.scores(facts)
    # And the one-project form, saved by WPS in GBK, through the plain facts loader.
    one = facts_template(scorer, "csv", facts=facts).decode("utf-8-sig")
    again = loads_facts(one.encode("gb18030"), "facts.csv", ".csv")
    assert scorer.scores(again) == scorer.scores(facts)


def test_utf16_and_tab_separated_csv_is_read(seed):
    scorer, facts = seed
    text = facts_template(scorer, "csv", facts=facts, projects=True).decode("utf-8-sig")
    out = io.StringIO()
    csv.writer(out, delimiter="\t").writerows(csv.reader(io.StringIO(text)))
    rows = _rows(scorer, out.getvalue().encode("utf-16"), "projects.csv")
    assert rows[0].error is None and scorer.scores(rows[0].facts) == scorer.scores(facts)


def _wps_workbook(scorer, facts, extra_rows=()) -> bytes:
    """A sheet as a county bureau types it in WPS: merged title rows, labels as headers,
    numbers stored as text, percents as formatted fractions, 是/否."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws["A1"] = "2020年春节系列活动经费绩效评价事实表"
    ws.merge_cells("A1:H1")
    ws["A2"] = "填报单位：东川区委办（盖章）"
    ws.merge_cells("A2:H2")
    project = {k: v.value for k, v in facts.project.items()}
    ind = {c: {k: v.value for k, v in t.items()} for c, t in facts.indicators.items()}
    columns = [("序号", lambda: 1), ("项目名称", lambda: project["name"]),
               ("项目预算金额", lambda: "2,197,150"),  # number stored as text
               ("实际支出金额（元）", lambda: float("2128504.6")),
               ("联系人", lambda: "张三")]
    for need in scorer.fact_needs():
        if need.places == (None,):
            continue
        for code in need.places:
            value = ind[code][need.name]
            columns.append((f"{code} {need.label}", lambda v=value, k=need.kind: _as_wps(v, k)))
    for col, (head, _) in enumerate(columns, start=1):
        ws.cell(row=3, column=col, value=head)
    for col, (_, value) in enumerate(columns, start=1):
        cell = ws.cell(row=4, column=col, value=value())
        if isinstance(cell.value, float) and cell.value < 1.5 and "满意度" in columns[col - 1][0]:
            cell.number_format = "0.00%"
    for r, values in enumerate(extra_rows, start=5):
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_wps(value, kind):
    if value is True or value is False:
        return "是" if value else "否"
    if kind == "percent":
        return float(Decimal(str(value).rstrip("%")) / 100) if str(value).endswith("%") \
            else float(value)
    if isinstance(value, Decimal):
        return str(value)  # numbers stored as text
    return value


def test_a_wps_like_workbook_is_read(seed):
    scorer, facts = seed
    rows = _rows(scorer, _wps_workbook(scorer, facts), "项目.xlsx")
    assert len(rows) == 1
    row = rows[0]
    assert row.error is None, row.error and row.error.render()
    assert row.row == 4 and row.name == "2020年春节系列活动经费"
    assert scorer.scores(row.facts) == scorer.scores(facts)
    assert row.facts.indicators["C221"]["sat_output"].value == Decimal("0.95")
    assert row.facts.project["budget"].where.file == "项目.xlsx:Sheet1!C4"


def test_formula_noise_in_a_number_cell_is_read_as_excel_shows_it(seed):
    scorer, facts = seed
    data = _wps_workbook(scorer, facts)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["Sheet1"]
    header = [c.value for c in ws[3]]
    col = openpyxl.utils.get_column_letter(header.index("C112 已进行活动次数") + 1)
    ws[f"{col}4"] = 0.1 * 3 * 10 * 22 / 3  # 22.000000000000004, as a formula leaves it
    out = io.BytesIO()
    book.save(out)
    (row,) = _rows(scorer, out.getvalue(), "p.xlsx")
    assert row.error is None and row.facts.indicators["C112"]["held"].value == 22


def test_bad_cells_name_sheet_and_cell_and_the_fix(seed):
    scorer, facts = seed
    data = _wps_workbook(scorer, facts)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["Sheet1"]
    header = [c.value for c in ws[3]]
    col = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(header)}
    ws[f"{col['B321 执行情况']}4"] = "有效"
    ws[f"{col['C112 计划活动次数']}4"] = "二十四"
    ws[f"{col['C221 项目实施满意度得分率']}4"] = 95
    ws[f"{col['A111 与部门中长期规划目标匹配']}4"] = "也许"
    out = io.BytesIO()
    book.save(out)
    (row,) = _rows(scorer, out.getvalue(), "p.xlsx")
    assert row.facts is None
    found = {d.file: d.message_cn for d in row.error.diagnostics}
    b321 = f"p.xlsx:Sheet1!{col['B321 执行情况']}4"
    assert "“有效”不是可选值" in found[b321] and "是否应为“有效执行”" in found[b321]
    assert "不是不小于0的整数" in found[f"p.xlsx:Sheet1!{col['C112 计划活动次数']}4"]
    assert "请写作 95% 或 0.95" in found[f"p.xlsx:Sheet1!{col['C221 项目实施满意度得分率']}4"]
    assert "请填写“是”或“否”" in found[f"p.xlsx:Sheet1!{col['A111 与部门中长期规划目标匹配']}4"]


def test_ten_thousand_rows_with_broken_ones_are_all_read_in_order():
    scorer = load_set(WUCHANG)
    header = ["项目名称", "A.spent", "A.budget", "B1 慰问人数", "B1.target", "B2.actual",
              "B2 计划慰问活动次数", "B3 定性指标完成情况（财预〔2020〕10号第十六条）",
              "B3.assessed", "C1.band", "C1.assessed", "D1.band", "D1.assessed"]
    broken = {17: ("B3.assessed", "很好"), 4_321: ("B1.target", "0"),
              9_998: ("C1.band", "达到")}
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("项目")
    ws.append(header)
    for i in range(2, 10_002):
        values = [f"项目{i}", 90 + i % 10, 100, 50 + i % 50, 100, 10, 10, "达成", 14,
                  "部分达成", 20, "达成", 9]
        if i in broken:
            values[header.index(broken[i][0])] = broken[i][1]
        ws.append(values)
    out = io.BytesIO()
    book.save(out)
    rows = _rows(scorer, out.getvalue(), "县级项目.xlsx")
    assert [r.row for r in rows] == list(range(2, 10_002))
    bad = {r.row: r for r in rows if r.error is not None}
    assert set(bad) == set(broken)
    assert bad[17].error.diagnostics[0].file == "县级项目.xlsx:项目!I17"
    assert bad[4_321].error.diagnostics[0].file == "县级项目.xlsx:项目!E4321"
    assert "超出范围" in bad[4_321].error.diagnostics[0].message_cn
    assert bad[9_998].error.diagnostics[0].file == "县级项目.xlsx:项目!J9998"
    good = [r for r in rows if r.error is None]
    assert len(good) == 9_997
    for r in good[:200] + good[-200:]:
        i = r.row
        expected = scorer.scores({"indicators": {
            "A": {"spent": 90 + i % 10, "budget": 100},
            "B1": {"actual": 50 + i % 50, "target": 100},
            "B2": {"actual": 10, "target": 10}, "B3": {"band": "达成", "assessed": 14},
            "C1": {"band": "部分达成", "assessed": 20}, "D1": {"band": "达成", "assessed": 9}}})
        assert scorer.scores(r.facts) == expected and r.name == f"项目{i}"


def test_header_problems_are_reported_at_their_cells(seed):
    scorer, _ = seed
    data = "项目名称,B321 执行,execution,C114.visited,C114.visited,budgett\n甲,有效执行,,1,1,5\n"
    with pytest.raises(FactsError) as info:
        _rows(scorer, data.encode("utf-8"), "p.csv")
    found = {d.file: d.message_cn for d in info.value.diagnostics}
    assert "B321没有名为“执行”的事实" in found["p.csv:B1"]
    assert "由多项指标（B321、B322、B323）分别读取" in found["p.csv:C1"]
    assert "与D列是同一项" in found["p.csv:E1"]
    assert "是否应为“budget”" in found["p.csv:F1"]


def test_not_a_spreadsheet_and_no_header_are_whole_file_errors(seed):
    scorer, _ = seed
    with pytest.raises(FactsError) as info:
        _rows(scorer, b"\xd0\xcf\x11\xe0old excel", "old.xlsx")
    assert "另存为 .xlsx" in info.value.diagnostics[0].hint_cn
    with pytest.raises(FactsError) as info:
        _rows(scorer, b"PK\x03\x04broken", "broken.xlsx")
    assert "不是有效的 .xlsx 文件" in info.value.diagnostics[0].message_cn
    with pytest.raises(FactsError) as info:
        _rows(scorer, "序号,备注\n1,x\n".encode("utf-8"), "p.csv")
    assert "找不到列出本指标体系事实的表头行" in info.value.diagnostics[0].message_cn


def test_not_applicable_columns_and_blank_cells(seed):
    scorer, facts = seed
    text = facts_template(scorer, "csv", facts=facts, projects=True).decode("utf-8-sig")
    heads, cells = list(csv.reader(io.StringIO(text)))[:2]
    # C221 not applicable (its parent is re-scaled), C114's visited left blank.
    heads.append("C221 不适用")
    cells.append("是")
    cells[heads.index("C114 实际慰问人数（人或户）")] = ""
    out = io.StringIO()
    csv.writer(out).writerows([heads, cells])
    data = out.getvalue().encode("utf-8")
    (row,) = _rows(scorer, data, "p.csv")
    assert "C221" in row.facts.not_applicable
    evaluation = scorer.evaluate(row.facts)
    by_code = evaluation.by_code()
    assert by_code["C221"].status == "not_applicable"
    assert by_code["C114"].status == "error" and evaluation.total is None


def test_one_project_sheet_accepts_not_applicable_rows_and_nested_values(tmp_path, seed):
    scorer, facts = seed
    data = facts_template(scorer, "csv", facts=facts).decode("utf-8-sig")
    data += "C221,,不适用,,,,无满意度调查,\n"
    facts2 = loads_facts(data.encode("utf-8"), "f.csv", ".csv")
    assert facts2.not_applicable["C221"][0] == "无满意度调查"
    assert facts2.project["published"].value == {"total": Decimal(97), "grade": "优"}


def test_one_project_form_problems_name_the_cell():
    text = "指标编码,事实名,填写值\nC114,actual,#DIV/0!\n"
    with pytest.raises(FactsError) as info:
        loads_facts(text.encode("utf-8"), "f.csv", ".csv")
    assert info.value.diagnostics[0].file == "f.csv:C2"
    text = "指标编码,事实名,填写值\nC114,,5\n"
    with pytest.raises(FactsError) as info:
        loads_facts(text.encode("utf-8"), "f.csv", ".csv")
    assert "“事实名”为空" in info.value.diagnostics[0].message_cn
    with pytest.raises(FactsError) as info:
        loads_facts("a,b\n1,2\n".encode("utf-8"), "f.csv", ".csv")
    assert "indicator-eval batch" in info.value.diagnostics[0].hint_cn


def test_a_value_error_from_a_one_project_sheet_points_at_its_cell(tmp_path):
    scorer = loads_set('set "s"\ntotal 5\nfact actual, target: count\n'
                       'C114 weight 5: ratio(actual, target) >= 1 -> full; else -> 0\n', "s.ind")
    path = tmp_path / "f.csv"
    path.write_text("指标编码,事实名,填写值\nC114,actual,很多\nC114,target,100\n",
                    encoding="utf-8")
    evaluation = scorer.evaluate(load_facts(path))
    assert evaluation.errors[0].location == f"{path}:C2"


def test_facts_command_writes_each_form(cli, tmp_path):
    for name, args in (("f.yaml", []), ("f.xlsx", []), ("f.csv", []), ("p.xlsx", ["--projects"]),
                       ("p.csv", ["--projects"])):
        out = cli("facts", SEED, "-o", tmp_path / name, *args)
        assert out.returncode == 0, out.stderr
        assert "38 facts of 32 indicators" in out.stderr
    text = cli("facts", SEED).stdout
    assert text.startswith("# 事实填写模板：2020年春节系列活动经费")
    converted = cli("facts", SEED, "--from", SEED.with_suffix(".facts.yaml"), "-o",
                    tmp_path / "from.xlsx")
    assert converted.returncode == 0
    out = cli("eval", SEED, tmp_path / "from.xlsx", "--format", "json")
    assert out.returncode == 0 and '"total": 96.4' in out.stdout
    bad = cli("facts", SEED, "-o", tmp_path / "f.pdf")
    assert bad.returncode == 2 and "unknown template format" in bad.stderr
    bad = cli("facts", SEED, "--projects")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    guard = cli("facts", SEED, "-o", SEED)
    assert guard.returncode == 2 and "unknown template format" in guard.stderr


# ------------------------------------------------------------ fast cells = general path

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from indicator_dsl.intervals import Interval  # noqa: E402
from indicator_dsl.requirements import FactNeed  # noqa: E402
from indicator_dsl.tabular import _SLOW, _converter, _fact_value  # noqa: E402

_NEEDS = [FactNeed("x", None, kind, "万元" if kind == "money" else None,
                   ("有效执行", "部分执行", "7") if kind == "level" else (), domain, True, None,
                   ("A",), is_list)
          for kind in ("number", "percent", "count", "money", "bool", "level", "text")
          for domain in (None, Interval(Decimal(0), Decimal(100), False, True))
          for is_list in (False, True)
          if not (domain is not None and kind in ("bool", "level", "text"))]
_TEXTS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=3,
                min_value=-1000, max_value=1000).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2,
                min_value=-200, max_value=200).map(lambda d: f"{d}%"),
    st.integers(-5, 200).map(str),
    st.sampled_from(["是", "否", "TRUE", "no", " 有效执行 ", "部分执行", "7", "1,234", "93.5％",
                     "219.72万元", "abc", "0.935", "95", "-0", "1e3", "[1;2]", "3；4", "  8 "]),
    st.integers(-5, 200), st.booleans())


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_NEEDS), _TEXTS)
def test_a_columns_fast_converter_agrees_with_the_general_path(need, raw):
    fast = _converter(need)(raw)
    if fast is _SLOW:
        return
    value, problem = _fact_value(need, raw)
    assert problem is None and fast == value and type(fast) is type(value), (need.kind, raw)
