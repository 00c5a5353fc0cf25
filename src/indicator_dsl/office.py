"""Evaluation → the Excel (.xlsx) and Word (.docx) files evaluators exchange.

Both lay out the score table like the Word tables in published reports (see
:func:`indicator_dsl.render.score_table`): one row per leaf, one column per level,
a group's cell merged down over its leaves, then 分值, 得分, 指标解释, 评分标准 and
评分说明; the total and the grade below; deductions and warnings after it.

The output is byte-for-byte deterministic, so a report can be compared with an
earlier one and tests can pin it: document properties carry a fixed date, and
the zip archive is re-packed with fixed member timestamps (both libraries stamp
"now" otherwise).
"""

from __future__ import annotations

import datetime
import io
import math
import re
import zipfile
from decimal import Decimal
from typing import List, Optional, Sequence, Union

from .evaluator import SCORED, Evaluation, IndicatorResult
from .numbers import plain
from .render import (level_names, lost_points, problem_rows, rule_flags,
                     score_table, shown_score, shown_total, subtotal_of, title_of,
                     topmost_not_applicable, total_note, width, year_text)

# The date written into document properties: the zip format's own epoch, so that
# nothing in the file depends on when it was made.
FIXED_TIMESTAMP = datetime.datetime(1980, 1, 1, 0, 0, 0)
GENERATOR = "indicator-eval"

FIXED_COLUMNS = ["分值", "得分", "指标解释", "评分标准", "评分说明"]


# ------------------------------------------------------------------- shared


def excel_number(value: Decimal) -> Union[int, float]:
    """A score as a number cell: an int when whole, else the float whose shortest
    representation is the decimal's own digits (4.9 is written as "4.9", never
    4.8999…), so spreadsheets show exactly what the report computed."""
    if value == value.to_integral_value():
        return int(value)
    return float(plain(value))


def score_cell(r: IndicatorResult) -> Union[int, float, str]:
    """A number when scored, else the text the table shows (不适用, —)."""
    if r.status == SCORED and r.score is not None:
        return excel_number(r.score)
    return shown_score(r)


def header_lines(ev: Evaluation) -> List[str]:
    """The set and project information lines printed above the table."""
    lines = []
    for label, value in (("项目", ev.project.get("name")), ("单位", ev.project.get("unit")),
                         ("地区", ev.region), ("年度", year_text(ev)), ("依据", ev.source)):
        if value not in (None, ""):
            lines.append(f"{label}：{value}")
    return lines


def total_text(ev: Evaluation) -> str:
    total = shown_total(ev)
    note = "（含不适用指标折算）" if ev.rescaled else ""
    return f"总分：{total} / {plain(ev.max)}{note}"


def notice_lines(ev: Evaluation) -> List[tuple]:
    """(kind, indicator, message) for the warnings part of a report: rule flags,
    not-applicable indicators and re-scaled groups, then problems."""
    out = []
    for r, message in rule_flags(ev):
        out.append(("规则提示", title_of(r), message))
    for r in topmost_not_applicable(ev):
        out.append(("不适用", title_of(r), f"（{plain(r.weight)}分）{r.explanation}"))
    for r in ev.indicators:
        if not r.is_leaf and r.rescaled:
            out.append(("折算", title_of(r), r.explanation))
    note = total_note(ev)
    if note:
        out.append(("折算", "总分", note))
    for p in problem_rows(ev):
        where = f"（{p['location']}）" if p["location"] else ""
        hint = f"；{p['hint']}" if p["hint"] else ""
        out.append((p["severity_cn"], "", f"{p['message']}{where}{hint}"))
    return out


