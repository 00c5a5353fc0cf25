"""An existing 评分表 (Word or Excel) → a draft ``.ind`` and its facts file.

``indicator-eval import TABLE.docx|TABLE.xlsx`` finds the score table in the file
(the one whose header reads like 一级指标 … 分值 … 评分标准, or ``--table N``),
reads its rows — group cells merged down over their leaves, or left blank below
the group, codes written with the name (``A11.规划匹配性``, ``A1 项目立项``,
``（一）…``), weights written ``20%``, ``20分``, ``（20）``, a 合计 row — into the
indicator tree, and writes:

* a draft ``.ind``: codes (generated A, A1, A11 … where the table has none), names,
  weights, ``explain``/``standard`` verbatim, the 评分说明 as a ``note``, and for every
  leaf a rule drafted from its 评分标准 (:mod:`indicator_dsl.drafting`) marked
  ``# 待审核``, or a ``# 待编写`` stub that ``check`` reports; weights that do not add
  up are said where they are;
* a facts file: the published 得分 of every indicator as ``published:`` (and the
  total and grade), and the facts each drafted rule needs, left blank to fill in.

Nothing is overwritten: an existing output file is refused.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import attrs

from .drafting import Draft, Standard, Unrecognised, draft_rule, label_text, plain, quote
from .errors import ERROR, WARNING, Diagnostic, FileAccessError, IndicatorError
from .tables import Cell, Document, Grid, read_tables

EXIT_FILE_ERROR = 5
EXIT_USAGE = 2


class ImportFailed(IndicatorError):
    """The file holds no usable 评分表 (or the chosen table is not one)."""

    exit_code = EXIT_FILE_ERROR


class ImportUsageError(IndicatorError):
    exit_code = EXIT_USAGE


REVIEW = "# 待审核：由评分标准起草（{title}），请核对"
STUB = "# 待编写：{reason}。请按 docs/language.md 写 score: 规则"

# ------------------------------------------------------------------- headers

# (kind, pattern) in the order they are tried: 评分标准 before 评分/得分, 指标解释
# before 指标 (a level column).
HEADER_KINDS: Tuple[Tuple[str, str], ...] = (
    ("standard", r"评分标准|评分细则|评分办法|评分方法|计分方法|计分标准|评价标准|打分标准|考核标准"
                 r"|评分规则|评分要点"),
    ("explain", r"指标解释|指标说明|指标内涵|指标释义|指标定义|指标含义|^解释$"),
    ("remark", r"评分说明|扣分原因|扣分说明|扣分理由|得分说明|得分理由|偏差原因|扣分情况|备注|^说明$"),
    ("score", r"得分|自评分|评价分|实际分|^评分$|评定分"),
    ("weight", r"分值|权重|满分|标准分|^分数$|配分|指标分"),
    ("level", r"(?P<n>[一二三四五六七八九1-9])级(?:指标)?|指标名称|评价指标|考核指标|考核内容|评价内容"
              r"|评价项目|^指标$|^项目$"),
    ("code", r"^序号$|^编号$|^代码$|^指标编码$|^编码$"),
)
_HEADER_RES = tuple((kind, re.compile(p)) for kind, p in HEADER_KINDS)
_CN_LEVEL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

SUBTOTAL_WORDS = {"小计", "小计得分", "分项合计"}
TOTAL_WORDS = {"合计", "总计", "总分", "合计得分", "总得分", "得分合计", "合计分", "总 计", "合 计"}
GRADE_WORDS = {"等级", "评价等级", "评定等级", "绩效等级", "综合等级", "评价结果", "等次", "评价等次"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def classify_header(text: str) -> Tuple[Optional[str], Optional[int]]:
    """What a header cell names (a level, 分值, 评分标准 …), or None. Headers are short:
    a long text is a cell's content, even if it says 得分 or 满分."""
    text = _squash(text)
    if not text or len(text) > 14 or re.search(r"[，,；;。：:、？?！!]", text):
        return None, None
    for kind, regex in _HEADER_RES:
        m = regex.search(text)
        if m and (m.end() - m.start()) * 3 >= len(text):
            level = None
            if kind == "level" and m.groupdict().get("n"):
                raw = m.group("n")
                level = int(raw) if raw.isdigit() else _CN_LEVEL[raw]
            return kind, level
    return None, None


@attrs.define
class Layout:
    header_rows: List[int]
    level_cols: List[int]
    columns: Dict[str, int]  # weight, score, explain, standard, remark → column
    extra: List[Tuple[int, str]]  # other columns: (column, header text)
    score: int  # how much the table looks like a 评分表
    weight_percent: bool = False  # 权重（%）: the weights are percentages of the total
    header_texts: Tuple[str, ...] = ()

    @property
    def first_data_row(self) -> int:
        return self.header_rows[-1] + 1


def _row_kinds(grid: Grid, r: int) -> Dict[int, Tuple[Optional[str], Optional[int]]]:
    out = {}
    for c, cell in enumerate(grid.rows[r]):
        out[c] = classify_header(cell.text)
    return out


