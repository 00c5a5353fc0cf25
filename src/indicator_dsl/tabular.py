"""Facts in spreadsheets: templates to fill in, and ``.xlsx``/``.csv`` facts files.

Two forms, both written by :func:`facts_template` and both read here:

* **one project** — one row per fact, columns 指标编码 · 指标名称 · 事实名 · 事实说明 ·
  类型 · 可选值/范围 · 填写值 · 评分标准. It is read without the set (by
  :func:`~indicator_dsl.facts.loads_facts`): the code and the fact's name say where the
  value goes, as ``indicators: CODE: name:`` does in YAML; 指标编码 （项目） (or blank)
  is a project-wide fact.
* **many projects** — one row per project, one column per fact. A column header is
  the fact's name or its Chinese label, optionally after the indicator's code
  (``C114 实际慰问人数``, ``C114.visited``); ``项目名称``/``name`` names the project;
  ``CODE 不适用`` marks an indicator not applicable. Reading it needs the set (to
  resolve labels and check every cell), so :func:`read_projects` takes the scorer.

CSV files may be UTF-8 (with or without BOM), UTF-16 (with BOM) or GBK/GB18030, as
Excel and WPS save them on Chinese Windows. A problem names the file, sheet and cell
(``projects.xlsx:Sheet1!D7``) and says how to fix it. The place where a template puts
each fact comes from :attr:`~indicator_dsl.requirements.FactNeed.places`.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import attrs

from .errors import ERROR, Diagnostic, FactsError, IndicatorError, did_you_mean
from .facts import (NOT_APPLICABLE_KEYS, CoercionError, Facts, FactValue,
                    Where, coerce)
from .missing import KIND_CN, describe, lookup
from .numbers import percent, plain
from .requirements import FactNeed

# ------------------------------------------------------------------ the forms

ONE_PROJECT_HEADERS = ("指标编码", "指标名称", "事实名", "事实说明", "类型", "可选值/范围",
                       "填写值", "评分标准")
PROJECT_CODE = "（项目）"  # 指标编码 of a project-wide fact in the one-project form
_CODE_HEADERS = {"指标编码", "编码", "指标代码", "code"}
_FACT_HEADERS = {"事实名", "事实", "fact"}
_VALUE_HEADERS = {"填写值", "值", "value"}
_PROJECT_CODES = {"", PROJECT_CODE, "(项目)", "项目", "全项目", "project", "-", "—"}
NAME_HEADERS = {"项目名称", "项目", "name", "名称", "project"}
# Project information columns (not read by rules; shown in reports) → the facts' keys.
INFO_HEADERS = {"项目单位": "unit", "单位": "unit", "unit": "unit", "实施单位": "unit",
                "年度": "year", "评价年度": "year", "year": "year", "地区": "region",
                "region": "region", "主管部门": "department", "department": "department",
                "评价人": "assessor", "assessor": "assessor", "评价机构": "evaluator",
                "evaluator": "evaluator", "评价日期": "date", "date": "date",
                "备注": "remark", "remark": "remark"}
_NA_WORDS = {"不适用", "na", "n/a", "not_applicable"}
_TRUE_NA = {"是", "true", "yes", "y", "1", "不适用", "na", "n/a", "√", "✓"}
_FALSE_NA = {"否", "false", "no", "n", "0", "适用"}
EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                "#GETTING_DATA", "#SPILL!", "#CALC!"}
HEADER_SCAN_ROWS = 30
MAX_ONE_PROJECT_ROWS = 20_000


@attrs.define
class ProjectRow:
    """One project of a many-project spreadsheet: its facts, or why the row is unusable."""

    name: str
    row: int  # 1-based row of the sheet (record of a CSV file)
    facts: Optional[Facts] = None
    error: Optional[IndicatorError] = None
    source: str = ""  # 「projects.xlsx:Sheet1 第7行」: where the row is, for lists
    # The indicator each of the error's diagnostics concerns ("" for project-wide).
    error_codes: List[str] = attrs.Factory(list)


# ------------------------------------------------------------------ reading tables


@attrs.define
class _Table:
    """A sheet's rows: (1-based row number, tuple of cell values), streamed."""

    file: str
    sheet: Optional[str]  # None for CSV
    rows: Iterator[Tuple[int, tuple]]
    close: Callable[[], None] = lambda: None

    def cell(self, letter_and_row: str) -> str:
        """「projects.xlsx:Sheet1!D7」 (CSV: 「projects.csv:D7」)."""
        if self.sheet is None:
            return f"{self.file}:{letter_and_row}"
        return f"{self.file}:{self.sheet}!{letter_and_row}"

    def row_text(self, row: int) -> str:
        return f"{self.file}:{self.sheet} 第{row}行" if self.sheet else f"{self.file} 第{row}行"


_LETTERS: List[str] = []


def letter(index: int) -> str:
    """Column letter of a 0-based index: 0 → A, 26 → AA."""
    while len(_LETTERS) <= index:
        n, out = len(_LETTERS) + 1, ""
        while n:
            n, rem = divmod(n - 1, 26)
            out = chr(65 + rem) + out
        _LETTERS.append(out)
    return _LETTERS[index]


def _facts_error(message: str, file: str, hint: str = None, message_cn: str = None,
                 hint_cn: str = None, where: str = None) -> FactsError:
    return FactsError(Diagnostic(ERROR, message, file=where or file, hint=hint, code="facts",
                                 message_cn=message_cn, hint_cn=hint_cn))


