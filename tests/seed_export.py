"""The seeds' plain-text exports → real Word documents, for the importer's tests.

A seed (tests/golden/seeds/*.txt, copied from the domain's seed reports) is the text
export of a Word report: paragraphs as lines, and tables as blocks of cells — each
cell a line starting with a tab (further lines of the cell follow without one), each
row ended by a blank line.
A cell of a vertically merged group comes out empty on every row after the first.

:func:`read_export` reads that back into paragraphs and tables;
:func:`build_docx` lays them out again as a Word document with python-docx, the
score table's group cells merged down over their leaves (``vMerge``) and a leaf
that stops above the last level merged across the empty level cells
(``gridSpan``), as Word draws such tables. Nothing here knows a seed's content.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import attrs

SEEDS = Path(__file__).parent / "golden" / "seeds"
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


@attrs.define
class Paragraph:
    text: str
    line: int


@attrs.define
class Table:
    rows: List[List[str]]
    line: int  # the export's line where the table starts

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


Block = Union[Paragraph, Table]


def read_export(path: Path) -> List[Block]:
    blocks: List[Block] = []
    table: Optional[Table] = None
    row: Optional[List[str]] = None
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, raw in enumerate(lines, start=1):
        line = _BOOKMARK.sub("", raw)
        if raw.startswith("\t"):
            if table is None:
                table = Table([], number)
                blocks.append(table)
            if row is None:
                row = []
                table.rows.append(row)
            row.append(line[1:].strip())
        elif not line.strip():
            row = None  # a blank line ends the row (and, twice, the table)
        elif row is not None:
            row[-1] = (row[-1] + "\n" + line.strip()).strip()  # the cell goes on
        else:
            table = None
            blocks.append(Paragraph(line.strip(), number))
    return blocks


def is_score_table(table: Table) -> bool:
    head = "".join(table.rows[0]) if table.rows else ""
    return "一级指标" in head and "评分标准" in head


def level_columns(table: Table) -> int:
    return sum(1 for cell in table.rows[0] if re.search(r"[一二三四五六]级指标", cell))


def score_table_merges(table: Table) -> List[Tuple[int, int, int, int]]:
    """The merges Word has for a score table exported as ``table``: (top, left, bottom,
    right) in cell positions. In the level columns, an empty cell left of the row's
    indicator continues the group above it; empty cells right of it belong to it."""
    levels = level_columns(table)
    merges = []
    body = range(1, len(table.rows))
    for r in body:
        row = table.rows[r]
        if row and re.sub(r"\s", "", row[0]) in ("合计", "总计"):
            continue
        filled = [c for c in range(levels) if c < len(row) and row[c]]
        if not filled:
            continue
        deepest = filled[-1]
        if deepest < levels - 1:
            merges.append((r, deepest, r, levels - 1))
    for c in range(levels):
        top = None
        for r in list(body) + [len(table.rows)]:
            row = table.rows[r] if r < len(table.rows) else None
            continues = row is not None and c < len(row) and not row[c] and \
                any(row[k] for k in range(c + 1, min(levels, len(row)))) and \
                re.sub(r"\s", "", row[0]) not in ("合计", "总计")
            if continues and top is not None:
                continue
            if top is not None and r - 1 > top:
                merges.append((top, c, r - 1, c))
            top = r if row is not None and c < len(row) and row[c] else None
    return merges


def build_docx(blocks: Sequence[Block], title: Optional[str] = None, merge: bool = True) -> bytes:
    """A Word document holding the blocks in order; score tables with Word's merges
    (``merge=False``: their group cells left empty below the first row instead, as some
    tables are drawn)."""
    from docx import Document

    doc = Document()
    if title:
        doc.add_heading(title, level=0)
    for block in blocks:
        if isinstance(block, Paragraph):
            doc.add_paragraph(block.text)
            continue
        width = block.width
        table = doc.add_table(rows=len(block.rows), cols=width)
        table.style = "Table Grid"
        grid = [list(row.cells) for row in table.rows]
        for r, row in enumerate(block.rows):
            for c, text in enumerate(row):
                if not text:
                    continue
                paragraphs = text.split("\n")
                cell = grid[r][c]
                cell.paragraphs[0].add_run(paragraphs[0])
                for more in paragraphs[1:]:
                    cell.add_paragraph(more)
        if merge and is_score_table(block):
            for top, left, bottom, right in score_table_merges(block):
                grid[top][left].merge(grid[bottom][right])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def seed_path(number: int) -> Path:
    return next(SEEDS.glob(f"{number:03d}_*.txt"))


def split_table(blocks: Sequence[Block], at: int) -> List[Block]:
    """The blocks with the score table broken into two Word tables at row ``at`` (a table
    continued on the next page), the second without a header."""
    out: List[Block] = []
    for block in blocks:
        if isinstance(block, Table) and is_score_table(block):
            out.append(Table(block.rows[:at], block.line))
            out.append(Table(block.rows[at:], block.line + at))
        else:
            out.append(block)
    return out