def _looks_like_header(grid: Grid, r: int) -> bool:
    kinds = {k for k, _ in _row_kinds(grid, r).values() if k}
    return len(kinds & {"level", "weight", "standard", "explain", "score", "remark"}) >= 2


def find_layout(grid: Grid) -> Optional[Layout]:
    """The header of a 评分表 within the first rows of ``grid``, or None."""
    for h in range(min(len(grid.rows), 12)):
        if not _looks_like_header(grid, h):
            continue
        header_rows = [h]
        nxt = h + 1
        if nxt < len(grid.rows):
            own = [c for c in grid.rows[nxt] if c.origin[0] == nxt and c.text]
            own_kinds = [classify_header(c.text)[0] for c in own]
            numeric = any(re.fullmatch(r"[\d.%分()（）]+", _squash(c.text)) for c in own)
            if own and any(own_kinds) and not numeric:
                header_rows.append(nxt)
        return _layout(grid, header_rows)
    return None


def _layout(grid: Grid, header_rows: List[int]) -> Optional[Layout]:
    columns: Dict[str, int] = {}
    levels: List[Tuple[int, Optional[int]]] = []
    extra: List[Tuple[int, str]] = []
    for c in range(grid.width):
        texts = []
        for r in header_rows:
            text = grid.text(r, c)
            if text and text not in texts:
                texts.append(text)
        kind = level = None
        for text in reversed(texts):  # the lower header row is the more specific
            kind, level = classify_header(text)
            if kind:
                break
        if kind == "level":
            levels.append((c, level))
        elif kind in ("weight", "score", "explain", "standard", "remark"):
            columns.setdefault(kind, c)
        elif kind == "code":
            continue
        elif texts:
            extra.append((c, "".join(_squash(t) for t in texts)))
    if not levels or not ({"weight", "standard"} & set(columns)):
        return None
    level_cols = [c for c, _ in sorted(levels, key=lambda item: (item[1] or 99, item[0]))]
    if any(level is None for _, level in levels):
        level_cols = [c for c, _ in levels]
    score = 3 + 2 * ("weight" in columns) + 2 * ("standard" in columns) + \
        sum(k in columns for k in ("explain", "score", "remark")) + (len(level_cols) >= 2)
    weight_percent = "weight" in columns and any(
        re.search(r"[%％]", grid.text(r, columns["weight"])) for r in header_rows)
    header_texts = tuple(_squash(" ".join(grid.text(r, c) for r in header_rows))
                         for c in range(grid.width))
    return Layout(header_rows, level_cols, columns, extra, score, weight_percent, header_texts)


def choose_table(doc: Document, table: Optional[int]) -> Tuple[Grid, Layout]:
    """The 评分表 of a document: ``--table N``, or the table that looks most like one."""
    if not doc.grids:
        raise ImportFailed(Diagnostic(ERROR, "文件中没有表格", file=doc.path,
                                      hint="评分表须是 Word 表格或 Excel 工作表"))
    if table is not None:
        if not 1 <= table <= len(doc.grids):
            raise ImportUsageError(Diagnostic(
                ERROR, f"--table {table} 超出范围：文件中有 {len(doc.grids)} 个"
                       f"{'表格' if doc.kind == 'docx' else '工作表'}", file=doc.path,
                hint=_list_tables(doc)))
        grid = doc.grids[table - 1]
        layout = find_layout(grid)
        if layout is None:
            raise ImportFailed(Diagnostic(
                ERROR, f"{grid.name} 的表头没有找到指标列（一级指标…）和分值或评分标准列",
                file=doc.path, hint="表头应有“一级指标”“分值”“评分标准”等列；" + _list_tables(doc)))
        return _with_continuations(doc, grid, layout), layout
    candidates = [(find_layout(g), g) for g in doc.grids]
    scored = [(layout.score, len(g.rows), -i, g, layout)
              for i, (layout, g) in enumerate(candidates) if layout is not None]
    if not scored:
        raise ImportFailed(Diagnostic(
            ERROR, "没有找到评分表：没有一个表格的表头含有指标列（一级指标…）和分值或评分标准列",
            file=doc.path, hint=_list_tables(doc)))
    scored.sort(key=lambda item: item[:3], reverse=True)
    _, _, _, grid, layout = scored[0]
    return _with_continuations(doc, grid, layout), layout


def _with_continuations(doc: Document, grid: Grid, layout: Layout) -> Grid:
    """A Word table split across pages is often several tables: the ones right after it
    with the same columns and no header of their own are its continuation."""
    if doc.kind != "docx":
        return grid
    rows = list(grid.rows)
    for nxt in doc.grids[grid.index:]:
        if nxt.title is not None or nxt.width != grid.width:
            break
        skip = 0
        own = find_layout(nxt)
        if own is not None:  # the header repeated on the next page: the same columns?
            if own.header_texts != layout.header_texts:
                break
            skip = own.first_data_row
        offset = len(rows) - skip
        for row in nxt.rows[skip:]:
            rows.append([attrs.evolve(c, origin=(c.origin[0] + offset, c.origin[1]))
                         for c in row])
    return attrs.evolve(grid, rows=rows)