def open_table(source, name: str, kind: Optional[str] = None) -> List[_Table]:
    """The sheets of a spreadsheet (``source``: bytes or a path), by extension or ``kind``.

    Raises FactsError when the file is not a readable spreadsheet."""
    kind = kind or Path(name).suffix.lower()
    if kind == ".csv":
        return [_open_csv(source, name)]
    if kind == ".xlsx":
        return _open_xlsx(source, name)
    raise _facts_error(f"not a spreadsheet ({kind or 'no extension'})", name,
                       "use .xlsx or .csv", "不是电子表格文件", "请使用 .xlsx 或 .csv 文件")


def _binary(source):
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source)
    try:
        return open(source, "rb")
    except OSError as exc:
        from .errors import FileAccessError

        raise FileAccessError(Diagnostic(ERROR, f"cannot read: {exc.strerror}",
                                         file=str(source),
                                         message_cn=f"无法读取：{exc.strerror}",
                                         hint_cn="请检查文件是否存在、是否有读取权限")) from None


def _open_xlsx(source, name: str) -> List[_Table]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    handle = _binary(source)
    head = handle.read(8)
    handle.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        handle.close()
        raise _facts_error("an old .xls workbook, not .xlsx", name,
                           "open it in Excel or WPS and save it as .xlsx",
                           "是旧版 .xls 格式的工作簿，不是 .xlsx",
                           "请在 Excel 或 WPS 中另存为 .xlsx 后再使用")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        handle.close()
        raise _facts_error(f"not a readable .xlsx workbook ({exc.__class__.__name__})", name,
                           "open it in Excel or WPS and save it again as .xlsx",
                           "不是有效的 .xlsx 文件（文件已损坏，或只是改了扩展名）",
                           "请在 Excel 或 WPS 中打开并重新另存为 .xlsx") from None

    def close():
        book.close()
        handle.close()

    tables = []
    for ws in book.worksheets:
        ws.reset_dimensions()  # WPS and others may state a wrong used range
        rows = enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), start=1)
        tables.append(_Table(name, ws.title, rows, close))
    if not tables:
        close()
        raise _facts_error("the workbook has no worksheet", name, None,
                           "工作簿中没有工作表", "请打开该文件，确认其中有填写了数据的工作表")
    return tables


