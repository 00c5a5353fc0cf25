"""One hierarchy for every problem indicator-dsl reports.

A :class:`Diagnostic` is one problem at one place: severity, message, the file,
line and column, the source line with a caret under the column, and a hint that
says how to fix it. An :class:`IndicatorError` carries one or more diagnostics, so
a file's problems are reported together rather than one per run.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

import attrs

from .nodes import Span

ERROR = "error"
WARNING = "warning"


@attrs.frozen
class Diagnostic:
    severity: str
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    source_line: Optional[str] = None
    hint: Optional[str] = None
    code: Optional[str] = None  # a stable name for the kind of problem, e.g. "weights"
    end_column: Optional[int] = None
    # The same problem worded in Chinese: what render("zh"), reports, the web app and the
    # language server show Chinese readers.
    message_cn: Optional[str] = None
    hint_cn: Optional[str] = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    def render(self, lang: str = "en") -> str:
        """The message as a user reads it in a terminal: in English, or with ``lang="zh"``
        in Chinese (the English wording stands in where a message has no Chinese one)."""
        head = f"{self.location}: " if self.location else ""
        if lang == "zh":
            severity = "错误" if self.is_error else "警告"
            out = [f"{head}{severity}：{self.message_cn or self.message}"]
            # A Chinese message without a Chinese hint stands alone (as in reports).
            hint = self.hint_cn if self.message_cn else self.hint
        else:
            out = [f"{head}{self.severity}: {self.message}"]
            hint = self.hint
        if self.source_line is not None and self.column is not None:
            text = self.source_line.rstrip("\n")
            out.append(f"    {text}")
            width = 1
            if self.end_column and self.end_column > self.column:
                width = self.end_column - self.column
            out.append("    " + _caret_indent(text, self.column - 1) + "^" * min(width, 80))
        if hint:
            out.append(f"  提示：{hint}" if lang == "zh" else f"  hint: {hint}")
        return "\n".join(out)

    def as_dict(self) -> dict:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


def _caret_indent(text: str, offset: int) -> str:
    """Spaces that line a caret up under ``text[offset]``.

    Tabs are kept, and wide (CJK) characters count twice so the caret lands
    under the right character in a terminal.
    """
    out = []
    for ch in text[:offset]:
        if ch == "\t":
            out.append("\t")
        elif _is_wide(ch):
            out.append("  ")
        else:
            out.append(" ")
    return "".join(out)


def _is_wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


class Bilingual(str):
    """A text in English that carries its Chinese wording as ``.cn``: for notes that are
    stored as plain strings (where an extended set's indicator comes from) but shown
    in Chinese to Chinese readers."""

    cn: str

    def __new__(cls, english: str, cn: str):
        text = super().__new__(cls, english)
        text.cn = cn
        return text

    def __reduce__(self):  # pickled (to worker processes, Dask) with its Chinese
        return Bilingual, (str(self), self.cn)


def cn_of(text) -> str:
    """The Chinese wording of a :class:`Bilingual` text; other texts as they are."""
    return getattr(text, "cn", text)


class SourceText:
    """A file's text with line look-up, to attach source lines to diagnostics."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.lines = text.splitlines()

    def line(self, number: int) -> Optional[str]:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return None

    def diagnostic(self, severity: str, message: str, span: Optional[Span], hint: str = None,
                   code: str = None, message_cn: str = None, hint_cn: str = None) -> Diagnostic:
        if span is None:
            return Diagnostic(severity, message, file=self.path, hint=hint, code=code,
                              message_cn=message_cn, hint_cn=hint_cn)
        end_column = span.end_column if span.end_line == span.line else None
        return Diagnostic(severity, message, file=span.file or self.path, line=span.line,
                          column=span.column, source_line=self.line(span.line), hint=hint,
                          code=code, end_column=end_column, message_cn=message_cn,
                          hint_cn=hint_cn)


class IndicatorError(Exception):
    """Base of every error indicator-dsl raises. Holds one or more diagnostics."""

    exit_code = 1

    def __init__(self, diagnostics: Sequence[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(ERROR, diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: List[Diagnostic] = list(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def render(self, lang: str = "en") -> str:
        return "\n".join(d.render(lang) for d in self.diagnostics)


class SetError(IndicatorError):
    """A ``.ind`` file cannot be used: syntax errors or failed static checks."""

    exit_code = 3


class FactsError(IndicatorError):
    """A facts file cannot be read or does not fit the set's declarations."""

    exit_code = 4


class EvaluationError(IndicatorError):
    """An indicator could not be scored (a missing fact, division by zero …)."""

    exit_code = 1


class FileAccessError(IndicatorError):
    """A file cannot be read or written."""

    exit_code = 5


def did_you_mean(name: str, candidates: Iterable[str]) -> Optional[str]:
    """The closest candidate to ``name``, or None when nothing is close."""
    import difflib

    pool = sorted(set(candidates))
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())