def _list_tables(doc: Document) -> str:
    parts = []
    for g in doc.grids[:12]:
        first = " | ".join(_squash(c.text)[:8] for c in (g.rows[0] if g.rows else []) if c.text)
        parts.append(f"{g.index}. {g.name}（{len(g.rows)}行）：{first[:60]}")
    return "文件中的表格：" + "；".join(parts) + "。用 --table N 指定评分表"


# --------------------------------------------------------------------- titles

# A code written before the name: A11.规划匹配性, A1 项目立项, B232财务…, A1.1 …, A、…
_LETTER_CODE = re.compile(r"^(?:(?P<dotted>[A-Za-z]{1,3}\d+(?:\.\d+)+)(?=[\s、.．:：])"
                          r"|(?P<code>[A-Za-z]{1,3}\d+)(?=[\s.．、:：]|[^\d.．A-Za-z])"
                          r"|(?P<letters>[A-Za-z]{1,2})(?=[\s.．、:：]))[\s.．、:：]*")
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]"
                        r"|\d+(?:\.\d+)*[、.．\s]|[(（]\d+[)）]|[①-⑳])\s*")
_TITLE_WEIGHT = re.compile(r"[(（]\s*(?P<v>\d+(?:\.\d+)?)\s*(?P<u>%|％|分)?\s*[)）]\s*$"
                           r"|\s(?P<v2>\d+(?:\.\d+)?)\s*(?P<u2>%|％|分)\s*$")
_SUBTOTAL = re.compile(r"^(?P<w>\d+(?:\.\d+)?)分[，,]\s*得(?P<s>\d+(?:\.\d+)?)分$")


@attrs.frozen
class Weight:
    value: Decimal
    percent: bool

    def text(self) -> str:
        return plain(self.value) + ("%" if self.percent else "")

    def points(self, total: Decimal) -> Decimal:
        return self.value * total / 100 if self.percent else self.value


@attrs.frozen
class Title:
    code: Optional[str]
    name: str
    weight: Optional[Weight]
    published: Optional[Decimal]  # a group cell's 「8分，得8分」
    numbering: Optional[str]  # （一）, 1.1 … when the table numbers instead of coding