def detect_encoding(sample: bytes, name: str) -> str:
    """The text encoding of a CSV file from its first bytes: UTF-8 (BOM or not), UTF-16
    with BOM, or GB18030 (which reads GBK) — what Excel and WPS write."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    cut = sample.rfind(b"\n")
    probe = sample if cut < 0 or len(sample) < 1 << 16 else sample[:cut + 1]
    for encoding in ("utf-8", "gb18030"):
        try:
            probe.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise _facts_error("the CSV file is neither UTF-8 nor GBK text", name,
                       "save it as CSV UTF-8",
                       "CSV 文件既不是 UTF-8 编码也不是 GBK 编码",
                       "请在 Excel 或 WPS 中另存为“CSV UTF-8”格式")


def _open_csv(source, name: str) -> _Table:
    handle = _binary(source)
    sample = handle.read(1 << 22)
    handle.seek(0)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        handle.close()
        raise _facts_error("not a CSV text file (it contains NUL bytes)", name,
                           "save the sheet as CSV, or give the .xlsx file",
                           "不是 CSV 文本文件（其中含有 NUL 字节）",
                           "请把表格另存为 CSV，或直接使用 .xlsx 文件")
    encoding = detect_encoding(sample, name)
    text = io.TextIOWrapper(handle, encoding=encoding, errors="surrogateescape", newline="")
    head = sample.decode(encoding if encoding != "utf-8-sig" else "utf-8-sig", "replace")
    head_lines = head.splitlines()[:5]
    delimiter = max(",\t;", key=lambda d: sum(line.count(d) for line in head_lines))
    reader = csv.reader(text, delimiter=delimiter)

    def rows():
        for number, record in enumerate(reader, start=1):
            yield number, record

    return _Table(name, None, rows(), text.close)


# ------------------------------------------------------------------ cell values


_SIMPLE_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _cell_value(raw):
    """A cell as a facts file would hold it: numbers as exact decimals (from the
    shortest text of a float, so 0.935 stays 0.935), texts stripped, dates as ISO
    text, numbers stored as text read as numbers (as YAML reads `95`)."""
    cls = raw.__class__
    if cls is str:
        text = raw.strip()
        if _SIMPLE_NUMBER.fullmatch(text) and len(text) <= 40:
            return Decimal(text)
        return text
    if cls is float:
        if raw != raw or raw in (float("inf"), float("-inf")):
            return str(raw)
        if raw == int(raw):
            return Decimal(int(raw))
        text = repr(raw)
        # Excel keeps 15 significant digits; more is the noise of a formula's binary
        # result (0.1+0.2 → 0.30000000000000004), which Excel shows as 0.3.
        value = Decimal(text)
        return value if len(value.as_tuple().digits) <= 15 else Decimal(format(raw, ".15g"))
    if cls is int:
        return Decimal(raw)
    if cls is bool or raw is None:
        return raw
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat() if raw.time() == datetime.time() else raw.isoformat()
    if isinstance(raw, (datetime.date, datetime.time)):
        return raw.isoformat()
    if isinstance(raw, Decimal):
        return raw
    return str(raw)


def _is_blank(raw) -> bool:
    return raw is None or (raw.__class__ is str and not raw.strip())


def _text(raw) -> str:
    value = _cell_value(raw)
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


# ------------------------------------------------------------------ one-project form


def looks_one_project(header: tuple) -> bool:
    cells = {_clean(c) for c in header if isinstance(c, str)}
    return bool(cells & _FACT_HEADERS) and bool(cells & _VALUE_HEADERS)


def _clean(text) -> str:
    if not isinstance(text, str):
        return "" if text is None else _text(text)
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def _find_header(table: _Table, is_header) -> Tuple[Optional[Tuple[int, tuple]], list]:
    """The header row (the first of the first rows that ``is_header`` scores best) and
    every row read before it was decided."""
    seen = []
    best, best_score = None, 0
    for number, cells in table.rows:
        seen.append((number, cells))
        score = is_header(cells)
        if score > best_score:
            best, best_score = (number, cells), score
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    return best, seen


def load_one_project(source, name: str, kind: Optional[str] = None) -> Facts:
    """Facts from the one-project form (one row per fact): what :func:`loads_facts`
    reads for ``.xlsx`` and ``.csv``."""
    tables = open_table(source, name, kind)
    try:
        for table in tables:
            header, seen = _find_header(table, lambda cells: 2 if looks_one_project(cells)
                                        else 0)
            if header is None:
                continue
            return _read_one_project(table, header, seen)
        sheets = "、".join(t.sheet for t in tables if t.sheet) or name
        raise _facts_error(
            "no header row with 事实名 and 填写值 (the one-project form)", name,
            "generate the form with `indicator-eval facts SET.ind -o facts.xlsx`; a sheet "
            "with one row per project is scored with `indicator-eval batch`",
            f"工作表（{sheets}）中找不到含“事实名”和“填写值”的表头行",
            "单个项目的事实表可用 `indicator-eval facts 指标体系.ind -o 事实.xlsx` 生成；"
            "每行一个项目的表格请用 `indicator-eval batch` 评分")
    finally:
        tables[0].close()


def _read_one_project(table: _Table, header, seen) -> Facts:
    header_row, header_cells = header
    columns = {}
    for index, cell in enumerate(header_cells):
        text = _clean(cell)
        for key, names in (("code", _CODE_HEADERS), ("fact", _FACT_HEADERS),
                           ("value", _VALUE_HEADERS)):
            if text in names and key not in columns:
                columns[key] = index
    tree: Dict[str, Any] = {}
    indicators: Dict[str, Any] = {}
    place = table.cell(f"A{header_row}")
    rows = [r for r in seen if r[0] > header_row]

    def all_rows():
        yield from rows
        yield from table.rows

    count = 0
    for number, cells in all_rows():
        count += 1
        if count > MAX_ONE_PROJECT_ROWS:
            raise _facts_error(f"more than {MAX_ONE_PROJECT_ROWS} rows", table.file, None,
                               f"超过{MAX_ONE_PROJECT_ROWS}行",
                               "单个项目的事实表不会有这么多行；每行一个项目的表格请用 "
                               "`indicator-eval batch` 评分")
        get = (lambda i: cells[i] if i is not None and i < len(cells) else None)
        fact_raw, value_raw = get(columns["fact"]), get(columns["value"])
        code = _clean(get(columns.get("code")))
        fact = _clean(fact_raw)
        if not fact and _is_blank(value_raw):
            continue
        value_col = letter(columns["value"])
        cell = table.cell(f"{value_col}{number}")
        if not fact:
            if code and _clean(value_raw).lower() in _NA_WORDS:
                fact = "不适用"
                value_raw = "是"
            else:
                raise _facts_error(
                    f"row {number} has a value but no fact name", cell,
                    f"write the fact's name in column {letter(columns['fact'])}",
                    f"{cell}：第{number}行填写了值，但“事实名”为空",
                    f"请在{letter(columns['fact'])}列填写事实名", where=cell)
        if _is_blank(value_raw):
            continue  # not filled in: the fact is missing, never a 0
        if isinstance(value_raw, str) and value_raw.strip() in EXCEL_ERRORS:
            raise _facts_error(f"the cell holds the Excel error {value_raw.strip()}", cell,
                               "correct the formula or type the value",
                               f"{cell}：单元格是 Excel 错误值 {value_raw.strip()}",
                               "请修正公式或直接填写数值", where=cell)
        target = tree if code in _PROJECT_CODES else indicators.setdefault(
            code, ({}, Where(cell, f"indicators.{code}")))[0]
        where = Where(cell, f"{'' if code in _PROJECT_CODES else 'indicators.' + code + '.'}"
                            f"{fact}")
        value = _cell_value(value_raw)
        if fact.lower() in _NA_WORDS or fact in NOT_APPLICABLE_KEYS:
            fact = "不适用"
            value = _na_value(value)
            if value is False:
                continue
        if isinstance(value, str) and value.startswith(("[", "［")) and \
                value.endswith(("]", "］")):
            value = [_cell_value(v) for v in re.split(r"[,，;；、]", value[1:-1]) if v.strip()]
        _put(target, fact.split("."), value, where, cell)
    facts_tree = {k: v for k, v in tree.items()}
    if indicators:
        facts_tree["indicators"] = (indicators, Where(table.file, "indicators"))
    from .facts import _build

    return _build((_pairs(facts_tree, table.file), Where(place, "")), table.file, ())


def _na_value(value):
    """True (or a reason text) when a 不适用 cell marks its indicator not applicable."""
    if isinstance(value, bool):
        return value
    text = plain(value) if isinstance(value, Decimal) else str(value).strip()
    if text.lower() in _TRUE_NA:
        return True
    if text.lower() in _FALSE_NA:
        return False
    return text


def _put(target: dict, path: List[str], value, where: Where, cell: str) -> None:
    key = path[0]
    if len(path) == 1:
        if key in target:
            raise _facts_error(f"{key!r} is given twice", cell,
                               "a fact has one value; remove one of the rows",
                               f"{cell}：事实“{key}”填写了两次", "一项事实只有一个值，请删除其中一行",
                               where=cell)
        target[key] = (value, where)
        return
    inner = target.setdefault(key, ({}, where))[0]
    if not isinstance(inner, dict):
        raise _facts_error(f"{key!r} is both a value and a group", cell, None,
                           f"{cell}：“{key}”既是一个值又含有下级项",
                           "请检查事实名：一个名称不能既填值又作为其他事实的上级", where=cell)
    _put(inner, path[1:], value, where, cell)


def _pairs(tree: dict, file: str) -> dict:
    """The nested {key: (value, Where)} tree facts._build reads."""
    out = {}
    for key, entry in tree.items():
        value, where = entry
        if isinstance(value, dict):
            value = _pairs(value, file)
        elif isinstance(value, list):
            value = [(v, where) for v in value]
        out[key] = (value, where)
    return out


# ------------------------------------------------------------------ many-project form


@attrs.frozen
class Column:
    """What one column of a many-project sheet holds."""

    index: int  # 0-based
    kind: str  # "name", "info", "na" or "fact"
    code: Optional[str] = None  # the indicator whose facts hold it; None: project-wide
    key: str = ""  # the fact's name, or the information key
    need: Optional[FactNeed] = None


class Vocabulary:
    """How a set's facts may be named in column headers: names, labels, codes."""

    def __init__(self, scorer):
        self.scorer = scorer
        checked = scorer.checked
        self.codes = {node.code: node for node in checked.walk()}
        self.needs = scorer.fact_needs()
        self.by_name: Dict[str, List[FactNeed]] = {}
        self.by_label: Dict[str, List[FactNeed]] = {}
        for need in self.needs:
            self.by_name.setdefault(need.name, []).append(need)
            if need.label:
                self.by_label.setdefault(_clean(need.label), []).append(need)
        # The codes a fact may be given under: its readers and every group above them.
        self.allowed: Dict[int, set] = {}
        for need in self.needs:
            allowed = self.allowed.setdefault(id(need), set())
            for code in need.readers:
                allowed.update(checked.by_code[code].chain)

    def candidates(self, text: str) -> List[FactNeed]:
        return list(self.by_name.get(text, ())) or list(self.by_label.get(text, ()))

    def resolve(self, header) -> Tuple[Optional[Column], Optional[Tuple[str, str, str]]]:
        """(column without its index, problem) for a header cell: problem is (English,
        Chinese, hint) when the header is meant for a fact but names none well."""
        text = _clean(header)
        if not text:
            return None, None
        lowered = text.lower()
        if text in NAME_HEADERS or lowered in NAME_HEADERS:
            return Column(0, "name", None, "name"), None
        info = INFO_HEADERS.get(text) or INFO_HEADERS.get(lowered)
        if info is not None:
            return Column(0, "info", None, info), None
        found = self._resolve(text)
        note = _note(text)
        if found[0] is None and note:
            base = _strip_note(text)
            if note in self.by_name:  # 「C114 慰问人数（actual）」: the name decides
                prefix = _code_prefix(base, self.codes)
                retry = self._resolve(f"{prefix[0]} {note}" if prefix else note)
            else:  # a unit: 「项目预算金额（元）」
                retry = self._resolve(base)
            if retry[0] is not None:
                return retry
        return found

    def _resolve(self, text: str):
        prefix = _code_prefix(text, self.codes)
        if prefix is not None:
            code, rest = prefix
            if rest.lower() in _NA_WORDS:
                return Column(0, "na", code, "不适用"), None
            needs = [n for n in self.candidates(rest) if code in self.allowed[id(n)]]
            if len(needs) == 1:
                return Column(0, "fact", code, needs[0].name, needs[0]), None
            if len(needs) > 1:
                names = "、".join(n.name for n in needs)
                return None, (f"{text!r} matches several facts of {code} ({names})",
                              f"“{text}”对应{code}的多项事实（{names}）",
                              f"写成 {code}.{needs[0].name} 这样的事实名")
            own = [n for n in self.needs if code in self.allowed[id(n)]]
            listed = "、".join(f"{n.name}（{n.label}）" if n.label else n.name for n in own)
            return None, (f"{code} reads no fact {rest!r}",
                          f"{code}没有名为“{rest}”的事实",
                          f"{code}的事实：{listed}" if listed else f"{code}不读取任何事实")
        needs = self.candidates(text)
        if len(needs) > 1 and all(n.name == needs[0].name for n in needs):
            places = [p for n in needs for p in n.places]
            need = needs[0]
            heads = "、".join(f"“{p}.{need.name}”" for p in places)
            return None, (f"{text!r} is read by several indicators "
                          f"({', '.join(map(str, places))}); the column must say which",
                          f"“{text}”由多项指标（{'、'.join(map(str, places))}）分别读取，表头须写明指标编码",
                          f"分列填写，表头写成 {heads}")
        if len(needs) == 1:
            need = needs[0]
            if len(need.places) == 1:
                return Column(0, "fact", need.places[0], need.name, need), None
            heads = "、".join(f"“{p} {need.label or need.name}”" for p in need.places)
            return None, (f"{text!r} is read by several indicators "
                          f"({', '.join(need.places)}); the column must say which",
                          f"“{text}”由多项指标（{'、'.join(need.places)}）分别读取，表头须写明指标编码",
                          f"分列填写，表头写成 {heads}")
        if len(needs) > 1:
            names = "、".join(n.name for n in needs)
            return None, (f"{text!r} is the label of several facts ({names})",
                          f"“{text}”是多项事实的名称（{names}）",
                          "表头改用事实名，例如 " + needs[0].name)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            guess = did_you_mean(text, self.by_name)
            if guess is not None:
                return None, (f"unknown fact {text!r}; did you mean {guess!r}?",
                              f"没有名为“{text}”的事实", f"是否应为“{guess}”？")
        return None, None

    def header_for(self, code: Optional[str], need: FactNeed) -> str:
        """The header a template writes for a fact column: 「C114 实际慰问人数」,
        「项目预算金额（元）」 for a project-wide amount."""
        label = need.label or need.name
        unit = f"（{need.unit or '元'}）" if need.kind == "money" else ""
        return f"{label}{unit}" if code is None else f"{code} {label}{unit}"