def _repack(data: bytes, rewrite=None) -> bytes:
    """The same zip archive with every member stamped FIXED_TIMESTAMP, in the same
    order: zipfile stamps members with the current time, which makes two runs'
    files differ. ``rewrite(name, content)`` may change a member on the way."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            content = source.read(info.filename)
            if rewrite is not None:
                content = rewrite(info.filename, content)
            target.writestr(member, content)
    return out.getvalue()


_NUMBER_CELL = re.compile(rb'(<c [^>]*t="n"[^>]*><v>)([^<]+)(</v>)')


def _shortest_numbers(name: str, content: bytes) -> bytes:
    """Number cells written as their shortest round-trip text.

    openpyxl writes floats with "%.16g", so 93.4 becomes "93.40000000000001": the
    same double, but not the digits the report computed. repr() gives the shortest
    text that reads back as the same double — "93.4"."""
    if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
        return content

    def shorten(match):
        text = match.group(2)
        if not re.fullmatch(rb"-?\d+\.\d+(e[-+]?\d+)?", text, re.I):
            return match.group(0)  # integers and anything unexpected stay as written
        return match.group(1) + repr(float(text)).encode("ascii") + match.group(3)

    return _NUMBER_CELL.sub(shorten, content)


# --------------------------------------------------------------------- xlsx

# Column widths in Excel's units (about one Latin character; a Chinese character
# takes about two).
_XLSX_LEVEL_WIDTH = 18
_XLSX_TEXT_WIDTHS = {"分值": 7, "得分": 7, "指标解释": 36, "评分标准": 40, "评分说明": 44}
_XLSX_LINE_HEIGHT = 14.5  # points per wrapped line at 10pt


class _XlsxStyles:
    """The few cell styles the workbook uses, built once per workbook."""

    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="808080")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.wrap_top = Alignment(wrap_text=True, vertical="top")
        self.centered = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.number = Alignment(horizontal="right", vertical="top")
        self.plain_line = Alignment(vertical="center", wrap_text=True)
        self.head_fill = PatternFill("solid", fgColor="E8EDF2")
        self.group_fill = PatternFill("solid", fgColor="F5F7F9")
        self.body = Font(name="SimSun", size=10)
        self.bold = Font(name="SimSun", size=10, bold=True)
        self.lost = Font(name="SimSun", size=10, bold=True, color="B42318")
        self.title = Font(name="SimSun", size=14, bold=True)
        self.heading = Font(name="SimSun", size=12, bold=True)

    def put(self, ws, row: int, col: int, value, font=None, align=None, fill=None,
            framed: bool = True):
        """Write a cell with a font, an alignment, a fill and (by default) a border."""
        cell = ws.cell(row=row, column=col, value=value)
        cell.font = font or self.body
        cell.alignment = align or (self.number if isinstance(value, (int, float))
                                   else self.wrap_top)
        if fill is not None:
            cell.fill = fill
        if framed:
            cell.border = self.border
        return cell


def render_xlsx(ev: Evaluation) -> bytes:
    """The workbook: sheet 评分表 (the score table, total and grade), sheet 扣分与提示
    (deductions and warnings) and sheet 分组小计 (every group's points and score)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    st = _XlsxStyles()
    depth = ev.depth
    columns = level_names(depth) + FIXED_COLUMNS
    widths = [_XLSX_LEVEL_WIDTH] * depth + [_XLSX_TEXT_WIDTHS[c] for c in FIXED_COLUMNS]
    last_col = len(columns)

    wb = Workbook()
    ws = wb.active
    ws.title = "评分表"

    # Title and information lines, each across the whole table's width.
    st.put(ws, 1, 1, ev.set_name or "绩效评价评分表", st.title, st.plain_line, framed=False)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    info = header_lines(ev) + [total_text(ev)] + ([f"等级：{ev.grade}"] if ev.grade else [])
    st.put(ws, 2, 1, "    ".join(info), st.body, st.plain_line, framed=False)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)
    ws.row_dimensions[2].height = _XLSX_LINE_HEIGHT * 2

    header_row = 3
    for col, name in enumerate(columns, start=1):
        st.put(ws, header_row, col, name, st.bold, st.centered, st.head_fill)

    first_leaf_row = header_row + 1
    for offset, table_row in enumerate(score_table(ev)):
        row = first_leaf_row + offset
        leaf = table_row.leaf
        line_counts = [1]
        for col, cell in enumerate(table_row.cells, start=1):
            r = cell.indicator
            if r is None:  # covered by the leaf's horizontal merge: border only
                st.put(ws, row, col, None)
            elif not cell.drawn:  # covered by the group's vertical merge
                continue
            elif r.is_leaf:
                st.put(ws, row, col, title_of(r))
                line_counts.append(_lines(title_of(r), _XLSX_LEVEL_WIDTH * cell.colspan))
                if cell.colspan > 1:
                    ws.merge_cells(start_row=row, start_column=col, end_row=row,
                                   end_column=col + cell.colspan - 1)
            else:
                st.put(ws, row, col, f"{title_of(r)}\n{subtotal_of(r)}", st.bold, st.wrap_top,
                       st.group_fill)
                if cell.rowspan > 1:
                    ws.merge_cells(start_row=row, start_column=col,
                                   end_row=row + cell.rowspan - 1, end_column=col)
                else:
                    line_counts.append(_lines(title_of(r), _XLSX_LEVEL_WIDTH) + 1)
        col = depth + 1
        st.put(ws, row, col, excel_number(leaf.weight))
        st.put(ws, row, col + 1, score_cell(leaf),
               st.lost if lost_points(leaf) > 0 else st.body, st.number)
        for index, text in enumerate((leaf.explain, leaf.standard, leaf.explanation), start=2):
            st.put(ws, row, col + index, text or None)
            line_counts.append(_lines(text or "", widths[col + index - 1]))
        ws.row_dimensions[row].height = _XLSX_LINE_HEIGHT * max(line_counts)

    # 合计 and 等级 rows: the label across the level columns, the numbers below 分值
    # and 得分, the grade across both.
    total_row = first_leaf_row + len(ev.leaves())
    grade_row = total_row + 1
    for row in (total_row, grade_row):
        for col in range(1, last_col + 1):
            st.put(ws, row, col, None, st.bold, fill=st.head_fill)
    st.put(ws, total_row, 1, "合计", st.bold, st.centered, st.head_fill)
    st.put(ws, total_row, depth + 1, excel_number(ev.max), st.bold, fill=st.head_fill)
    st.put(ws, total_row, depth + 2,
           excel_number(ev.total) if ev.total is not None else shown_total(ev), st.bold,
           st.number, st.head_fill)
    st.put(ws, total_row, depth + 3, "含不适用指标折算" if ev.rescaled else None, st.body,
           fill=st.head_fill)
    st.put(ws, grade_row, 1, "等级", st.bold, st.centered, st.head_fill)
    st.put(ws, grade_row, depth + 1, ev.grade if ev.grade is not None else "—", st.bold,
           st.centered, st.head_fill)
    for row in (total_row, grade_row):
        if depth > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=depth)
    ws.merge_cells(start_row=total_row, start_column=depth + 3, end_row=total_row,
                   end_column=last_col)
    ws.merge_cells(start_row=grade_row, start_column=depth + 1, end_row=grade_row,
                   end_column=depth + 2)

    for col, size in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = size
    ws.freeze_panes = ws.cell(row=first_leaf_row, column=1)
    _print_setup(ws, f"{header_row}:{header_row}")

    _deductions_sheet(wb.create_sheet("扣分与提示"), ev, st)
    _groups_sheet(wb.create_sheet("分组小计"), ev, st)

    props = wb.properties
    props.creator = GENERATOR
    props.lastModifiedBy = GENERATOR
    props.title = ev.set_name or None
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook() would stamp `modified` with now.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return _repack(buffer.getvalue(), _shortest_numbers)