def split_title(text: str) -> Title:
    """「A11.规划匹配性」, 「A1 项目立项（8%）」, 「（一）项目决策」, 「A1.项目立项\\n8分，得8分」."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    weight = published = None
    kept = []
    for index, line in enumerate(lines):
        m = _SUBTOTAL.match(_squash(line)) if index else None
        if m:  # this tool's own reports: 「8分，得8分」 under the group's name
            weight = Weight(Decimal(m.group("w")), False)
            published = Decimal(m.group("s"))
        else:
            kept.append(line)
    # A name wrapped by hand over several lines is one name; a code alone on the first
    # line is followed by the name.
    if len(kept) > 1 and re.fullmatch(r"[A-Za-z]{1,3}\d*(?:\.\d+)*[.．、]?", kept[0]):
        head = kept[0] + " " + "".join(kept[1:])
    else:
        head = "".join(kept)
    code = numbering = None
    m = _LETTER_CODE.match(head)
    if m and head[m.end():].strip():
        code = (m.group("dotted") or m.group("code") or m.group("letters")).replace(".", "_")
        head = head[m.end():]
    else:
        n = _NUMBERING.match(head)
        if n:
            numbering = n.group(0).strip()
            head = head[n.end():]
    m = _TITLE_WEIGHT.search(head)
    if m:
        value = m.group("v") or m.group("v2")
        unit = m.group("u") or m.group("u2")
        weight = Weight(Decimal(value), unit in ("%", "％"))
        head = head[:m.start()]
    return Title(code, head.strip(), weight, published, numbering)


def parse_weight(text: str, percent: bool = False) -> Optional[Weight]:
    """20, 20分, 20%, （20）, 0.5 — None for anything else. ``percent``: the column's
    header says 权重（%）, so a bare 20 is 20%."""
    t = _squash(text).translate({ord("％"): "%", ord("（"): "(", ord("）"): ")"})
    m = re.fullmatch(r"\(?(?P<v>\d+(?:\.\d+)?)(?P<u>%|分)?\)?", t)
    if not m:
        return None
    unit = m.group("u")
    return Weight(Decimal(m.group("v")), unit == "%" or (percent and unit is None))


def parse_score(text: str) -> Optional[Decimal]:
    """5.5, 5.5分, 98（优）; None for 不适用, —, or text."""
    m = re.match(r"(-?\d+(?:\.\d+)?)分?(?=$|[（(\s])", _squash(text))
    return Decimal(m.group(1)) if m else None


# ----------------------------------------------------------------------- tree


@attrs.define(eq=False)
class Node:
    title: Title
    raw: str  # the cell text as written
    place: str
    level: int  # the level column it was found in (0-based)
    code: Optional[str] = None
    weight: Optional[Weight] = None
    weight_text: str = ""
    weight_place: str = ""
    published: Optional[Decimal] = None
    published_text: str = ""
    explain: str = ""
    standard: str = ""
    remark: str = ""
    extras: List[Tuple[str, str]] = attrs.Factory(list)
    children: List["Node"] = attrs.Factory(list)
    parent: Optional["Node"] = None
    comments: List[str] = attrs.Factory(list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@attrs.define
class Table:
    path: str
    grid: Grid
    layout: Layout
    roots: List[Node]
    total_weight: Optional[Weight] = None
    published_total: Optional[Decimal] = None
    published_grade: Optional[str] = None
    problems: List[Diagnostic] = attrs.Factory(list)
    doc_title: Optional[str] = None

    def walk(self):
        for root in self.roots:
            yield from root.walk()

    def leaves(self) -> List[Node]:
        return [n for n in self.walk() if n.is_leaf]


def read_table(path: str, table: Optional[int] = None) -> Table:
    doc = read_tables(path)
    grid, layout = choose_table(doc, table)
    return build_tree(doc, grid, layout)


def build_tree(doc: Document, grid: Grid, layout: Layout) -> Table:
    result = Table(doc.path, grid, layout, [], doc_title=doc.title)
    level_cols = layout.level_cols
    open_nodes: Dict[int, Node] = {}
    previous: List[Optional[Tuple[int, int]]] = [None] * len(level_cols)
    last_leaf: Optional[Node] = None
    r = layout.first_data_row
    while r < len(grid.rows):
        row = grid.rows[r]
        texts = [_squash(c.text) for c in row]
        first_texts = [texts[c] for c in level_cols] + texts[:1]
        level_texts = [texts[c] for c in level_cols]
        if any(t in SUBTOTAL_WORDS for t in level_texts):
            # 小计 under a group's leaves: its score is the group's, not a new indicator.
            at = next(i for i, t in enumerate(level_texts) if t in SUBTOTAL_WORDS)
            group = open_nodes.get(max((k for k in open_nodes if k < at), default=-1))
            score = _cell(grid, layout, r, "score")
            if group is not None and score is not None and parse_score(score.text) is not None:
                group.published = parse_score(score.text)
            previous = [row[c].origin for c in level_cols]
            r += 1
            continue
        if any(t in TOTAL_WORDS for t in first_texts):
            _read_total(result, grid, layout, r)
            r += 1
            continue
        if any(t in GRADE_WORDS for t in first_texts):
            result.published_grade = next((c.text.strip() for c in row
                                           if c.text.strip() and _squash(c.text) not in GRADE_WORDS),
                                          result.published_grade)
            r += 1
            continue
        if result.total_weight is not None or result.published_total is not None:
            break  # rows after the 合计 row are notes, signatures …
        if not any(texts) or _looks_like_header(grid, r):
            r += 1
            continue
        entries = []
        for i, c in enumerate(level_cols):
            cell = row[c]
            if i > 0 and cell.origin == row[level_cols[i - 1]].origin:
                continue  # merged across with the cell on its left
            new = bool(_squash(cell.text)) and cell.origin != previous[i]
            if new and i in open_nodes and open_nodes[i].raw == cell.text.strip() and \
                    not any(e[2] for e in entries):
                new = False  # the group's name repeated on every row, not merged
            entries.append((i, cell, new))
        previous = [row[c].origin for c in level_cols]
        created = [(i, cell) for i, cell, new in entries if new]
        if not created:
            if last_leaf is not None:
                _continue_leaf(last_leaf, grid, layout, r)
            r += 1
            continue
        node = None
        for i, cell in created:
            node = Node(split_title(cell.text), cell.text.strip(), cell.place, i)
            parent_level = max((k for k in open_nodes if k < i), default=None)
            if parent_level is None:
                result.roots.append(node)
            else:
                node.parent = open_nodes[parent_level]
                node.parent.children.append(node)
            for k in [k for k in open_nodes if k >= i]:
                del open_nodes[k]
            open_nodes[i] = node
        _fill_row(node, grid, layout, r)
        last_leaf = node
        r += 1
    if not result.roots:
        raise ImportFailed(Diagnostic(ERROR, f"{grid.name} 的表头下没有读出任何指标", file=doc.path,
                                      hint="检查指标列（一级指标…）是否有内容，或用 --table N 选择另一个表格"))
    if len(level_cols) == 1:
        result.roots = _nest_single_column(result.roots)
    _settle(result)
    return result


def _numbering_style(numbering: Optional[str]) -> Optional[str]:
    if not numbering:
        return None
    if re.match(r"[一二三四五六七八九十]+[、.．]", numbering):
        return "一、"
    if re.match(r"[(（][一二三四五六七八九十]+", numbering):
        return "（一）"
    if re.match(r"[(（]\d", numbering):
        return "（1）"
    if re.match(r"[①-⑳]", numbering):
        return "①"
    return "1" + ".1" * numbering.strip("、.． ").count(".")


def _nest_single_column(rows: List[Node]) -> List[Node]:
    """One indicator column for every level: the tree comes from the codes (A1 is under
    A, A11 under A1) or, without codes, from the numbering styles in the order they
    first appear (一、 then （一） then 1. …)."""
    roots: List[Node] = []
    stack: List[Node] = []
    styles: List[str] = []
    for node in rows:
        node.parent, node.children = None, []
        code = node.title.code
        if code and any(n.title.code for n in rows if n is not node):
            while stack and not (stack[-1].title.code and code.startswith(stack[-1].title.code)
                                 and code != stack[-1].title.code):
                stack.pop()
        else:
            style = _numbering_style(node.title.numbering)
            if style is not None and style not in styles:
                styles.append(style)
            depth = styles.index(style) if style is not None else len(stack)
            del stack[depth:]
        if stack:
            node.parent = stack[-1]
            stack[-1].children.append(node)
        else:
            roots.append(node)
        node.level = len(stack)
        stack.append(node)
    return roots


def _cell(grid: Grid, layout: Layout, r: int, kind: str) -> Optional[Cell]:
    c = layout.columns.get(kind)
    if c is None or c >= len(grid.rows[r]):
        return None
    return grid.rows[r][c]


def _fill_row(node: Node, grid: Grid, layout: Layout, r: int) -> None:
    weight = _cell(grid, layout, r, "weight")
    if weight is not None and weight.origin[0] == r and weight.text:
        node.weight_text = weight.text.strip()
        node.weight_place = weight.place
        node.weight = parse_weight(weight.text, layout.weight_percent)
    elif weight is not None and not weight.text:
        formula = grid.formula(r, layout.columns["weight"])
        if formula:
            node.weight_text = formula
            node.weight_place = weight.place
    score = _cell(grid, layout, r, "score")
    if score is not None and score.origin[0] == r and score.text:
        node.published_text = score.text.strip()
        node.published = parse_score(score.text)
    for kind in ("explain", "standard", "remark"):
        cell = _cell(grid, layout, r, kind)
        if cell is not None and cell.origin[0] == r and cell.text:
            setattr(node, kind, cell.text.strip())
    for c, header in layout.extra:
        cell = grid.rows[r][c] if c < len(grid.rows[r]) else None
        if cell is not None and cell.origin[0] == r and cell.text.strip():
            node.extras.append((header, cell.text.strip()))


def _continue_leaf(leaf: Node, grid: Grid, layout: Layout, r: int) -> None:
    """A row with no new indicator continues the previous one (a long standard on
    two rows): its texts are appended, nothing is dropped."""
    for kind in ("explain", "standard", "remark"):
        cell = _cell(grid, layout, r, kind)
        if cell is not None and cell.origin[0] == r and cell.text.strip():
            before = getattr(leaf, kind)
            setattr(leaf, kind, (before + "\n" + cell.text.strip()) if before else cell.text.strip())
    weight = _cell(grid, layout, r, "weight")
    if weight is not None and weight.origin[0] == r and weight.text.strip():
        if leaf.weight is None:
            leaf.weight_text, leaf.weight_place = weight.text.strip(), weight.place
            leaf.weight = parse_weight(weight.text, layout.weight_percent)
        else:
            leaf.comments.append(f"# 评分表{weight.place}另有分值“{weight.text.strip()}”，已略去，请核对")


def _read_total(result: Table, grid: Grid, layout: Layout, r: int) -> None:
    weight = _cell(grid, layout, r, "weight")
    if weight is not None and weight.text:
        result.total_weight = parse_weight(weight.text)
    if result.total_weight is None:
        for c in layout.level_cols[1:]:
            w = parse_weight(grid.text(r, c))
            if w is not None:
                result.total_weight = w
                break
    score = _cell(grid, layout, r, "score")
    if score is not None and score.text:
        result.published_total = parse_score(score.text)
    for cell in grid.rows[r]:  # 合计 … 97分（优）
        m = re.search(r"[（(]?(优秀|良好|合格|不合格|优|良|中|差)[)）]?", cell.text)
        if m and not classify_header(cell.text)[0]:
            result.published_grade = result.published_grade or m.group(1)


# ------------------------------------------------------------ codes, weights

def _valid_code(code: Optional[str]) -> bool:
    from .parser import EXPRESSION_WORDS, STATEMENT_WORDS

    return bool(code) and re.fullmatch(r"(?!\d)\w+", code) is not None and \
        code not in STATEMENT_WORDS | EXPRESSION_WORDS


def _settle(table: Table) -> None:
    """Codes for every node, leaf weights read, group weights derived where unprinted."""
    nodes = list(table.walk())
    printed = [n.title.code for n in nodes if _valid_code(n.title.code)]
    duplicates = {c for c in printed if printed.count(c) > 1}
    used = set(printed) - duplicates
    for n in nodes:
        if _valid_code(n.title.code) and n.title.code not in duplicates:
            n.code = n.title.code
        elif n.title.code and n.title.code in duplicates:
            n.comments.append(f"# 评分表中编码“{n.title.code}”重复，已改用生成的编码")
        elif n.title.code:
            n.comments.append(f"# 评分表中的编码“{n.title.code}”不能作编码，已改用生成的编码")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for index, root in enumerate(table.roots):
        if root.code is None:
            base = letters[index] if index < len(letters) else f"X{index + 1}"
            root.code = _unique(base, used)
        _code_children(root, used)
    for n in nodes:
        if n.title.numbering:
            n.comments.append(f"# 评分表中的序号：{n.title.numbering}")
        if n.weight is None and n.title.weight is not None:
            n.weight = n.title.weight
        elif n.weight is not None and n.title.weight is not None and n.children and \
                n.title.weight != n.weight:
            n.weight = n.title.weight
    for n in reversed(nodes):  # children before parents
        if n.is_leaf:
            if n.weight is None:
                where = f"（{n.weight_place}）" if n.weight_place else ""
                shown = f"“{n.weight_text}”" if n.weight_text else "空白"
                table.problems.append(Diagnostic(
                    WARNING, f"{n.code} 的分值{shown}未能读出{where}，草稿中暂写 0",
                    file=table.path, hint="请在草稿中改为正确的分值"))
                n.comments.append(f"# 待核对：评分表中分值为{shown}，未能读出，暂写 0")
                n.weight = Weight(Decimal(0), False)
        elif n.weight is None:
            if all(child.weight is not None for child in n.children):
                total = table_total(table)
                n.weight = Weight(sum((c.weight.points(total) for c in n.children), Decimal(0)),
                                  False)


def _code_children(node: Node, used: set) -> None:
    for index, child in enumerate(node.children, start=1):
        if child.code is None:
            base = f"{node.code}{index}" if index < 10 else f"{node.code}_{index}"
            child.code = _unique(base, used)
        _code_children(child, used)


def _unique(base: str, used: set) -> str:
    code, k = base, 2
    while code in used:
        code = f"{base}_{k}"
        k += 1
    used.add(code)
    return code


def table_total(table: Table) -> Decimal:
    """The set's total in points: the 合计 row's 分值, else the printed top-level points,
    else 100 (weights written as percentages)."""
    if table.total_weight is not None and not table.total_weight.percent and \
            table.total_weight.value > 0:
        return table.total_weight.value
    roots = [r.weight or r.title.weight for r in table.roots]
    if roots and all(w is not None and not w.percent for w in roots):
        return sum((w.value for w in roots), Decimal(0))
    return Decimal(100)


def weight_problems(table: Table) -> None:
    """Say, in the draft and on the terminal, where weights do not add up."""
    total = table_total(table)
    for n in table.walk():
        if n.is_leaf or n.weight is None:
            continue
        if any(c.weight is None for c in n.children):
            continue
        own = n.weight.points(total)
        children = sum((c.weight.points(total) for c in n.children), Decimal(0))
        if own != children:
            n.comments.append(f"# 权重不符：下级指标分值合计为 {plain(children)}，本指标为 "
                              f"{plain(own)}，请核对评分表")
            table.problems.append(Diagnostic(
                WARNING, f"{n.code} 的分值 {plain(own)} 与下级指标分值合计 {plain(children)} 不符",
                file=table.path, hint=f"评分表位置：{n.place}；草稿中已注明，check 也会报告"))


# ---------------------------------------------------------------- the draft


@attrs.define
class Result:
    ind_text: str
    facts_text: str
    drafted: int
    stubs: int
    facts: int
    table: Table
    drafts: Dict[str, object]  # leaf code → Draft or Unrecognised


def infer_rounding(table: Table) -> Tuple[str, Optional[str]]:
    """Leaf rounding: 0.1 when every published leaf score is a multiple of 0.1 and some
    are not whole (the table shows one decimal); else the language's default 0.01."""
    scores = [n.published for n in table.leaves() if n.published is not None]
    if scores and all((s * 10) == (s * 10).to_integral_value() for s in scores) and \
            any(s != s.to_integral_value() for s in scores):
        return "0.1", "# 取舍：评分表的得分都保留一位小数，按每个末级指标四舍五入到 0.1 起草；请按评分办法核对"
    return "0.01", None