def _code_prefix(text: str, codes) -> Optional[Tuple[str, str]]:
    match = re.match(r"^([A-Za-z][A-Za-z0-9_]*)\s*(?:[.．:：·、]|\s)\s*(.+)$", text)
    if match and match.group(1) in codes:
        return match.group(1), match.group(2).strip()
    return None


_NOTE = re.compile(r"\s*[（(]([^（）()]*)[）)]$")


def _strip_note(text: str) -> str:
    return _NOTE.sub("", text).strip()


def _note(text: str) -> str:
    match = _NOTE.search(text)
    return match.group(1).strip() if match else ""


@attrs.define
class ColumnPlan:
    """The columns of a many-project sheet, resolved once for every row."""

    file: str
    sheet: Optional[str]
    header_row: int
    columns: List[Column]
    header_crc: int = 0
    fast: Optional[list] = attrs.field(default=None, eq=False, repr=False)

    @property
    def prefix(self) -> str:
        """「projects.xlsx:Sheet1!」: what a cell reference follows."""
        return f"{self.file}:" if self.sheet is None else f"{self.file}:{self.sheet}!"

    def __getstate__(self):  # the converters are rebuilt where the plan is used
        state = {k: getattr(self, k) for k in ("file", "sheet", "header_row", "columns",
                                               "header_crc")}
        return state

    def __setstate__(self, state):
        for key, value in state.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "fast", None)

    def cell(self, index: int, row: int) -> str:
        ref = f"{letter(index)}{row}"
        return f"{self.file}:{ref}" if self.sheet is None else f"{self.file}:{self.sheet}!{ref}"

    def row_text(self, row: int) -> str:
        return f"{self.file}:{self.sheet} 第{row}行" if self.sheet else f"{self.file} 第{row}行"


