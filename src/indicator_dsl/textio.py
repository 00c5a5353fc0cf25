"""Reading users' text files: UTF-8 (with or without a BOM), and a precise message for
the GBK files that WPS, Excel and Notepad write on Chinese Windows."""

from __future__ import annotations

from typing import Type

from .errors import ERROR, Diagnostic, IndicatorError


def decode_utf8(data: bytes, path: str, error: Type[IndicatorError], what: str) -> str:
    """``data`` as text; a file in another encoding raises ``error`` naming the line and,
    for GBK, the encoding and how to convert it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        # in characters: the line up to the bad byte is valid UTF-8 (the decoder got there)
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1: exc.start]
                     .decode("utf-8", "replace")) + 1
        gbk = _as_gbk(data)
        if gbk is not None:
            shown = gbk.splitlines()[line - 1] if line <= len(gbk.splitlines()) else None
            raise error(Diagnostic(
                ERROR, f"the {what} is GBK-encoded, not UTF-8", file=path, line=line,
                column=column, source_line=shown,
                hint="save it as UTF-8 (WPS or Notepad: 另存为 → 编码 UTF-8), or convert it: "
                     f"iconv -f GBK -t UTF-8 {path} > utf8-{path.rsplit('/', 1)[-1]}",
                message_cn=f"{what_cn(what)}是 GBK 编码，不是 UTF-8",
                hint_cn="请另存为 UTF-8 编码（WPS 或记事本：另存为 → 编码选 UTF-8），或用命令转换："
                        f"`iconv -f GBK -t UTF-8 {path} > utf8-{path.rsplit('/', 1)[-1]}`")) \
                from None
        raise error(Diagnostic(ERROR, f"the {what} is not UTF-8 text (byte {exc.start})",
                               file=path, line=line, column=column,
                               hint="save it as UTF-8 text",
                               message_cn=f"{what_cn(what)}不是 UTF-8 文本",
                               hint_cn="请另存为 UTF-8 编码")) from None


def what_cn(what: str) -> str:
    return {"facts file": "数据文件", "rule file": "规则文件"}.get(what, "文件")


def _as_gbk(data: bytes):
    """The text if ``data`` reads as GB18030 with Chinese in it, else None."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    return None