def draft_set(table: Table, name: Optional[str] = None, region: Optional[str] = None,
              year: Optional[int] = None, source_label: str = "",
              facts_name: str = "") -> Result:
    weight_problems(table)
    total = table_total(table)
    title = name or _set_name(table, table.doc_title)
    if year is None:
        m = re.search(r"(20\d\d|19\d\d)\s*年", title or "")
        year = int(m.group(1)) if m else None
    rounding, rounding_note = infer_rounding(table)
    lines = [
        f"# 评分表草稿：由 indicator-eval import 从 {source_label} 生成。",
        "# 标“待审核”的规则由评分标准自动起草，请逐条对照原文核对后删去标记；标“待编写”的指标",
        "# 还没有规则，indicator-eval check 会报告它们。",
    ]
    if facts_name:
        lines.append(f"# 数据文件 {facts_name} 已填入评分表的得分（published），其余数据待填写。")
    lines.append(f"set {quote(title)}")
    if region:
        lines.append(f"region {quote(region)}")
    if year:
        lines.append(f"year {year}")
    lines.append(f"total {plain(total)}")
    roots_points = sum((r.weight.points(total) for r in table.roots if r.weight is not None),
                       Decimal(0))
    if all(r.weight is not None for r in table.roots) and roots_points != total:
        lines.append(f"# 权重不符：一级指标分值合计为 {plain(roots_points)}，总分为 {plain(total)}，请核对评分表")
        table.problems.append(Diagnostic(
            WARNING, f"一级指标分值合计 {plain(roots_points)} 与总分 {plain(total)} 不符",
            file=table.path, hint="草稿中已注明，check 也会报告"))
    lines.append("# 等级：评分表未印等级办法时按财预〔2020〕10号第十八条（90分以上优，80-90良，60-80中，60以下差），请核对")
    lines.append("grades 优 >= 90, 良 >= 80, 中 >= 60, 差")
    if rounding_note:
        lines.append(rounding_note)
    lines.append(f"round leaves to {rounding}")
    drafts: Dict[str, object] = {}
    for root in table.roots:
        lines.append("")
        lines.extend(_node_lines(root, 0, drafts, total))
    text = "\n".join(lines) + "\n"
    text = _formatted(text)
    facts_text, fact_count = facts_file(table, drafts, title, source_label)
    drafted = sum(isinstance(d, Draft) for d in drafts.values())
    return Result(text, facts_text, drafted, len(drafts) - drafted, fact_count, table, drafts)


