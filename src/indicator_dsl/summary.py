"""A batch's summary, written as the results stream: xlsx, html or csv.

Every writer keeps only the current row: rows go to temporary files in the output's
folder, and :meth:`finish` assembles the summary and renames it over the output (a
run that fails or is interrupted leaves the previous summary untouched).

The xlsx workbook has sheets 汇总 (one row per project: status, total, grade, counts,
every indicator's score), 问题 (every problem of every project) and 统计 (counts by
status and grade, the score distribution and its bar chart). Its frame — headers,
widths, frozen panes, the statistics and the chart — is made by openpyxl; the
streamed rows are spliced into the sheets' XML as inline strings, which is what keeps
a summary of 100 000 projects at a few seconds instead of minutes (openpyxl spends
about 12 µs a cell). The html summary is one self-contained page with the chart as
inline SVG.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Dict, List

from .errors import ERROR, Diagnostic, FileAccessError
from .numbers import plain
from .tabular import letter

STATUS_CN = {"ok": "已评分", "incomplete": "待补充", "failed": "评分失败", "unreadable": "无法读取"}
SEVERITY_CN = {"error": "错误", "warning": "警告", "missing": "待补充"}
FIXED = ["序号", "项目名称", "来源", "状态", "总分", "等级", "警告数", "问题数", "报告"]
PROBLEM_HEADERS = ["序号", "项目名称", "来源", "指标", "类型", "问题", "位置", "修改建议"]
XLSX_MAX_ROWS = 1_048_576
SUMMARY_SUFFIXES = (".xlsx", ".html", ".htm", ".csv")
_NUMERIC = re.compile(r"-?\d+(\.\d+)?")
_CONTROL = {c: None for c in list(range(0, 9)) + [11, 12] + list(range(14, 32))}


def writer_for(output: Path, scorer):
    suffix = output.suffix.lower()
    if suffix == ".xlsx":
        return XlsxSummary(output, scorer)
    if suffix in (".html", ".htm"):
        return HtmlSummary(output, scorer)
    if suffix == ".csv":
        return CsvSummary(output, scorer)
    raise unknown_format(output)


def unknown_format(output: Path, error=FileAccessError):
    """The error for a summary file of no known format (a UsageError on the command line)."""
    suffix = output.suffix
    return error(Diagnostic(ERROR, f"unknown summary format {suffix!r}", file=str(output),
                            hint="use summary.xlsx, summary.html or summary.csv",
                            message_cn=f"不支持的汇总表格式“{suffix}”",
                            hint_cn="汇总表请用 .xlsx、.html 或 .csv 文件，如 -o 汇总.xlsx"))


def _columns(scorer) -> List[str]:
    out = list(FIXED)
    for node in scorer.checked.walk():
        name = f" {node.name}" if node.name else ""
        out.append(f"{node.code}{name}（{plain(node.weight)}分）")
    return out


def _row(record: dict, number: int, width: int) -> list:
    scores = record.get("s") or [""] * width
    return [number, record.get("name") or "", record.get("src", ""),
            STATUS_CN.get(record["st"], record["st"]),
            record.get("t") if record.get("t") is not None else (
                "待补充" if record["st"] == "incomplete" else "—"),
            record.get("g") or "", record.get("w", 0), len(record.get("p", ())),
            record.get("r") or ""] + list(scores)


def _problem_rows(record: dict, number: int):
    for code, severity, message, location, hint in record.get("p", ()):
        yield [number, record.get("name") or "", record.get("src", ""), code,
               SEVERITY_CN.get(severity, severity), message, location, hint]


class _Temp:
    """A temporary file beside the output, removed unless it is kept."""

    def __init__(self, output: Path, tag: str, mode: str = "w", encoding: str = "utf-8"):
        folder = output.parent if str(output.parent) else Path(".")
        if not folder.is_dir():
            raise FileAccessError(Diagnostic(ERROR, f"folder {folder} does not exist",
                                             file=str(output), hint="create it first",
                                             message_cn=f"文件夹 {folder} 不存在",
                                             hint_cn="请先创建该文件夹"))
        fd, self.path = tempfile.mkstemp(prefix=f".{output.name}.{tag}.", suffix=".tmp",
                                         dir=folder)
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        self.handle = os.fdopen(fd, mode, **kwargs)

    def keep_as(self, target: Path) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(self.path, mode)
        os.replace(self.path, target)

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except OSError:
            pass


class _Writer:
    def __init__(self, output: Path, scorer):
        self.output = output
        self.scorer = scorer
        self.columns = _columns(scorer)
        self.width = len(self.columns) - len(FIXED)
        self.temps: List[_Temp] = []
        self.extra: List[Path] = []
        self.count = 0

    def temp(self, tag: str, mode: str = "w", encoding: str = "utf-8") -> _Temp:
        temp = _Temp(self.output, tag, mode, encoding)
        self.temps.append(temp)
        return temp

    def abort(self) -> None:
        for temp in self.temps:
            temp.discard()


# ------------------------------------------------------------------ csv


class CsvSummary(_Writer):
    """summary.csv (one row per project) and summary.problems.csv, UTF-8 with BOM."""

    def __init__(self, output: Path, scorer):
        super().__init__(output, scorer)
        self.main = self.temp("rows", encoding="utf-8-sig")
        self.problems = self.temp("problems", encoding="utf-8-sig")
        self.rows = csv.writer(self.main.handle, lineterminator="\r\n")
        self.problem_rows = csv.writer(self.problems.handle, lineterminator="\r\n")
        self.rows.writerow(self.columns)
        self.problem_rows.writerow(PROBLEM_HEADERS)
        self.problems_path = output.with_name(output.stem + ".problems.csv")

    def add(self, record: dict) -> None:
        self.count += 1
        self.rows.writerow(_row(record, self.count, self.width))
        if record.get("p"):
            self.problem_rows.writerows(_problem_rows(record, self.count))

    def finish(self, stats) -> None:
        self.problems.keep_as(self.problems_path)
        self.main.keep_as(self.output)
        self.extra = [self.problems_path]


# ------------------------------------------------------------------ xlsx


def _xml_text(value) -> str:
    text = str(value)
    if not text.isprintable():
        text = text.translate(_CONTROL)
        text = "".join(ch for ch in text if not "\ud800" <= ch <= "\udfff")
    return html.escape(text, quote=False)


def _cell_tail(text: str) -> str:
    """A cell's XML after its reference: a number, or an inline string."""
    if _NUMERIC.fullmatch(text):
        return f"><v>{text}</v></c>"
    return f' t="inlineStr"><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