def plan_columns(vocabulary: Vocabulary, table: _Table, header: Tuple[int, tuple]) -> ColumnPlan:
    """Resolve every header cell; raise FactsError listing every bad header at once."""
    number, cells = header
    columns, problems, seen = [], [], {}
    for index, cell in enumerate(cells):
        column, problem = vocabulary.resolve(cell)
        ref = table.cell(f"{letter(index)}{number}")
        if problem is not None:
            english, chinese, hint = problem
            problems.append(Diagnostic(ERROR, f"column header {english}", file=ref,
                                       hint=hint, code="facts",
                                       message_cn=f"{ref}：表头{chinese}，{hint}", hint_cn=hint))
            continue
        if column is None:
            continue  # a column of the user's own (序号, 联系人 …): kept out of the facts
        key = (column.kind, column.code, column.key)
        if key in seen:
            problems.append(Diagnostic(
                ERROR, f"column {letter(index)} repeats column {letter(seen[key])}", file=ref,
                hint="keep one of the two columns", code="facts",
                message_cn=f"{ref}：与{letter(seen[key])}列是同一项",
                hint_cn="两列只保留一列"))
            continue
        seen[key] = index
        columns.append(attrs.evolve(column, index=index))
    if problems:
        raise FactsError(problems)
    crc = zlib.crc32(repr(tuple(_clean(c) for c in cells)).encode("utf-8"))
    return ColumnPlan(table.file, table.sheet, number, columns, crc)


def _header_score(vocabulary: Vocabulary):
    def score(cells) -> int:
        found = 0
        for cell in cells:
            column, problem = vocabulary.resolve(cell)
            if column is not None and column.kind in ("fact", "na"):
                found += 2
            elif problem is not None or (column is not None and column.kind == "name"):
                found += 1
        return found
    return score