def _set_name(table: Table, doc_title: Optional[str]) -> str:
    """The document's title, else the line above the table, else an Excel title row,
    else the file's name; without a trailing 评分表 (the set is the 指标体系)."""
    return re.sub(r"[（(]?(?:指标)?评分(?:表|细则)[)）]?$", "",
                  _set_title(table, doc_title)) or _set_title(table, doc_title)


def _set_title(table: Table, doc_title: Optional[str]) -> str:
    grid = table.grid
    for candidate in (doc_title, grid.title):
        if candidate and 4 <= len(candidate.strip()) <= 80 and \
                not _looks_like_header_text(candidate):
            return candidate.strip()
    if table.layout.header_rows[0] > 0:  # an Excel title row above the header
        for r in range(table.layout.header_rows[0]):
            text = next((c.text.strip() for c in grid.rows[r] if c.text.strip()), "")
            if 2 <= len(text) <= 80:
                return text
    return Path(table.path).stem


def _looks_like_header_text(text: str) -> bool:
    return classify_header(text)[0] is not None and len(text) < 8


def _node_lines(node: Node, depth: int, drafts: Dict[str, object], total: Decimal) -> List[str]:
    pad = "  " * depth
    inner = pad + "  "
    out = [] if node.is_leaf else [pad + c for c in node.comments]
    weight = node.weight.text() if node.weight is not None else "0"
    head = f"{pad}{node.code} {quote(node.title.name)} weight {weight}" if node.title.name else \
        f"{pad}{node.code} weight {weight}"
    if not node.is_leaf:
        out.append(head + " {")
        for key in ("explain", "standard"):
            if getattr(node, key):
                out.append(f"{inner}{key} {quote(getattr(node, key))}")
        for line in _notes(node):
            out.append(inner + line)
        for index, child in enumerate(node.children):
            if index and (child.children or node.children[index - 1].children):
                out.append("")
            out.extend(_node_lines(child, depth + 1, drafts, total))
        out.append(pad + "}")
        return out
    out.append(head + " {")
    out.extend(inner + c for c in node.comments)
    if node.explain:
        out.append(f"{inner}explain {quote(node.explain)}")
    if node.standard:
        out.append(f"{inner}standard {quote(node.standard)}")
    for line in _notes(node):
        out.append(inner + line)
    draft = _draft_leaf(node, node.weight.points(total) if node.weight else Decimal(0))
    drafts[node.code] = draft
    if isinstance(draft, Draft):
        out.append(inner + REVIEW.format(title=draft.title))
        for reading in draft.readings:
            out.append(f"{inner}# 读法：{reading}")
        out.extend(inner + f.declaration() for f in draft.facts)
        out.extend(inner + let.declaration() for let in draft.lets)
        if draft.points:
            out.extend(f"{inner}point {p.label} {p.weight}: {p.rule}" for p in draft.points)
        else:
            out.append(f"{inner}score: {draft.rule}")
    else:
        out.append(inner + STUB.format(reason=draft.reason))
        if not (node.explain or node.standard or node.remark or node.extras):
            # The language has no empty block: keep the reason as the leaf's note.
            out.append(f"{inner}note {quote('待编写：' + draft.reason)}")
    out.append(pad + "}")
    return out