class _SheetRows:
    """Rows of one sheet as SpreadsheetML, streamed to temporary files (a new part
    whenever a sheet is full)."""

    def __init__(self, writer: _Writer, tag: str, first_row: int = 2):
        self.letters: List[str] = []
        self.cells: Dict[str, str] = {}
        self.writer = writer
        self.tag = tag
        self.parts: List[list] = []  # [temp, rows written, widest row]
        self.first_row = first_row
        self._new_part()

    def _new_part(self):
        self.parts.append([self.writer.temp(f"{self.tag}{len(self.parts)}"), 0, 0])

    def add(self, values: list) -> None:
        part = self.parts[-1]
        if part[1] + self.first_row > XLSX_MAX_ROWS:
            self._new_part()
            part = self.parts[-1]
        number = part[1] + self.first_row
        row = str(number)
        letters = self.letters
        while len(letters) < len(values):
            letters.append(letter(len(letters)))
        cache = self.cells
        out = [f'<row r="{row}">']
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            cls = value.__class__
            if cls is str and index > 2:
                tail = cache.get(value)
                if tail is None:
                    tail = _cell_tail(value)
                    if len(cache) < 20_000:  # scores, statuses and grades repeat
                        cache[value] = tail
            elif cls is str:  # names and places: each its own
                tail = _cell_tail(value)
            elif cls is int or cls is Decimal:
                tail = f"><v>{value}</v></c>"
            else:
                tail = _cell_tail(str(value))
            out.append(f'<c r="{letters[index]}{row}"{tail}')
        out.append("</row>")
        part[0].handle.write("".join(out))
        part[1] += 1
        part[2] = max(part[2], len(values))