class ProjectTable:
    """A many-project sheet opened for reading: its column plan and its raw rows.

    The batch reads raw rows here and builds each project's facts where it is scored
    (:func:`build_row`), so rows travel to worker processes as plain cell tuples."""

    def __init__(self, source, name: str, scorer, kind: Optional[str] = None):
        self.vocabulary = Vocabulary(scorer)
        self.one_project = None
        tables = open_table(source, name, kind)
        self._close = tables[0].close
        try:
            self._open(tables, name)
        except BaseException:
            self._close()
            raise

    def _open(self, tables, name):
        score = _header_score(self.vocabulary)
        best = None
        for table in tables:
            header, seen = _find_header(table, lambda cells: 1000 if looks_one_project(cells)
                                        else score(cells))
            if header is None:
                continue
            if looks_one_project(header[1]):
                self.one_project = _read_one_project(table, header, seen)
                self.one_project_row = header[0] + 1
                self.table = table
                return
            if best is None or score(header[1]) > best[0]:
                best = (score(header[1]), table, header, seen)
            if score(header[1]) >= 2:
                break
        if best is None or best[0] < 2:
            examples = "、".join(self.vocabulary.header_for(p, n)
                                for n in self.vocabulary.needs[:3] for p in n.places[:1])
            raise _facts_error(
                "no header row naming the set's facts", name,
                "the first rows must hold column headers: 项目名称 and the facts' names or "
                "labels (generate one with `indicator-eval facts SET.ind --projects -o "
                "projects.xlsx`)",
                f"前{HEADER_SCAN_ROWS}行中找不到列出本指标体系事实的表头行",
                f"表头应为“项目名称”及各项事实的名称，例如 {examples}；可用 `indicator-eval "
                "facts 指标体系.ind --projects -o 项目.xlsx` 生成模板")
        _, table, header, seen = best
        self.table = table
        self.plan = plan_columns(self.vocabulary, table, header)
        self._seen = [r for r in seen if r[0] > header[0]]

    def raw_rows(self) -> Iterator[Tuple[int, tuple]]:
        """(row number, cells) of every non-empty row after the header."""
        if self.one_project is not None:
            return
        for number, cells in self._seen:
            if any(not _is_blank(c) for c in cells):
                yield number, cells
        self._seen = []
        for number, cells in self.table.rows:
            for c in cells:
                if c is not None and (c.__class__ is not str or c.strip()):
                    yield number, cells
                    break

    def rows(self) -> Iterator[ProjectRow]:
        try:
            if self.one_project is not None:
                facts = self.one_project
                name = str(facts.project["name"].value) if "name" in facts.project else \
                    Path(self.table.file).stem
                yield ProjectRow(name, self.one_project_row, facts, None,
                                 self.table.row_text(self.one_project_row))
                return
            for number, cells in self.raw_rows():
                yield build_row(self.plan, number, cells)
        finally:
            self.close()

    def close(self):
        self._close()


def read_projects(data: bytes, name: str, scorer) -> Iterator[ProjectRow]:
    """The projects of a many-project ``.xlsx`` or ``.csv`` file (``name`` gives the
    extension and names the file in messages), one :class:`ProjectRow` per non-empty
    row, in order. A bad row is yielded with its error and the rows after it are still
    read; FactsError is raised (before the first row) only when the file as a whole
    cannot be used — not a spreadsheet, or no usable header row."""
    return ProjectTable(data, name, scorer).rows()


def iter_projects(path, scorer, name: Optional[str] = None) -> Iterator[ProjectRow]:
    """:func:`read_projects` streaming from a file on disk (for very large sheets)."""
    return ProjectTable(str(path), name or str(path), scorer).rows()


# Row → facts: the per-project hot path of a batch; everything it needs was decided
# once per header in plan_columns.

def build_row(plan: ColumnPlan, number: int, cells) -> ProjectRow:
    fast = plan.fast
    if fast is None:
        fast = plan.fast = _fast_columns(plan)
    project: Dict[str, FactValue] = {}
    indicators: Dict[str, Dict[str, FactValue]] = {}
    not_applicable = {}
    problems = None
    name = None
    size = len(cells)
    row = str(number)
    for index, kind, code, key, col, convert, column in fast:
        if index >= size:
            continue
        raw = cells[index]
        if raw is None:
            continue
        if raw.__class__ is str:
            if not raw or raw.isspace():
                continue
            if not raw.isascii() and _SURROGATES.search(raw) or raw[0] == "#":
                problem = _raw_problem(raw)
                if problem is not None:
                    problems = problems or []
                    problems.append((col + row, problem, column))
                    continue
        if kind == "fact":
            value = convert(raw)
            if value is _SLOW:
                value, problem = _fact_value(column.need, raw)
                if problem is not None:
                    problems = problems or []
                    problems.append((col + row, problem, column))
                    continue
            if code is None:
                project[key] = _CellFact(value, col, row)
            else:
                table = indicators.get(code)
                if table is None:
                    table = indicators[code] = {}
                table[key] = _CellFact(value, col, row)
        elif kind == "name":
            ref = col + row
            name = _text(raw)
            project["name"] = FactValue(name, Where(ref, ref))
        elif kind == "info":
            ref = col + row
            project[key] = FactValue(_cell_value(raw), Where(ref, ref))
        else:  # not applicable
            value = _na_value(_cell_value(raw))
            if value is not False:
                ref = col + row
                not_applicable[code] = (value if isinstance(value, str) else None,
                                        Where(ref, ref))
    where = plan.row_text(number)
    shown = name or f"第{number}行"
    if problems:
        diagnostics, codes = [], []
        for ref, (english, chinese, hint), column in problems:
            need = column.need if column.kind == "fact" else None
            diagnostics.append(_cell_problem(ref, english, chinese, hint, need=need))
            codes.append(column.code or ("、".join(need.readers) if need else ""))
        return ProjectRow(shown, number, None, FactsError(diagnostics), where, codes)
    facts = Facts(project=project, indicators=indicators, not_applicable=not_applicable,
                  path=where)
    return ProjectRow(shown, number, facts, None, where)