def _notes(node: Node) -> List[str]:
    out = []
    if node.remark:
        out.append(f"note {quote('评分说明：' + node.remark)}")
    for header, text in node.extras:
        out.append(f"note {quote(label_text(header) + '：' + text)}")
    return out


def _draft_leaf(node: Node, weight: Decimal):
    if not node.standard:
        return Unrecognised("评分表中本指标没有评分标准")
    return draft_rule(Standard(node.standard, weight, node.title.name, node.explain))


def _formatted(text: str, spelling: Optional[str] = None) -> str:
    """The canonical layout (``fmt``), when the draft parses; else as written."""
    from .formatter import format_text

    try:
        return format_text(text, "<draft>", spelling)
    except Exception:  # the draft is still written; check will say what is wrong
        return text


# ------------------------------------------------------------------ facts file

_PLAIN_YAML = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\n]*$")


def yaml_scalar(text: str) -> str:
    if _PLAIN_YAML.match(text) and not re.fullmatch(
            r"(?i)true|false|yes|no|on|off|null|~|y|n|[-+]?[\d.]+%?", text) and text == text.strip():
        return text
    return json.dumps(text, ensure_ascii=False)


def facts_file(table: Table, drafts: Dict[str, object], title: str,
               source_label: str) -> Tuple[str, int]:
    lines = [
        f"# 评分表草稿的数据：由 indicator-eval import 从 {source_label} 生成。",
        "# published 是评分表印出的得分，只用来核对，不参与计算。其余各项留空，请按项目实际情况填写",
        "# （留空的数据在评分时报错，不会当作 0）。",
        f"name: {yaml_scalar(title)}",
    ]
    published = []
    if table.published_total is not None:
        published.append(f"total: {plain(table.published_total)}")
    if table.published_grade:
        published.append(f"grade: {yaml_scalar(table.published_grade)}")
    if published:
        lines.append("published: {" + ", ".join(published) + "}")
    lines.append("indicators:")
    count = 0
    for node in table.walk():
        entry = []
        draft = drafts.get(node.code)
        if node.published is not None:
            entry.append(f"    published: {plain(node.published)}")
        elif node.published_text:
            if _squash(node.published_text) in ("不适用", "不考核", "N/A", "n/a", "/"):
                lines.append(f"  {node.code}: na   # 评分表得分栏：{node.published_text}")
                continue
            entry.append(f"    # 评分表得分栏：{node.published_text}")
        elif node.title.published is not None:
            entry.append(f"    published: {plain(node.title.published)}")
        if node.is_leaf:
            if isinstance(draft, Draft):
                seen = set()
                for fact in draft.facts:
                    if fact.name in seen:
                        continue
                    seen.add(fact.name)
                    entry.append(f"    {fact.name}:   # {fact.label}：{fact.kind_cn}")
                    count += 1
            else:
                entry.append("    # 待编写规则后再填写数据")
        if entry:
            lines.append(f"  {node.code}:")
            lines.extend(entry)
    return "\n".join(lines) + "\n", count