def _letter(index: int) -> str:
    return letter(index)


class XlsxSummary(_Writer):
    def __init__(self, output: Path, scorer):
        super().__init__(output, scorer)
        self.rows = _SheetRows(self, "rows")
        self.problems = _SheetRows(self, "problems")

    def add(self, record: dict) -> None:
        self.count += 1
        self.rows.add(_row(record, self.count, self.width))
        for values in _problem_rows(record, self.count):
            self.problems.add(values)

    def finish(self, stats) -> None:
        from openpyxl import Workbook
        from openpyxl.chart import BarChart, Reference
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        book = Workbook()
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
        wrap = Alignment(wrap_text=True, vertical="center")
        names = {}

        def header(ws, values, widths):
            for col, text in enumerate(values, start=1):
                cell = ws.cell(row=1, column=col, value=text)
                cell.font, cell.fill, cell.alignment = bold, fill, wrap
                ws.column_dimensions[get_column_letter(col)].width = widths(col, text)
            ws.row_dimensions[1].height = 45

        def summary_widths(col, text):
            return {1: 7, 2: 30, 3: 28, 4: 9, 5: 8, 6: 6, 7: 7, 8: 7, 9: 16}.get(col, 11)

        ws = book.active
        for index, part in enumerate(self.rows.parts):
            if index:
                ws = book.create_sheet(f"汇总{index + 1}")
            else:
                ws.title = "汇总"
            header(ws, self.columns, summary_widths)
            ws.freeze_panes = "C2"
            names[ws.title] = part
        for index, part in enumerate(self.problems.parts):
            ws = book.create_sheet("问题" if not index else f"问题{index + 1}")
            header(ws, PROBLEM_HEADERS, lambda col, text: [7, 30, 28, 8, 7, 70, 28, 40][col - 1])
            ws.freeze_panes = "A2"
            names[ws.title] = part
        ws = book.create_sheet("统计")
        self._stats_sheet(ws, stats, bold, fill, BarChart, Reference)
        frame = io.BytesIO()
        book.save(frame)
        target = self.temp("book", "wb")
        _splice(frame.getvalue(), names, target.handle)
        for part in self.rows.parts + self.problems.parts:
            part[0].handle.close()
        target.keep_as(self.output)

    @staticmethod
    def _stats_sheet(ws, stats, bold, fill, BarChart, Reference) -> None:
        ws.column_dimensions["A"].width = 18
        ws.column_dimensions["B"].width = 12
        rows = [("项目数", stats.projects)]
        rows += [(STATUS_CN[s], stats.by_status.get(s, 0)) for s in STATUS_CN]
        rows += [("平均分", stats.mean), ("最高分", stats.high), ("最低分", stats.low),
                 ("问题条数", stats.problems)]
        ws.append(["汇总", "数量"])
        for label, value in rows:
            ws.append([label, value if value is not None else "—"])
        ws.append([])
        grade_head = ws.max_row + 1
        ws.append(["等级", "项目数"])
        for grade, count in stats.grade_rows():
            ws.append([grade, count])
        ws.append([])
        bins_head = ws.max_row + 1
        ws.append(["总分区间", "项目数"])
        for label, count in zip(stats.bin_labels(), stats.bins):
            ws.append([label, count])
        for row in (1, grade_head, bins_head):
            for col in (1, 2):
                ws.cell(row=row, column=col).font = bold
                ws.cell(row=row, column=col).fill = fill
        chart = BarChart()
        chart.type = "col"
        chart.title = "总分分布"
        chart.y_axis.title = "项目数"
        chart.x_axis.title = "总分"
        chart.legend = None
        data = Reference(ws, min_col=2, min_row=bins_head, max_row=bins_head + 10)
        labels = Reference(ws, min_col=1, min_row=bins_head + 1, max_row=bins_head + 10)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(labels)
        chart.width, chart.height = 18, 9
        ws.add_chart(chart, "D2")
        grades = BarChart()
        grades.type = "col"
        grades.title = "等级分布"
        grades.legend = None
        grade_rows = len(stats.grade_rows())
        grades.add_data(Reference(ws, min_col=2, min_row=grade_head,
                                  max_row=grade_head + grade_rows), titles_from_data=True)
        grades.set_categories(Reference(ws, min_col=1, min_row=grade_head + 1,
                                        max_row=grade_head + grade_rows))
        grades.width, grades.height = 12, 7
        ws.add_chart(grades, "D22")