class _CellFact(FactValue):
    """A fact read from a sheet cell. Its place (:class:`Where`) is made only when a
    message asks for it: building one per cell was most of the cost of reading a row."""

    __slots__ = ("_column", "_row")

    def __init__(self, value, column: str, row: str):
        _set(self, "value", value)
        _set(self, "_column", column)
        _set(self, "_row", row)

    @property
    def where(self) -> Where:
        ref = self._column + self._row
        return Where(ref, ref)


_set = object.__setattr__
_SURROGATES = re.compile("[\udc80-\udcff]")
_LIST_MARKS = re.compile(r"[;；、\n\[［]")
_SLOW = object()  # a fast converter's answer: take the general path


def _raw_problem(raw: str):
    """(English, Chinese, hint) for a cell that holds no usable value at all."""
    if _SURROGATES.search(raw):
        return ("the cell is not valid text in the file's encoding",
                "单元格含有无法识别的字符（文件编码不一致）", "把整个文件另存为“CSV UTF-8”")
    text = raw.strip()
    if text in EXCEL_ERRORS:
        return (f"the cell holds the Excel error {text}", f"单元格是Excel错误值{text}",
                "修正公式或直接填写数值")
    return None


def _fast_columns(plan: ColumnPlan) -> list:
    """Per column: what build_row needs, with a converter for the common cell texts
    (a plain number, a percentage, 是/否, a level) that gives exactly what the general
    path (:func:`_fact_value`) gives, or _SLOW to take it."""
    out = []
    for column in plan.columns:
        convert = None
        if column.kind == "fact":
            convert = _converter(column.need)
        out.append((column.index, column.kind, column.code, column.key,
                    plan.prefix + letter(column.index), convert, column))
    return out


def _converter(need: FactNeed):
    from .facts import _BOOL_TEXT

    if need.is_list:  # one value (no separator) stays one value, as in YAML
        scalar = _converter(attrs.evolve(need, is_list=False))

        def list_value(raw):
            if raw.__class__ is str and _LIST_MARKS.search(raw):
                return _SLOW
            return scalar(raw)
        return list_value
    kind = need.kind if need.kind != "any" else "number"
    domain = need.domain
    if kind == "bool":
        def bool_value(raw):
            if raw.__class__ is bool:
                return raw
            if raw.__class__ is str:
                found = _BOOL_TEXT.get(raw.strip().lower())
                if found is not None:
                    return found
            return _SLOW
        return bool_value
    if kind == "level":
        levels = frozenset(need.levels)

        def level_value(raw):
            if raw.__class__ is str:
                text = raw.strip()
                if text in levels:
                    return text
            return _SLOW
        return level_value
    if kind == "text":
        return lambda raw: raw.strip() if raw.__class__ is str else _SLOW
    match = _SIMPLE_NUMBER.fullmatch
    whole = kind == "count"
    percent_kind = kind == "percent"

    def number_value(raw):
        if raw.__class__ is str:
            text = raw.strip()
            if percent_kind and text.endswith("%"):
                head = text[:-1]
                if not (match(head) and len(head) <= 40):
                    return _SLOW
                value = Decimal(head) / 100
            elif match(text) and len(text) <= 40:
                value = Decimal(text)
                if percent_kind and not -10 <= value <= 10:
                    return _SLOW  # 95 for 95%: the general path says how to write it
            else:
                return _SLOW
        elif raw.__class__ is int:
            value = Decimal(raw)
            if percent_kind and not -10 <= value <= 10:
                return _SLOW
        else:
            return _SLOW
        if whole and (value < 0 or value != value.to_integral_value()):
            return _SLOW
        if domain is not None and not domain.contains(value):
            return _SLOW
        return value
    return number_value


def _cell_problem(ref: str, english: str, chinese: str, hint: str, need=None) -> Diagnostic:
    about = ""
    if need is not None:
        about = f"（{need.label}，{need.name}）" if need.label else f"（{need.name}）"
    return Diagnostic(ERROR, english, file=ref, hint=hint, code="facts",
                      message_cn=f"{ref}：{chinese}{about}，{hint}")


def _fact_value(need: FactNeed, raw):
    """(value as the rules read it, None) or (None, (English, Chinese, hint))."""
    kind = need.kind if need.kind != "any" else "number"
    if kind in ("text", "level") and isinstance(raw, str):
        value = raw.strip()  # 007 stays 007: a text is not read as a number
    else:
        value = _cell_value(raw)
    if need.is_list and isinstance(value, str) and _LIST_MARKS.search(value):
        text = value[1:-1] if value.startswith(("[", "［")) and value.endswith(("]", "］")) \
            else value
        value = [_cell_value(v) for v in re.split(r"[;；、\n]", text) if v.strip()]
    try:
        value = coerce(value, kind, unit=need.unit, levels=need.levels, domain=None,
                       allow_list=need.is_list)
    except CoercionError as exc:
        return None, _coercion_cn(need, kind, raw, exc)
    if need.domain is not None:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Decimal) and not need.domain.contains(item):
                fmt = percent if kind == "percent" else plain
                shown = fmt(item)
                return None, (f"{shown} is outside the declared range {need.domain.show(fmt)}",
                              f"{shown}超出范围{need.domain.show(fmt)}",
                              "请核对该数值")
    return value, None