# ------------------------------------------------------------------------ CLI


def run(args) -> int:
    from .cli import write_atomic

    source = Path(args.table_file)
    output = Path(args.output) if args.output else source.with_suffix(".ind")
    if output.suffix != ".ind":
        raise ImportUsageError(Diagnostic(ERROR, "草稿文件须以 .ind 结尾", file=str(output),
                                          hint="例如 -o 草稿.ind"))
    facts = Path(args.facts) if args.facts else output.with_name(output.stem + ".facts.yaml")
    for path in (output, facts):
        _refuse_existing(path, source)
    if output.resolve() == facts.resolve():
        raise ImportUsageError(Diagnostic(ERROR, "草稿和数据文件不能是同一个文件", file=str(facts)))
    table = read_table(str(source), args.table)
    label = f"{source.name}（{table.grid.name}）"
    result = draft_set(table, args.name, args.region, args.year, label, facts.name)
    if getattr(args, "keywords", "en") == "zh":  # the draft in 权重, 满分, 每低于 …
        result.ind_text = _formatted(result.ind_text, "zh")
    shown = "en" if getattr(args, "lang", None) == "en" else "zh"  # the table is Chinese
    for d in table.problems:
        print(d.render(shown), file=sys.stderr)
    write_atomic(output, result.ind_text.encode("utf-8"))
    write_atomic(facts, result.facts_text.encode("utf-8"))
    leaves = len(table.leaves())
    print(f"已写出 {output}：{leaves} 个末级指标，{result.drafted} 条规则待审核，"
          f"{result.stubs} 个指标待编写", file=sys.stderr)
    published = sum(1 for n in table.walk() if n.published is not None)
    print(f"已写出 {facts}：{published} 个评分表得分（published），{result.facts} 项数据待填写",
          file=sys.stderr)
    print(f"下一步：核对草稿后运行 indicator-eval check {output}", file=sys.stderr)
    return 0


def _refuse_existing(path: Path, source: Path) -> None:
    if path.exists():
        same = False
        try:
            same = path.resolve() == source.resolve()
        except OSError:
            pass
        what = "评分表本身" if same else "已有文件"
        raise FileAccessError(Diagnostic(
            ERROR, f"不会覆盖{what} {path}", file=str(path),
            hint="用 -o/--facts 指定另一个文件名，或先移走这个文件"))
    if not path.parent.exists() and str(path.parent) not in ("", "."):
        raise FileAccessError(Diagnostic(ERROR, f"文件夹 {path.parent} 不存在", file=str(path),
                                         hint="请先建立该文件夹"))