def _lines(text: str, column_width: float) -> int:
    """Wrapped lines a text takes in a column (estimated: Excel does not size rows
    of wrapped or merged cells by itself when the file is written by a program)."""
    if not text:
        return 1
    return sum(max(1, math.ceil(width(part) / max(column_width - 1, 1)))
               for part in text.split("\n"))


def _print_setup(ws, title_rows: Optional[str]) -> None:
    """A4 landscape, as wide as the page, the header row repeated on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def _table(ws, st: _XlsxStyles, start_row: int, headers: Sequence[str],
           rows: Sequence[Sequence], widths: Sequence[float]) -> int:
    """A bordered table with a header row at ``start_row``; returns the next free row."""
    for col, name in enumerate(headers, start=1):
        st.put(ws, start_row, col, name, st.bold, st.centered, st.head_fill)
    row = start_row
    for values in rows:
        row += 1
        lines = [1]
        for col, value in enumerate(values, start=1):
            st.put(ws, row, col, value, st.bold if values[0] == "合计" else st.body)
            if isinstance(value, str):
                lines.append(_lines(value, widths[col - 1]))
        ws.row_dimensions[row].height = _XLSX_LINE_HEIGHT * max(lines)
    return row + 1


def _deductions_sheet(ws, ev: Evaluation, st: _XlsxStyles) -> None:
    """扣分情况 (every leaf that lost points, numbers as numbers), then 提示 (flags,
    not-applicable indicators, re-scaling, problems) below it in the same columns."""
    from openpyxl.utils import get_column_letter

    widths = [40, 8, 8, 8, 70]
    for col, size in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = size
    st.put(ws, 1, 1, "扣分情况", st.heading, st.plain_line, framed=False)
    leaves = [r for r in ev.leaves() if lost_points(r) > 0]
    lost = sum((lost_points(r) for r in ev.leaves()), Decimal(0))
    summary = f"共扣 {plain(lost)} 分" if leaves else "无扣分"
    if leaves and ev.total is not None and ev.max - ev.total != lost:
        summary += f"（含不适用指标折算，总分比满分少 {plain(ev.max - ev.total)} 分）"
    st.put(ws, 2, 1, summary, framed=False)
    next_row = 4
    if leaves:
        rows = [(title_of(r), excel_number(r.weight), excel_number(r.score),
                 excel_number(lost_points(r)), r.explanation) for r in leaves]
        rows.append(("合计", None, None, excel_number(lost), None))
        next_row = _table(ws, st, 3, ["指标", "分值", "得分", "扣分", "原因"], rows, widths) + 1

    st.put(ws, next_row, 1, "提示", st.heading, st.plain_line, framed=False)
    notices = notice_lines(ev)
    if not notices:
        st.put(ws, next_row + 1, 1, "无", framed=False)
    else:
        # 指标 | 类别 (over the three number columns) | 说明
        head = next_row + 1
        rows = [(who, kind, None, None, message) for kind, who, message in notices]
        _table(ws, st, head, ["指标", "类别", None, None, "说明"], rows, widths)
        for row in range(head, head + len(rows) + 1):
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
    _print_setup(ws, None)


def _groups_sheet(ws, ev: Evaluation, st: _XlsxStyles) -> None:
    """Every group with its points, score and how it was summed or re-scaled."""
    from openpyxl.utils import get_column_letter

    widths = [44, 8, 8, 70]
    for col, size in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = size
    rows = [("　" * (r.level - 1) + title_of(r), excel_number(r.weight), score_cell(r),
             r.explanation) for r in ev.indicators if not r.is_leaf]
    rows.append(("合计", excel_number(ev.max),
                 excel_number(ev.total) if ev.total is not None else shown_total(ev),
                 f"等级：{ev.grade}" if ev.grade is not None else None))
    _table(ws, st, 1, ["指标", "分值", "得分", "说明"], rows, widths)
    ws.freeze_panes = "A2"
    _print_setup(ws, "1:1")


# --------------------------------------------------------------------- docx

_DOCX_FONT = "SimSun"
_DOCX_HEADING_FONT = "SimHei"


def render_docx(ev: Evaluation) -> bytes:
    """The Word document: title, set information, total and grade, the score table
    (groups merged, header row repeated on each page), group subtotals, deductions
    and warnings. A4 landscape, as the nine-column table needs."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    _docx_fonts(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin = section.bottom_margin = Mm(15)
    usable = Mm(297 - 30)

    title = doc.add_heading(ev.set_name or "绩效评价评分表", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in header_lines(ev):
        doc.add_paragraph(line)
    summary = doc.add_paragraph()
    summary.add_run(total_text(ev)).bold = True
    if ev.grade is not None:
        summary.add_run(f"　　等级：{ev.grade}").bold = True
    if not ev.ok:
        doc.add_paragraph("注意：有指标无法评分，结果不完整，见“提示”。")

    doc.add_heading("评分表", level=1)
    depth = ev.depth
    columns = level_names(depth) + FIXED_COLUMNS
    # Shares of the usable width: level columns, 分值, 得分, then the three texts.
    shares = [0.085] * depth + [0.05, 0.05]
    rest = 1 - sum(shares)
    shares += [rest * 0.3, rest * 0.33, rest * 0.37]
    col_widths = [int(usable * share) for share in shares]

    table_rows = score_table(ev)
    table = doc.add_table(rows=1 + len(table_rows) + 2, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _fix_widths(table, col_widths)
    small = Pt(9)

    def write(cell, text: str, bold: bool = False, align=None, color=None, extra=None):
        paragraph = cell.paragraphs[0]
        run = paragraph.add_run(text)
        run.font.size = small
        run.bold = bold
        if color is not None:
            run.font.color.rgb = color
        if align is not None:
            paragraph.alignment = align
        if extra:
            sub = paragraph.add_run("\n" + extra)
            sub.font.size = Pt(8)

    # Each row's cells are read once, before any merge: table.cell() rebuilds the
    # whole grid on every call, which is quadratic. Text goes into the cell that
    # stays (the top-left of each merge); the merges come last, over empty cells.
    grid = [list(row.cells) for row in table.rows]
    merges = []

    _repeat_as_header(table.rows[0])
    for col, name in enumerate(columns):
        write(grid[0][col], name, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(grid[0][col], "E8EDF2")

    right = WD_ALIGN_PARAGRAPH.RIGHT
    red = RGBColor(0xB4, 0x23, 0x18)
    for index, table_row in enumerate(table_rows, start=1):
        _keep_row_whole(table.rows[index])
        cells = grid[index]
        leaf = table_row.leaf
        for col, cell in enumerate(table_row.cells):
            r = cell.indicator
            if r is None or not cell.drawn:
                continue
            if r.is_leaf:
                write(cells[col], title_of(r))
                if cell.colspan > 1:
                    merges.append((index, col, index, col + cell.colspan - 1))
            else:
                write(cells[col], title_of(r), bold=True, extra=subtotal_of(r))
                _shade(cells[col], "F5F7F9")
                if cell.rowspan > 1:
                    merges.append((index, col, index + cell.rowspan - 1, col))
        lost = lost_points(leaf) > 0
        write(cells[depth], plain(leaf.weight), align=right)
        write(cells[depth + 1], shown_score(leaf), bold=lost, align=right,
              color=red if lost else None)
        write(cells[depth + 2], leaf.explain or "")
        write(cells[depth + 3], leaf.standard or "")
        write(cells[depth + 4], leaf.explanation)

    # 合计 and 等级: the label across the level columns, the numbers below 分值 and
    # 得分 (the grade across both), a note across the text columns.
    total_index = len(table_rows) + 1
    grade_index = total_index + 1
    last = len(columns) - 1
    for index in (total_index, grade_index):
        _keep_row_whole(table.rows[index])
        for cell in grid[index]:
            _shade(cell, "E8EDF2")
        merges.append((index, 0, index, depth - 1))
        merges.append((index, depth + 2, index, last))
    merges.append((grade_index, depth, grade_index, depth + 1))
    center = WD_ALIGN_PARAGRAPH.CENTER
    write(grid[total_index][0], "合计", bold=True, align=center)
    write(grid[total_index][depth], plain(ev.max), bold=True, align=right)
    write(grid[total_index][depth + 1], shown_total(ev),
          bold=True, align=right)
    write(grid[total_index][depth + 2], "含不适用指标折算" if ev.rescaled else "")
    write(grid[grade_index][0], "等级", bold=True, align=center)
    write(grid[grade_index][depth], ev.grade if ev.grade is not None else "—", bold=True,
          align=center)

    for top, left, bottom, right_col in merges:
        if (top, left) != (bottom, right_col):
            grid[top][left].merge(grid[bottom][right_col])

    doc.add_heading("分组小计", level=1)
    group_rows = [("　" * (r.level - 1) + title_of(r), plain(r.weight), shown_score(r),
                   r.explanation) for r in ev.indicators if not r.is_leaf]
    group_rows.append(("合计", plain(ev.max), shown_total(ev),
                       f"等级：{ev.grade}" if ev.grade is not None else ""))
    _docx_simple_table(doc, ["指标", "分值", "得分", "说明"], group_rows,
                       [int(usable * s) for s in (0.35, 0.07, 0.07, 0.51)], numeric={1, 2})

    doc.add_heading("扣分情况", level=1)
    deductions = [(title_of(r), plain(r.weight), plain(r.score), plain(lost_points(r)),
                   r.explanation) for r in ev.leaves() if lost_points(r) > 0]
    if deductions:
        lost = sum((lost_points(r) for r in ev.leaves()), Decimal(0))
        text = f"共扣 {plain(lost)} 分"
        if ev.total is not None and ev.max - ev.total != lost:
            text += f"（含不适用指标折算，总分比满分少 {plain(ev.max - ev.total)} 分）"
        doc.add_paragraph(text + "：")
        _docx_simple_table(doc, ["指标", "分值", "得分", "扣分", "原因"], deductions,
                           [int(usable * s) for s in (0.3, 0.07, 0.07, 0.07, 0.49)],
                           numeric={1, 2, 3})
    else:
        doc.add_paragraph("无扣分。")

    notices = notice_lines(ev)
    if notices:
        doc.add_heading("提示", level=1)
        for kind, who, message in notices:
            paragraph = doc.add_paragraph(style="List Bullet")
            paragraph.add_run(f"{kind}：").bold = True
            paragraph.add_run(f"{who}：{message}" if who else message)

    core = doc.core_properties
    core.title = ev.set_name or ""
    core.author = GENERATOR
    core.last_modified_by = GENERATOR
    core.revision = 1
    core.created = FIXED_TIMESTAMP
    core.modified = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    doc.save(buffer)
    return _repack(buffer.getvalue())


def _docx_fonts(doc) -> None:
    """Chinese text in SimSun (body) and SimHei (headings), black headings: Word's
    default theme fonts have no Chinese glyphs of their own."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    def set_font(style, name: str, size=None):
        style.font.name = name
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), name)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        if size is not None:
            style.font.size = size

    styles = doc.styles
    set_font(styles["Normal"], _DOCX_FONT, Pt(10.5))
    for name, size in (("Title", Pt(18)), ("Heading 1", Pt(14))):
        set_font(styles[name], _DOCX_HEADING_FONT, size)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)


def _fix_widths(table, widths) -> None:
    """Column widths Word honours: on the grid and on every cell."""
    for col, size in zip(table.columns, widths):
        col.width = size
    for row in table.rows:
        for cell, size in zip(row.cells, widths):
            cell.width = size


def _repeat_as_header(row) -> None:
    """Mark a row as the table's header, repeated at the top of every page."""
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    element = tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})
    tr_pr.append(element)
    _keep_row_whole(row)


def _keep_row_whole(row) -> None:
    """Forbid Word to split the row across pages."""
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(qn("w:cantSplit")) is None:
        tr_pr.append(tr_pr.makeelement(qn("w:cantSplit"), {qn("w:val"): "true"}))


def _shade(cell, fill: str) -> None:
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:shd")):
        tc_pr.remove(old)
    tc_pr.append(tc_pr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                                  qn("w:fill"): fill}))


def _docx_simple_table(doc, headers, rows, widths, numeric=frozenset()) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    _fix_widths(table, widths)
    _repeat_as_header(table.rows[0])
    for index, (row, values) in enumerate(zip(table.rows, [headers] + [list(r) for r in rows])):
        if index:
            _keep_row_whole(row)
        for col, (cell, value) in enumerate(zip(row.cells, values)):
            run = cell.paragraphs[0].add_run(str(value))
            run.font.size = Pt(9)
            if index == 0:
                run.bold = True
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                _shade(cell, "E8EDF2")
            elif col in numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