def _splice(frame: bytes, parts: Dict[str, list], out) -> None:
    """Copy the workbook ``frame``, appending each named sheet's streamed rows to its
    ``sheetData`` (and widening its stated dimension)."""
    source = zipfile.ZipFile(io.BytesIO(frame))
    targets = _sheet_files(source)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as result:
        for info in source.infolist():
            data = source.read(info.filename)
            sheet = next((name for name, target in targets.items()
                          if target == info.filename and name in parts), None)
            if sheet is None:
                result.writestr(info, data)
                continue
            temp, rows, widest = parts[sheet]
            temp.handle.flush()
            text = data.decode("utf-8")
            cut = text.rindex("</sheetData>")
            last = rows + 1
            text = re.sub(r'<dimension ref="[^"]*"/>',
                          f'<dimension ref="A1:{_letter(max(widest, 1) - 1)}{last}"/>', text,
                          count=1)
            cut = text.rindex("</sheetData>")
            with result.open(zipfile.ZipInfo(info.filename, info.date_time), "w",
                             force_zip64=True) as entry:
                entry.write(text[:cut].encode("utf-8"))
                with open(temp.path, "rb") as rows_file:
                    while True:
                        block = rows_file.read(1 << 20)
                        if not block:
                            break
                        entry.write(block)
                entry.write(text[cut:].encode("utf-8"))


