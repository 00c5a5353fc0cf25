"""Word (.docx) and Excel (.xlsx) tables → grids of cells, for ``indicator-eval import``.

A :class:`Grid` is a table as a rectangle of :class:`Cell`s. A merged cell (Word's
vertical ``vMerge`` and horizontal ``gridSpan``, Excel's merged ranges) appears in
every position it covers, with the same ``origin``, so a reader can tell "the same
group cell continues" from "an empty cell". Every cell knows its place in words a
user can find: ``表2第5行第3列`` in a document, ``评分表!C5`` in a workbook.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import List, Optional, Tuple

import attrs

from .errors import ERROR, Diagnostic, FileAccessError


@attrs.frozen
class Cell:
    text: str
    origin: Tuple[int, int]  # (row, column) of the merged cell's first position
    place: str  # where a user finds it: 表2第5行第3列, 评分表!C5


@attrs.define
class Grid:
    """One table: rows of cells, all rows as long as the widest."""

    rows: List[List[Cell]]
    name: str  # 表2, or the sheet's name
    index: int  # 1-based position among the file's tables
    title: Optional[str] = None  # the text just above the table, if any
    source: str = ""
    formulas: object = None  # Excel: the workbook as written, to find uncomputed formulas

    def formula(self, row: int, col: int) -> Optional[str]:
        """The formula of an empty cell Excel never computed (None otherwise)."""
        if self.formulas is None or not (0 <= row < len(self.rows)):
            return None
        origin = self.rows[row][col].origin
        raw = self.formulas.value(self.name, origin[0] + 1, origin[1] + 1)
        return raw if isinstance(raw, str) and raw.startswith("=") else None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def text(self, row: int, col: int) -> str:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col].text
        return ""


@attrs.define
class Document:
    path: str
    kind: str  # docx or xlsx
    grids: List[Grid]
    title: Optional[str] = None  # the document's title, if it has one


def read_tables(path: str) -> Document:
    """Every table of a .docx (body order) or every sheet of an .xlsx."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".doc", ".xls", ".wps", ".et"):
        raise FileAccessError(Diagnostic(
            ERROR, f"无法读取旧版 {suffix} 文件", file=path,
            hint=f"请在 Word/Excel/WPS 中另存为 {'.docx' if suffix in ('.doc', '.wps') else '.xlsx'} 后再导入"))
    if suffix not in (".docx", ".xlsx", ".xlsm"):
        raise FileAccessError(Diagnostic(ERROR, f"不支持的文件类型 {suffix or '（无扩展名）'}",
                                         file=path, hint="请提供 .docx（Word）或 .xlsx（Excel）评分表"))
    if not p.exists():
        raise FileAccessError(Diagnostic(ERROR, "文件不存在", file=path, hint="请检查路径"))
    if p.is_dir():
        raise FileAccessError(Diagnostic(ERROR, "这是一个文件夹，不是评分表文件", file=path))
    try:
        with p.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise FileAccessError(Diagnostic(ERROR, f"无法读取文件：{exc.strerror}", file=path)) \
            from None
    if not zipfile.is_zipfile(p):
        raise FileAccessError(Diagnostic(
            ERROR, f"不是有效的 {suffix} 文件（文件已损坏，或只是改了扩展名）", file=path,
            hint="请用 Word/Excel 打开并重新另存为 .docx/.xlsx"))
    try:
        if suffix == ".docx":
            return _read_docx(path)
        return _read_xlsx(path)
    except FileAccessError:
        raise
    except Exception as exc:  # a damaged package: the libraries raise many kinds
        raise FileAccessError(Diagnostic(
            ERROR, f"无法读取 {suffix} 文件：{exc.__class__.__name__}: {exc}", file=path,
            hint="请用 Word/Excel 打开并重新另存后再导入")) from None


# ----------------------------------------------------------------------- Word


def _read_docx(path: str) -> Document:
    from docx import Document as open_docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    doc = open_docx(path)
    body = doc.element.body
    grids: List[Grid] = []
    last_text: Optional[str] = None
    first_text: Optional[str] = None
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            text = Paragraph(child, doc).text.strip()
            if text:
                last_text = text
                if first_text is None and len(text) >= 6 and not re.match(r"附件|附表", text):
                    first_text = text
        elif child.tag == qn("w:tbl"):
            index = len(grids) + 1
            grid = _docx_grid(child, index, doc)
            grid.title = last_text
            grid.source = path
            grids.append(grid)
            last_text = None
    title = (doc.core_properties.title or "").strip() or first_text
    return Document(path, "docx", grids, title)