def _coercion_cn(need: FactNeed, kind: str, raw, exc: CoercionError):
    shown = _text(raw)
    english = f"{need.name} {exc.message}"
    if kind == "bool":
        return english, f"“{shown}”不是“是”或“否”", "请填写“是”或“否”"
    if kind == "level":
        guess = did_you_mean(shown, need.levels)
        hint = f"是否应为“{guess}”？" if guess else "请从下拉列表中选择"
        return english, f"“{shown}”不是可选值（{'、'.join(need.levels)}）之一", hint
    if kind == "percent":
        value = _cell_value(raw)
        if isinstance(value, Decimal):
            return english, f"{shown}作为百分比含义不明", \
                f"请写作 {shown}% 或 {plain(value / 100)}"
        return english, f"“{shown}”不是百分比", "请写作 93.5% 或 0.935"
    if kind == "count":
        return english, f"“{shown}”不是不小于0的整数", "请填写整数，如 120"
    if kind == "money":
        return english, f"“{shown}”不是金额", \
            f"请填写以{need.unit or '元'}为单位的数字，或如 212.85万元"
    if kind == "text":
        return english, f"“{shown}”不是文本", "请填写文字"
    return english, f"“{shown}”不是数字", "请填写数字，如 95 或 1,234.5"


def row_fingerprint(plan: ColumnPlan, cells) -> int:
    """A checksum of a row's cells under its header: a row that changed is scored again
    when a batch resumes."""
    return zlib.crc32(repr(tuple(cells)).encode("utf-8", "surrogatepass"), plan.header_crc)


# ------------------------------------------------------------------ templates


@attrs.frozen
class Entry:
    """One fact as a template lays it out."""

    code: Optional[str]  # None: project-wide
    name: str
    need: Optional[FactNeed]  # None: project information or another fact of the file
    value: Any = None  # the value to fill in (None: blank)
    label: Optional[str] = None


_INFO_LABELS = (("name", "项目名称"), ("unit", "项目单位"), ("year", "评价年度"))


def layout(scorer, facts: Optional[Facts] = None) -> List[Tuple[Optional[object], List[Entry]]]:
    """The template's sections in the set's order: (None, project-wide entries), then
    (indicator, its entries) for every indicator that holds facts. With ``facts`` every
    entry carries its value, and a fact is split per leaf where the file gives leaves
    different values, so every rule reads from the template what it reads from ``facts``."""
    checked = scorer.checked
    sections: Dict[Optional[str], List[Entry]] = {None: []}
    written = set()

    def add(code, name, need, value, label=None):
        sections.setdefault(code, []).append(Entry(code, name, need, value,
                                                   label or (need.label if need else None)))
        written.add((code, name))

    for key, label in _INFO_LABELS:
        value = facts.project[key].value if facts is not None and key in facts.project else None
        add(None, key, None, value, label)
    for need in scorer.fact_needs():
        readers = need.readers
        values = {}
        if facts is not None:
            for code in readers:
                found = lookup(facts, checked.by_code[code].chain, need.name)
                values[code] = found.value if found is not None else None
        shared = len(need.places) == 1 and need.places[0] not in readers
        if shared and (facts is None or _all_equal(values.values())):
            place = need.places[0]
            value = next(iter(values.values()), None) if facts is not None else None
            if place is not None and facts is not None:
                found = lookup(facts, checked.by_code[place].chain, need.name)
                value = found.value if found is not None else value
            add(place, need.name, need, value)
        else:
            for code in readers:
                add(code, need.name, need, values.get(code))
    if facts is not None:  # everything else the file holds: nothing is lost
        for key, fact in facts.project.items():
            if (None, key) not in written:
                add(None, key, None, fact.value)
        for code, table in facts.indicators.items():
            for key, fact in table.items():
                if (code, key) not in written:
                    add(code, key, None, fact.value)
        for code, (reason, _where) in facts.not_applicable.items():
            sections.setdefault(code, []).insert(0, Entry(code, "不适用", None,
                                                          reason or True, "不适用"))
    order = [None] + [node.code for node in checked.walk()]
    order += [code for code in sections if code not in order]
    nodes = {node.code: node for node in checked.walk()}
    return [(nodes.get(code) if code is not None else None, sections[code])
            for code in order if code in sections]


def _all_equal(values) -> bool:
    values = list(values)
    return all(v == values[0] and type(v) is type(values[0]) for v in values)


def facts_template(scorer, fmt: str = "yaml", facts: Optional[Facts] = None,
                   projects: bool = False):
    """A facts file to fill in for ``scorer``'s set: ``yaml`` (str), ``xlsx`` or ``csv``
    (bytes). With ``projects`` the spreadsheet has one row per project and one column
    per fact (for ``indicator-eval batch``); otherwise one row per fact. With ``facts``
    the values are filled in, so it also converts facts between formats."""
    if fmt == "yaml":
        if projects:
            raise ValueError("the many-project form is a spreadsheet: use fmt='xlsx' or 'csv'")
        from .fact_templates import yaml_template

        return yaml_template(scorer, layout(scorer, facts))
    if fmt in ("xlsx", "csv"):
        from .fact_templates import csv_template, xlsx_template

        if fmt == "xlsx":
            return xlsx_template(scorer, layout(scorer, facts), projects, facts is not None)
        return csv_template(scorer, layout(scorer, facts), projects, facts is not None)
    raise ValueError(f"unknown template format {fmt!r}: use 'yaml', 'xlsx' or 'csv'")


__all__ = ["Column", "ColumnPlan", "ONE_PROJECT_HEADERS", "ProjectRow", "ProjectTable",
           "Vocabulary", "build_row", "detect_encoding", "facts_template", "iter_projects",
           "layout", "load_one_project", "read_projects", "row_fingerprint", "KIND_CN",
           "describe"]