def _sheet_files(book: zipfile.ZipFile) -> Dict[str, str]:
    """Sheet name → its part in the package (from workbook.xml and its relationships)."""
    workbook = book.read("xl/workbook.xml").decode("utf-8")
    rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for match in re.finditer(r"<Relationship ([^>]*)/>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        target = attrs.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get("Id")] = target
    out = {}
    for match in re.finditer(r"<sheet ([^>]*)/>", workbook):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', match.group(1)))
        out[html.unescape(attrs.get("name", ""))] = targets.get(attrs.get("r:id"), "")
    return out


# ------------------------------------------------------------------ html


class HtmlSummary(_Writer):
    def __init__(self, output: Path, scorer):
        super().__init__(output, scorer)
        self.rows = self.temp("rows")
        self.problems = self.temp("problems")

    def add(self, record: dict) -> None:
        self.count += 1
        values = _row(record, self.count, self.width)
        status = record["st"]
        cells = "".join(f"<td>{html.escape(str(v))}</td>" if not _is_num(v) else
                        f'<td class="num">{html.escape(str(v))}</td>' for v in values)
        self.rows.handle.write(f'<tr class="{status}">{cells}</tr>\n')
        for values in _problem_rows(record, self.count):
            cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in values)
            self.problems.handle.write(f"<tr>{cells}</tr>\n")

    def finish(self, stats) -> None:
        target = self.temp("page")
        out = target.handle
        title = html.escape(self.scorer.checked.header.name or "绩效评价")
        out.write(_HTML_HEAD.format(title=title))
        out.write(f"<h1>{title}：批量评分汇总</h1>\n")
        items = [("项目数", stats.projects)] + [(STATUS_CN[s], stats.by_status.get(s, 0))
                                              for s in STATUS_CN]
        items += [("平均分", stats.mean), ("最高分", stats.high), ("最低分", stats.low)]
        out.write('<section class="cards">' + "".join(
            f'<div class="card"><span class="label">{html.escape(label)}</span>'
            f'<span class="value">{html.escape(plain(v) if isinstance(v, Decimal) else str(v if v is not None else "—"))}</span></div>'
            for label, v in items) + "</section>\n")
        out.write('<section class="charts"><figure><figcaption>总分分布</figcaption>')
        out.write(bar_chart_svg(stats.bin_labels(), stats.bins, "总分分布"))
        out.write("</figure><figure><figcaption>等级分布</figcaption>")
        grades = stats.grade_rows()
        out.write(bar_chart_svg([g for g, _ in grades], [c for _, c in grades], "等级分布"))
        out.write("</figure></section>\n")
        out.write("<h2>项目</h2>\n<div class=\"scroll\"><table><thead><tr>" + "".join(
            f"<th>{html.escape(c)}</th>" for c in self.columns) + "</tr></thead><tbody>\n")
        _copy(self.rows, out)
        out.write("</tbody></table></div>\n")
        out.write(f"<h2>问题（{stats.problems}条）</h2>\n")
        if stats.problems:
            out.write("<div class=\"scroll\"><table><thead><tr>" + "".join(
                f"<th>{html.escape(c)}</th>" for c in PROBLEM_HEADERS) +
                "</tr></thead><tbody>\n")
            _copy(self.problems, out)
            out.write("</tbody></table></div>\n")
        else:
            out.write("<p>没有问题。</p>\n")
        out.write("</body></html>\n")
        target.keep_as(self.output)


def _is_num(value) -> bool:
    return value.__class__ is int or (value.__class__ is str and bool(_NUMERIC.fullmatch(value)))


def _copy(temp: _Temp, out) -> None:
    temp.handle.flush()
    with open(temp.path, encoding="utf-8") as source:
        while True:
            block = source.read(1 << 20)
            if not block:
                break
            out.write(block)


def bar_chart_svg(labels: List[str], counts: List[int], title: str) -> str:
    """A column chart as inline SVG (no script, no external file)."""
    width, height, left, bottom, top = 640, 260, 44, 48, 20
    peak = max(counts) if counts and max(counts) > 0 else 1
    slot = (width - left - 10) / max(len(counts), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{html.escape(title)}" class="chart">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
             f'y2="{height - bottom}" stroke="#888"/>']
    plot = height - bottom - top
    for i, (label, count) in enumerate(zip(labels, counts)):
        bar = plot * count / peak
        x = left + i * slot + slot * 0.15
        y = height - bottom - bar
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{bar:.1f}" fill="#3a6ea5"><title>{html.escape(label)}：'
                     f'{count}</title></rect>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" font-size="11" '
                     f'text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16:.1f}" '
                     f'font-size="10" text-anchor="middle">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_HTML_HEAD = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}：批量评分汇总</title>
<style>
body {{ font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 24px; color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; margin-top: 28px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ border: 1px solid #ccd; border-radius: 6px; padding: 8px 14px; min-width: 90px; }}
.card .label {{ display: block; color: #667; font-size: 12px; }}
.card .value {{ font-size: 20px; font-weight: 600; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 24px; }}
figure {{ margin: 16px 0; }} figcaption {{ font-weight: 600; margin-bottom: 4px; }}
.chart {{ width: 640px; max-width: 100%; height: auto; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccd; padding: 3px 6px; vertical-align: top; }}
th {{ background: #dde4ee; position: sticky; top: 0; }}
td.num {{ text-align: right; }}
tr.failed td, tr.unreadable td {{ background: #fdecea; }}
tr.incomplete td {{ background: #fff7cc; }}
</style></head><body>
"""