def _docx_grid(tbl, index: int, doc) -> Grid:
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    name = f"表{index}"
    rows: List[List[Optional[Cell]]] = []
    for r, tr in enumerate(tbl.iterchildren(qn("w:tr"))):
        row: List[Optional[Cell]] = []
        tr_pr = tr.find(qn("w:trPr"))
        before = _int_val(tr_pr, "w:gridBefore") if tr_pr is not None else 0
        for _ in range(before):
            row.append(Cell("", (r, len(row)), f"{name}第{r + 1}行第{len(row) + 1}列"))
        for tc in _row_cells(tr):
            tc_pr = tc.find(qn("w:tcPr"))
            span = max(_int_val(tc_pr, "w:gridSpan") or 1, 1) if tc_pr is not None else 1
            vmerge = None
            if tc_pr is not None:
                element = tc_pr.find(qn("w:vMerge"))
                if element is not None:
                    vmerge = element.get(qn("w:val")) or "continue"
            col = len(row)
            text = "\n".join(Paragraph(p, doc).text for p in tc.iterchildren(qn("w:p"))).strip()
            origin = (r, col)
            if vmerge == "continue" and r > 0 and col < len(rows[r - 1]) and rows[r - 1][col]:
                above = rows[r - 1][col]
                origin = above.origin
                text = above.text
            place = f"{name}第{r + 1}行第{col + 1}列"
            for _ in range(span):
                row.append(Cell(text, origin, place))
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    out = []
    for r, row in enumerate(rows):
        while len(row) < width:
            row.append(Cell("", (r, len(row)), f"{name}第{r + 1}行第{len(row) + 1}列"))
        out.append(row)
    return Grid(out, name, index)


def _row_cells(tr):
    """A row's cells, including those wrapped in content controls (w:sdt)."""
    from docx.oxml.ns import qn

    for child in tr.iterchildren():
        if child.tag == qn("w:tc"):
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from content.iterchildren(qn("w:tc"))


def _int_val(parent, tag: str) -> int:
    from docx.oxml.ns import qn

    if parent is None:
        return 0
    element = parent.find(qn(tag))
    if element is None:
        return 0
    try:
        return int(element.get(qn("w:val")) or 0)
    except ValueError:
        return 0


# ---------------------------------------------------------------------- Excel


def _read_xlsx(path: str) -> Document:
    from openpyxl import load_workbook

    values = load_workbook(path, data_only=True)
    formulas = _FormulaBook(path)
    grids: List[Grid] = []
    for index, ws in enumerate(values.worksheets, start=1):
        if ws.sheet_state != "visible" and len(values.worksheets) > 1:
            continue
        grids.append(_xlsx_grid(ws, index, path, formulas))
    title = (values.properties.title or "").strip() or None
    return Document(path, "xlsx", grids, title)


def _xlsx_grid(ws, index: int, path: str, formulas: "_FormulaBook") -> Grid:
    from openpyxl.utils import get_column_letter

    max_row, max_col = ws.max_row or 0, ws.max_column or 0
    merged = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged[(r, c)] = (rng.min_row, rng.min_col)
    rows: List[List[Cell]] = []
    for r in range(1, max_row + 1):
        row = []
        for c in range(1, max_col + 1):
            origin = merged.get((r, c), (r, c))
            cell = ws.cell(row=origin[0], column=origin[1])
            text = cell_text(cell.value, cell.number_format)
            place = f"{ws.title}!{get_column_letter(origin[1])}{origin[0]}"
            row.append(Cell(text, (origin[0] - 1, origin[1] - 1), place))
        rows.append(row)
    return Grid(rows, ws.title, index, source=path, formulas=formulas)


class _FormulaBook:
    """The workbook as written (formulas, not values), read only if a cell has no
    value: to tell an empty cell from a formula Excel never computed."""

    def __init__(self, path: str):
        self.path = path
        self.book = None

    def value(self, sheet: str, row: int, col: int):
        from openpyxl import load_workbook

        if self.book is None:
            self.book = load_workbook(self.path, data_only=False)
        if sheet not in self.book.sheetnames:
            return None
        return self.book[sheet].cell(row=row, column=col).value


def cell_text(value, number_format: str = "General") -> str:
    """A cell's value as the sheet shows it: 0.2 formatted as a percentage is 20%,
    4.9 is 4.9 (never 4.8999…), dates as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if "%" in (number_format or ""):
            return _plain(number * 100) + "%"
        return _plain(number)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
