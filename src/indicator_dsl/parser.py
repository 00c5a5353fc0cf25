"""Source text → AST (:mod:`indicator_dsl.nodes`).

The lark parser is built once per process (LALR, positions on) and cached.
Syntax errors do not stop at the first: the offending line is set aside and
the file parsed again, so every syntax error of a file is reported in one run.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import List, Optional, Tuple

import attrs
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.visitors import Transformer_NonRecursive, v_args

from . import keywords as _keywords
from . import nodes as n
from .errors import ERROR, Diagnostic, FileAccessError, SetError, SourceText

MAX_FILE_BYTES = 5_000_000
MAX_SYNTAX_ERRORS = 50
MAX_NESTING = 64

# Tokens after which a newline does not end the statement.
_CONTINUATION = {
    "_SEMICOLON", "_COMMA", "ARROW", "_COLON", "_EQUAL", "COMP_OP", "ADD_OP", "MUL_OP",
    "_OF", "AND", "OR", "NOT", "IN", "_LPAR", "_LSQB", "_LBRACE",
    "_CN_AND", "_CN_OR", "_CN_NOT", "_CN_IN", "CN_SIGN", "CN_SHARE", "CN_STEP", "_CN_THAN",
}
# Terminals whose own patterns hold both spellings (bonus/加分项, na/不适用 …).
_BILINGUAL = {"BONUS", "NA", "FLAG_OVER", "PROPERTY", "DECIMALS"}
_ENGLISH_KEYWORDS = frozenset(
    {k.english for k in _keywords.KEYWORDS if " " not in k.english} |
    {"per", "pro", "rata", "whole", "started", "deduct", "at", "most", "around", "published",
     "require", "after", "before", "when", "share", "equally", "rescale", "bonus", "na"})
_OPENERS = {"_LPAR", "_LSQB"}
_CLOSERS = {"_RPAR", "_RSQB"}


def grammar_text() -> str:
    """The grammar, read from the installed package or from the source tree."""
    try:
        from importlib.resources import files

        resource = files("indicator_dsl").joinpath("grammars/indicator.lark")
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover
        pass
    source_tree = Path(__file__).resolve().parents[2] / "grammars" / "indicator.lark"
    return source_tree.read_text(encoding="utf-8")


class _NewlinePostLexer:
    """Turns raw newlines into statement ends, the way a reader sees them."""

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.previous: Optional[Token] = None
        self.joined: Optional[Token] = None  # the token a swallowed newline followed
        self.depth_exceeded: Optional[Token] = None
        self.keywords = [0, 0]  # English and Chinese keywords seen: the file's spelling

    @property
    def spelling(self) -> str:
        english, chinese = self.keywords
        return "zh" if chinese > english else "en"

    def process(self, stream):
        previous = None
        depth = 0
        self.previous = None
        self.joined = None
        self.keywords = [0, 0]
        for token in stream:
            if token.type.startswith(("_CN_", "CN_")) or (
                    token.type in _BILINGUAL and not token.value.isascii()):
                self.keywords[1] += 1
            elif token.type != "NAME" and token.value in _ENGLISH_KEYWORDS:
                self.keywords[0] += 1
            if token.type == "_NL":
                if previous is not None and previous.type in _CONTINUATION \
                        and previous.type not in ("_SEMICOLON", "_COMMA", "_LBRACE"):
                    self.joined = previous
                if depth > 0 or previous is None or previous.type in _CONTINUATION \
                        or previous.type == "_NL":
                    continue
                self.joined = None
            elif token.type == "_RBRACE" and previous is not None and previous.type != "_NL":
                newline = Token.new_borrow_pos("_NL", "\n", token)
                self.previous = previous = newline
                yield newline
            if token.type in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    self.depth_exceeded = token
                    raise UnexpectedToken(token, {"_RPAR"})
            elif token.type in _CLOSERS:
                depth = max(0, depth - 1)
            self.previous = previous = token
            yield token
        if previous is not None and previous.type != "_NL":
            yield Token("_NL", "\n", line=getattr(previous, "end_line", 1),
                        column=getattr(previous, "end_column", 1))


def _cache_path() -> Optional[str]:
    """Where the built parser tables are kept between runs (the user's own cache folder).

    Building the LALR tables takes a good part of a cold start; lark keys the cache
    by the grammar's hash and its own version, so a changed grammar is rebuilt."""
    if os.environ.get("INDICATOR_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "indicator-dsl")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, "grammar.lark-cache") if os.access(folder, os.W_OK) else None


@functools.lru_cache(maxsize=1)
def _lark() -> Tuple[Lark, _NewlinePostLexer]:
    postlex = _NewlinePostLexer()
    options = dict(parser="lalr", lexer="contextual", postlex=postlex,
                   propagate_positions=True, maybe_placeholders=True)
    cache = _cache_path()
    if cache is not None:
        try:
            parser = Lark(grammar_text(), cache=cache, **options)
            return parser, parser.options.postlex
        except Exception:  # an unreadable or stale cache is only a lost speed-up
            pass
    return Lark(grammar_text(), **options), postlex


# --------------------------------------------------------------------- public


def read_source(path: str | Path) -> str:
    """Read a ``.ind`` file as UTF-8, refusing binary or oversized input."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileAccessError(Diagnostic(ERROR, "file not found", file=str(path),
                                         hint="check the path", message_cn="文件不存在",
                                         hint_cn="请检查路径")) from None
    except IsADirectoryError:
        raise FileAccessError(Diagnostic(ERROR, "is a directory, not a .ind file",
                                         file=str(path),
                                         message_cn="这是一个文件夹，不是 .ind 文件")) from None
    except OSError as exc:
        raise FileAccessError(Diagnostic(ERROR, f"cannot read the file: {exc.strerror}",
                                         file=str(path),
                                         message_cn=f"无法读取文件：{exc.strerror}")) from None
    return decode_source(data, str(path))


def decode_source(data: bytes, path: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise SetError(Diagnostic(ERROR, f"file is {len(data)} bytes; the limit is "
                                  f"{MAX_FILE_BYTES}", file=path,
                                  hint="a rule file is text; is this the right file?",
                                  message_cn=f"文件有 {len(data)} 字节，超过上限 {MAX_FILE_BYTES}",
                                  hint_cn="规则文件是文本文件；是不是选错了文件？"))
    if b"\x00" in data:
        raise SetError(Diagnostic(ERROR, "file contains NUL bytes; it is not a text file",
                                  file=path, hint="a .ind file is UTF-8 text",
                                  message_cn="文件中有 NUL 字节，不是文本文件",
                                  hint_cn=".ind 文件应是 UTF-8 文本"))
    from .textio import decode_utf8

    return decode_utf8(data, path, SetError, "rule file")


def parse_file(path: str | Path) -> n.SetFile:
    return parse(read_source(path), str(path))


def parse(text: str, path: str = "<string>") -> n.SetFile:
    """Parse a whole file. Raises :class:`SetError` listing every syntax error."""
    tree, diagnostics = parse_recovering(text, path)
    if diagnostics:
        raise SetError(diagnostics)
    return tree


def parse_recovering(text: str, path: str = "<string>"):
    """(tree, syntax diagnostics). With errors, the tree is built from the lines that
    parsed (None if nothing could be recovered), so later checks can still run on them."""
    if "\x00" in text:
        raise SetError(Diagnostic(ERROR, "text contains NUL characters", file=path,
                                  message_cn="文本中有 NUL 字符"))
    source = SourceText(path, text)
    lines = text.split("\n")
    diagnostics: List[Diagnostic] = []
    set_aside: set = set()
    parser, postlex = _lark()
    tree = None
    with _PARSING:  # the shared post-lexer keeps per-parse state for error messages
        return _parse_lines(parser, postlex, source, lines, diagnostics, set_aside, path)


_PARSING = threading.Lock()


def _parse_lines(parser, postlex, source, lines, diagnostics, set_aside, path):
    tree = None
    repaired: set = set()
    while True:
        try:
            tree = parser.parse("\n".join(lines))
            break
        except UnexpectedInput as exc:
            missing = _missing_semicolon(exc, lines, repaired, path)
            if missing is not None:
                # Read the clause as the author meant it, so the rule is checked whole.
                diagnostic, number, text = missing
                diagnostics.append(diagnostic)
                lines[number - 1] = text
                repaired.add(number)
                if len(diagnostics) >= MAX_SYNTAX_ERRORS:
                    break
                continue
            diagnostic, bad_lines = _describe(exc, postlex, source, lines)
            if not (set(bad_lines) & set_aside and _near_set_aside(bad_lines, set_aside)):
                diagnostics.append(diagnostic)
            progress = False
            for number in bad_lines:
                if number not in set_aside and 1 <= number <= len(lines):
                    lines[number - 1] = _stand_in(lines[number - 1])
                    set_aside.add(number)
                    progress = True
            if not progress or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                break
    if tree is None:
        return None, diagnostics
    try:
        built = _Builder(path, source, postlex.spelling).build(tree)
    except _BuildError as exc:
        return None, diagnostics + exc.diagnostics
    if set_aside:
        built = attrs.evolve(built, dropped_lines=tuple(sorted(set_aside)))
    return built, diagnostics


# A line that can only be a clause of a rule, never a statement of its own.
_CLAUSE_START = re.compile(r"^\s*(else|per|pro\s+rata|each|floor|cap|deduct\s+at\s+most|flag|"
                           r"expect)\b|->|→")
# A line that starts a statement of its own (an indicator, a declaration, a block item).
_STATEMENT = re.compile(r'^\s*([^\s"]+\s+("[^"]*"\s+)?weight\b|(set|region|year|source|total|'
                        r'grades|round|fact|let|rule|import|from|extends|override|remove|under|'
                        r'explain|standard|note|score|point|when)\b|[{}])')
# A line ending that already continues the statement on the next line.
_CONTINUES = re.compile(r"(;|,|->|→|:|=|\+|-|\*|/|\(|\[|\{|\band|\bor|\bnot|\bof|\bin)\s*$")


def _missing_semicolon(exc, lines, repaired, path):
    """(diagnostic, line, repaired text) when the error is a clause on a line of its own
    after a rule line that does not end with ';' — the commonest slip in a long rule."""
    if not isinstance(exc, UnexpectedToken) or exc.token.type == "$END":
        return None
    line = exc.token.line
    if not 2 <= line <= len(lines):
        return None
    here = _code_part(lines[line - 1])
    if not here.strip() or _STATEMENT.match(here) or not _CLAUSE_START.search(here):
        return None
    previous = line - 1
    while previous >= 1 and not _code_part(lines[previous - 1]).strip():
        previous -= 1
    if previous < 1 or previous in repaired:
        return None
    before = _code_part(lines[previous - 1])
    if _CONTINUES.search(before) or ("->" not in before and "→" not in before
                                      and ":" not in before):
        return None
    end = len(before.rstrip())
    text = lines[previous - 1]
    diagnostic = Diagnostic(
        ERROR, f"line {line} continues the rule above, but line {previous} does not end "
               "with ';'", file=path, line=previous, column=end + 1,
        source_line=text, hint=f"end line {previous} with ';': a rule goes on to the next "
                               "line only after ';' (or an operator)", code="syntax",
        message_cn=f"第{line}行是上面规则的一部分，但第{previous}行末尾缺少“;”",
        hint_cn=f"请在第{previous}行末尾加上“;”：规则只有在“;”（或运算符）之后才能换行接续")
    return diagnostic, previous, text[:end] + ";" + text[end:]


def _code_part(line: str) -> str:
    """A line without its comment (quotes respected)."""
    return _STRINGS_AND_COMMENTS.sub(lambda m: m.group(0) if m.group(0).startswith('"')
                                     else "", line)


# ------------------------------------------------------------ error handling

_TERMINAL_NAMES_CN = {
    "NAME": "名称", "NUMBER": "数字", "PERCENT": "百分数", "STRING": "带双引号的文字",
    "_NL": "行尾", "$END": "文件末尾", "ARROW": "“->”", "COMP_OP": "比较符（>=、<、== …）",
    "ADD_OP": "“+”或“-”", "MUL_OP": "“*”或“/”", "_SEMICOLON": "“;”", "_COMMA": "“,”",
    "_COLON": "“:”", "_LPAR": "“(”", "_RPAR": "“)”", "_LSQB": "“[”", "_RSQB": "“]”",
    "_LBRACE": "“{”", "_RBRACE": "“}”", "_EQUAL": "“=”", "DIRECTION": "“每低于”“每高于”等",
    "_OF": "“的”", "AND": "“且”", "OR": "“或”", "IN": "“在”", "NOT": "“非”",
    "PLACE_AFTER": "“排在 … 之后”", "PLACE_BEFORE": "“排在 … 之前”",
}

_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "PERCENT": "a percentage", "STRING": "a quoted text",
    "_NL": "the end of the line", "$END": "the end of the file", "ARROW": "'->'",
    "COMP_OP": "a comparison (>=, <, == …)", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "_SEMICOLON": "';'", "_COMMA": "','", "_COLON": "':'", "_LPAR": "'('", "_RPAR": "')'",
    "_LSQB": "'['", "_RSQB": "']'", "_LBRACE": "'{'", "_RBRACE": "'}'", "_EQUAL": "'='",
    "DIRECTION": "below, above, off or around", "_OF": "'of'", "AND": "'and'", "OR": "'or'",
    "IN": "'in'", "NOT": "'not'", "PLACE_AFTER": "'after'", "PLACE_BEFORE": "'before'",
}

_FULL_WIDTH = {"；": ";", "，": ",", "（": "(", "）": ")", "：": ":", "“": '"', "”": '"',
               "【": "[", "】": "]", "＝": "=", "－": "-", "＋": "+", "％": "%", "＞": ">",
               "＜": "<", "。": "", "　": " "}


_FIRST = ["_RBRACE", "ARROW", "_SEMICOLON", "_RPAR", "_RSQB", "_COLON", "_NL", "NUMBER", "NAME",
          "STRING", "WEIGHT", "COMP_OP"]


def _human_expected(expected, lang: str = "en") -> str:
    """What the parser would have accepted, in words: English, or Chinese (keywords in
    their Chinese spelling)."""
    terms = [t for t in expected if t not in ("RECOVER", "$END") and not t.startswith("__")]
    terms.sort(key=lambda t: (_FIRST.index(t) if t in _FIRST else len(_FIRST), t))
    known = _TERMINAL_NAMES_CN if lang == "zh" else _TERMINAL_NAMES
    names = []
    for term in terms:
        if term in known:
            name = known[term]
        elif term.isupper() and not term.startswith(("_", "CN_")):
            name = f"“{_chinese_keyword(term.lower())}”" if lang == "zh" else f"'{term.lower()}'"
        else:
            continue
        if name not in names:
            names.append(name)
    if not names:
        return "其他内容" if lang == "zh" else "something else"
    if len(names) > 10:
        names = names[:10] + ["…"]
    return ("、" if lang == "zh" else ", ").join(names)


def _chinese_keyword(english: str) -> str:
    keyword = _keywords.by_english().get(english)
    return keyword.chinese[0] if keyword is not None and keyword.chinese else english


def _describe(exc: UnexpectedInput, postlex: _NewlinePostLexer, source: SourceText,
              lines: List[str]) -> Tuple[Diagnostic, List[int]]:
    path = source.path
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if line == -1:
        line = len(lines)
    hint = hint_cn = None
    if postlex.depth_exceeded is not None:
        token = postlex.depth_exceeded
        postlex.depth_exceeded = None
        d = source.diagnostic(ERROR, f"brackets nested more than {MAX_NESTING} deep", _tok_span(
            token, path), hint="split the expression with `let` names",
            message_cn=f"括号嵌套超过 {MAX_NESTING} 层",
            hint_cn="请用 `设` 给一部分算式命名，把算式拆开")
        return d, [token.line]
    if isinstance(exc, UnexpectedCharacters):
        ch = source.line(line)[column - 1] if source.line(line) and column <= len(
            source.line(line)) else "?"
        message = f"unexpected character {ch!r}"
        message_cn = f"不能识别的字符“{ch}”"
        if ch in _FULL_WIDTH:
            hint = f"use the ASCII {_FULL_WIDTH[ch]!r} instead of the full-width {ch!r}" \
                if _FULL_WIDTH[ch] else "remove the full stop"
            hint_cn = f"请把全角的“{ch}”改为半角的“{_FULL_WIDTH[ch]}”" \
                if _FULL_WIDTH[ch].strip() else \
                "请把全角空格改为半角空格" if _FULL_WIDTH[ch] else "请删去句号"
        elif ch in "「」『』‘’'":
            hint = 'write texts in straight double quotes: "…"'
            hint_cn = '文字请用英文直双引号括起来："…"'
        elif ch == "%":
            hint = "a percentage is written right after its number, e.g. 5%"
            hint_cn = "百分号紧跟在数字后面，如 5%"
        elif ch == "=":
            hint = "compare with == ; = only names a value in `let x = …`"
            hint_cn = "比较请用 ==；= 只用于 `设 x = …` 给中间值命名"
        return Diagnostic(ERROR, message, file=path, line=line, column=column,
                          source_line=source.line(line), hint=hint, code="syntax",
                          message_cn=message_cn, hint_cn=hint_cn), [line]
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        accepts = exc.accepts or exc.expected
        expected = _human_expected(accepts)
        expected_cn = _human_expected(accepts, "zh")
        previous = postlex.previous
        if token.type == "$END":
            message = f"the file ends too early; expected {expected}"
            message_cn = f"文件提前结束了；此处应为：{expected_cn}"
            hint = "is a '}' missing?" if "'}'" in expected else None
            hint_cn = "是不是少了“}”？" if hint else None
            last = max((i + 1 for i, text in enumerate(lines) if text.strip()), default=1)
            end_col = len(source.line(last) or "") + 1
            return Diagnostic(ERROR, message, file=path, line=last, column=end_col,
                              source_line=source.line(last), hint=hint, code="syntax",
                              message_cn=message_cn, hint_cn=hint_cn), []
        if token.type == "_NL":
            message = f"the line ends too early; expected {expected}"
            message_cn = f"这一行提前结束了；此处应为：{expected_cn}"
            at_line = token.line
            at_col = token.column
        else:
            shown = token.value if len(token.value) <= 30 else token.value[:30] + "…"
            message = f"unexpected {shown!r}; expected {expected}"
            message_cn = f"这里不应出现“{shown}”；此处应为：{expected_cn}"
            at_line, at_col = token.line, token.column
        hint, hint_cn = _hint_for(token, exc, previous)
        bad = [at_line]
        joined = postlex.joined
        if joined is not None and joined.line < at_line and not (
                previous is not None and previous.type in _CONTINUATION
                and previous.line < at_line):
            # A line ended in an operator, so the next line was read as its continuation.
            message = (f"the line ends with {joined.value!r}, so the next line was read as "
                       f"its continuation; then came {token.value!r}")
            hint = (f"finish the expression after {joined.value!r}, or remove it")
            message_cn = (f"这一行以“{joined.value}”结尾，所以下一行被当作它的接续；"
                          f"接着却是“{token.value}”")
            hint_cn = f"请写完“{joined.value}”后面的内容，或删去“{joined.value}”"
            return Diagnostic(ERROR, message, file=path, line=joined.line, column=joined.column,
                              source_line=source.line(joined.line), hint=hint,
                              code="syntax", message_cn=message_cn,
                              hint_cn=hint_cn), list(range(joined.line, token.line + 1))
        if previous is not None and previous.type in _CONTINUATION and previous.line < at_line:
            # The statement before ran on into this line: it is the broken one.
            message = (f"the statement ends after {previous.value!r}; expected "
                       f"{_human_expected(_after(previous))}")
            message_cn = (f"语句在“{previous.value}”之后就结束了；此处应为："
                          f"{_human_expected(_after(previous), 'zh')}")
            at_line, at_col = previous.line, previous.column
            bad = list(range(previous.line, token.line + 1))
        return Diagnostic(ERROR, message, file=path, line=at_line, column=at_col,
                          source_line=source.line(at_line), hint=hint, code="syntax",
                          end_column=at_col + max(1, len(token.value))
                          if token.type != "_NL" else None,
                          message_cn=message_cn, hint_cn=hint_cn), bad
    return Diagnostic(ERROR, str(exc).splitlines()[0], file=path, line=line, column=column,
                      source_line=source.line(line), code="syntax",
                      message_cn="语法错误"), [line]


def _after(token: Token) -> set:
    if token.type in ("_SEMICOLON", "_COLON"):
        return {"NAME"} | {"ARROW"} if False else {"NAME", "NUMBER"}
    return {"NAME", "NUMBER", "PERCENT"}


def _hint_for(token: Token, exc: UnexpectedToken,
              previous: Optional[Token]) -> Tuple[Optional[str], Optional[str]]:
    """(hint, Chinese hint) for an unexpected token."""
    expected = exc.accepts or exc.expected
    value = token.value
    if "WEIGHT" in expected and token.type in ("NAME", "NUMBER", "_COLON"):
        return ('an indicator is written: CODE "名称" weight N: rule   (or { … } for a block)',
                '指标的写法：编码 "名称" 权重 N: 规则   （或用 { … } 写成指标块）')
    if token.type == "_EQUAL" or value == "=":
        return ("compare with == ; `=` only names a value in `let x = …`",
                "比较请用 ==；`=` 只用于 `设 x = …` 给中间值命名")
    if "ARROW" in expected and token.type in ("_SEMICOLON", "_NL"):
        return ("a clause is `condition -> score`; `else -> score` ends a chain",
                "条款的写法是 `条件 -> 得分`；最后可用 `否则 -> 得分` 收尾")
    from .formatter import KEYWORDS

    if value in KEYWORDS and token.type != "NAME":
        return (f"{value!r} is a keyword and cannot be used as a name",
                f"“{value}”是关键字，不能用作名称")
    if previous is not None and previous.value in KEYWORDS and previous.type != "NAME" \
            and token.type in ("COMP_OP", "ADD_OP", "MUL_OP", "ARROW"):
        return (f"{previous.value!r} is a keyword and cannot be used as a name; rename the fact",
                f"“{previous.value}”是关键字，不能用作名称；请给这个数据换个名称")
    if token.type == "NAME" and previous is not None and previous.type in ("NUMBER", "PERCENT"):
        return ("is an operator (*, +, -, /, of) or a ';' missing between clauses?",
                "是不是少了运算符（*、+、-、/、的），或条款之间少了“;”？")
    if token.type == "STRING" and "NAME" in expected:
        return ("names are written without quotes; quotes are for texts and levels",
                "名称不加引号；引号只用于文字和选项")
    return None, None


def _near_set_aside(bad_lines, set_aside) -> bool:
    return any(number in set_aside or number - 1 in set_aside for number in bad_lines)


_STRINGS_AND_COMMENTS = re.compile(r'"([^"\\\n]|\\.)*"|#[^\n]*')


def _stand_in(line: str) -> str:
    """A line with the same effect on braces and nothing else, so parsing can go on."""
    bare = _STRINGS_AND_COMMENTS.sub("", line)
    opened = bare.count("{") - bare.count("}")
    if opened > 0:
        return "\x00 " + "{" * 1 + " " + "\x00 {" * (opened - 1)
    if opened < 0:
        return "}" * (-opened)
    return ""


# ------------------------------------------------------------------ AST build


class _BuildError(Exception):
    def __init__(self, diagnostics):
        self.diagnostics = diagnostics


def _tok_span(token: Token, path: str) -> n.Span:
    return n.Span(path, token.line, token.column, token.end_line or token.line,
                  token.end_column or token.column, token.start_pos or 0, token.end_pos or 0)


def _number(text: str) -> Decimal:
    text = text.rstrip("分")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the lexer admits only digits
        raise ValueError(text)


def _percent(text: str) -> Decimal:
    """5% / 5％ / 5个百分点 → 0.05, exactly."""
    for suffix in ("个百分点", "%", "％"):
        if text.endswith(suffix):
            return _number(text[: -len(suffix)]) / 100
    raise ValueError(text)  # pragma: no cover - the lexer admits only these


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def _unquote(token: Token) -> str:
    body = token.value[1:-1]
    return re.sub(r'\\(["\\nt])', lambda m: _ESCAPES[m.group(1)], body)


class _Builder(Transformer_NonRecursive):
    """lark tree → nodes. Checks that need only one statement happen here."""

    def __init__(self, path: str, source: SourceText, spelling: str = "en"):
        super().__init__()
        self.path = path
        self.spelling = spelling
        self.source_text = source
        self.problems: List[Diagnostic] = []

    def build(self, tree: Tree) -> n.SetFile:
        result = self.transform(tree)
        if self.problems:
            raise _BuildError(self.problems)
        return result

    def _span(self, meta) -> Optional[n.Span]:
        if getattr(meta, "empty", True) and not hasattr(meta, "line"):
            return None
        return n.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column,
                      meta.start_pos, meta.end_pos)

    def _reserved(self, token: Token, what: str) -> None:
        words = STATEMENT_WORDS | EXPRESSION_WORDS if what == "an indicator" \
            else EXPRESSION_WORDS
        if token.value in words:
            self._problem(f"{token.value!r} is a reserved word and cannot name {what}",
                          _tok_span(token, self.path), "choose another name, e.g. "
                          f"{token.value}_value",
                          cn=f"“{token.value}”是保留字，不能用作{_WHAT_CN.get(what, what)}的名称",
                          hint_cn=f"请换一个名称，如 `{token.value}值`")

    def _problem(self, message, span, hint=None, *, cn=None, hint_cn=None):
        self.problems.append(self.source_text.diagnostic(ERROR, message, span, hint,
                                                         code="syntax", message_cn=cn,
                                                         hint_cn=hint_cn))

    # --- file
    @v_args(meta=True)
    def start(self, meta, items):
        header = {}
        header_spans = {}
        facts, lets, defs, indicators, grades_seen, requires = [], [], [], [], False, []
        rounding, imports, edits, extends = [], [], [], []
        for item in items:
            if item is None:
                continue
            kind = item[0] if isinstance(item, tuple) else None
            if kind == "header":
                _, key, value, span = item
                if key in header and key != "rounding":
                    self._problem(f"`{key}` is given twice", span,
                                  "a set has one header of each kind",
                                  cn=f"`{_HEADER_CN.get(key, key)}` 写了两次",
                                  hint_cn="每种表头只能写一次")
                    continue
                header[key] = value
                header_spans[key] = span
            elif kind == "rounding":
                rounding.append(item[1])
                header_spans.setdefault("rounding", item[1].span)
            elif isinstance(item, n.FactDecl):
                facts.append(item)
            elif isinstance(item, n.Let):
                lets.append(item)
            elif isinstance(item, n.RuleDef):
                defs.append(item)
            elif isinstance(item, n.Require):
                requires.append(item)
            elif isinstance(item, n.Indicator):
                indicators.append(item)
            elif isinstance(item, n.Import):
                imports.append(item)
            elif isinstance(item, n.Extends):
                extends.append(item)
            elif isinstance(item, (n.Override, n.Remove, n.Under)):
                edits.append(item)
        for extra in extends[1:]:
            self._problem("a set extends one other set", extra.span,
                          "keep one `extends`; import rules from others with `import`",
                          cn="一个指标体系只能继承一个指标体系",
                          hint_cn="请只保留一个 `继承`；其他文件中的规则可用 `导入` 引入")
        for node in indicators:
            if node.placement is not None and not extends:
                side_cn = "之后" if node.placement[0] == "after" else "之前"
                self._problem(f"`{node.placement[0]} {node.placement[1]}` places an indicator "
                              "among those of an extended set, but this file has no `extends`",
                              node.span, "indicators of a file of its own come in the order "
                              "written; remove the placement",
                              cn=f"`排在 {node.placement[1]} {side_cn}` 用于在所继承的指标体系中"
                                 "安排指标的位置，但本文件没有 `继承`",
                              hint_cn="本文件自己的指标按书写顺序排列；请删去“排在 …”")
        if edits and not extends:
            self._problem("`override`, `remove` and `under` change an inherited set, but this "
                          "file has no `extends`", edits[0].span,
                          'add `extends "base.ind"` at the top',
                          cn="`修改`、`删除` 和 `增加到` 用于修改所继承的指标体系，但本文件没有 `继承`",
                          hint_cn='请在文件开头加上 `继承 "base.ind"`')
        year = header.get("year")
        h = n.Header(
            name=header.get("set"), region=header.get("region"),
            year_from=year[0] if year else None, year_to=year[1] if year else None,
            source=header.get("source"), total=header.get("total"),
            grades=tuple(header.get("grades", ())), rounding=tuple(rounding),
            na_policy=header.get("when na"), spans=header_spans)
        return n.SetFile(h, tuple(facts), tuple(lets), tuple(defs), tuple(indicators),
                         tuple(imports), extends[0] if extends else None, tuple(edits),
                         tuple(requires), path=self.path, spelling=self.spelling)

    # --- modules
    @v_args(meta=True)
    def import_all(self, meta, items):
        path, alias = items
        self._reserved(alias, "a module")
        return n.Import(_unquote(path), alias=alias.value, span=self._span(meta))

    @v_args(meta=True)
    def import_some(self, meta, items):
        return n.Import(_unquote(items[0]), names=tuple(t.value for t in items[1:]),
                        span=self._span(meta))

    @v_args(meta=True)
    def extends(self, meta, items):
        return n.Extends(_unquote(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def remove(self, meta, items):
        return n.Remove(tuple(t.value for t in items), span=self._span(meta))

    @v_args(meta=True)
    def under(self, meta, items):
        code, body = items
        children, facts, lets = [], [], []
        for item in body:
            if item[0] == "header":
                self._problem("`when na` belongs in the group's own block or an `override`",
                              item[3], "move it there",
                              cn="`不适用时` 应写在该上级指标自己的块中，或写在 `修改` 中",
                              hint_cn="请把它移到那里")
                continue
            kind, value, item_span = item
            if kind == "node":
                children.append(value)
            elif kind == "fact":
                facts.append(value)
            elif kind == "let":
                lets.append(value)
            else:
                self._problem(f"`under {code.value}` adds indicators (and the facts and values "
                              f"they use); `{kind}` belongs in an `override` block", item_span,
                              f"write it in `override {code.value} {{ … }}`",
                              cn=f"`增加到 {code.value}` 只用于增加指标（及其所用的数据和中间值）；"
                                 f"`{_ITEM_CN.get(kind, kind)}` 应写在 `修改` 块中",
                              hint_cn=f"请写在 `修改 {code.value} {{ … }}` 中")
        return n.Under(code.value, tuple(children), tuple(facts), tuple(lets),
                       span=self._span(meta))

    @v_args(meta=True)
    def weight_item(self, meta, items):
        return ("weight", self._weight(items[0]), self._span(meta))

    @v_args(meta=True)
    def override_name(self, meta, items):
        return ("name", _unquote(items[0]), self._span(meta))

    def override_rule(self, items):
        return [("score", items[0], items[0].span)]

    def override_block(self, items):
        return self.block(items)

    @v_args(meta=True)
    def override(self, meta, items):
        code, body = items
        if isinstance(body, tuple):
            body = [body]
        fields = {}
        lists = {"note": [], "fact": [], "let": [], "point": [], "node": [], "require": []}
        for item in body:
            if item[0] == "header":  # `when na: …`
                item = ("when na", item[2], item[3])
            kind, value, item_span = item
            if kind in lists:
                lists[kind].append(value)
                continue
            if kind in fields:
                self._problem(f"`{kind}` is given twice in this override", item_span,
                              "keep one of them",
                              cn=f"`{_ITEM_CN.get(kind, kind)}` 在这个 `修改` 中写了两次",
                              hint_cn="请只保留一个")
            fields[kind] = value
        return n.Override(code.value, weight=fields.get("weight"), name=fields.get("name"),
                          explain=fields.get("explain"), standard=fields.get("standard"),
                          notes=tuple(lists["note"]), facts=tuple(lists["fact"]),
                          lets=tuple(lists["let"]), rule=fields.get("score"),
                          points=tuple(lists["point"]), children=tuple(lists["node"]),
                          na_policy=fields.get("when na"), requires=tuple(lists["require"]),
                          span=self._span(meta))

    def _weight(self, token: Token) -> n.Number:
        if token.type == "PERCENT":
            return n.Number(_percent(token.value), True, span=_tok_span(token, self.path))
        return n.Number(_number(token.value), span=_tok_span(token, self.path))

    def recovered(self, items):
        return None

    @v_args(meta=True)
    def set_name(self, meta, items):
        return ("header", "set", _unquote(items[0]), self._span(meta))

    @v_args(meta=True)
    def region(self, meta, items):
        return ("header", "region", _unquote(items[0]), self._span(meta))

    @v_args(meta=True)
    def source(self, meta, items):
        return ("header", "source", _unquote(items[0]), self._span(meta))

    @v_args(meta=True)
    def year(self, meta, items):
        span = self._span(meta)
        years = []
        for token in items:
            if token is None:
                continue
            if "." in token.value or not 1900 <= int(token.value) <= 2200:
                self._problem(f"{token.value} is not a year", _tok_span(token, self.path),
                              "write a four-digit year, e.g. year 2020 or year 2021 to 2025",
                              cn=f"{token.value} 不是年份",
                              hint_cn="请写四位数的年份，如 年度 2020 或 年度 2021 至 2025")
                years.append(0)
            else:
                years.append(int(token.value))
        low = years[0]
        high = years[1] if len(years) > 1 else low
        if high < low:
            self._problem(f"the validity period ends ({high}) before it starts ({low})", span,
                          "write the earlier year first",
                          cn=f"适用期的结束年份（{high}）早于开始年份（{low}）",
                          hint_cn="请先写较早的年份")
        return ("header", "year", (low, high), span)

    @v_args(meta=True)
    def total(self, meta, items):
        return ("header", "total", _number(items[0].value), self._span(meta))

    @v_args(meta=True)
    def grades(self, meta, items):
        span = self._span(meta)
        grades = list(items)
        for i, grade in enumerate(grades):
            if grade.lower is None and i != len(grades) - 1:
                self._problem(f"grade {grade.label!r} has no lower bound but is not the last",
                              grade.span, "only the last grade may go without `>= N`",
                              cn=f"等级“{grade.label}”没有写下限，但它不是最后一个等级",
                              hint_cn="只有最后一个等级可以不写 `>= N`")
        for a, b in zip(grades, grades[1:]):
            if a.lower is not None and b.lower is not None and b.lower >= a.lower:
                self._problem(f"grades must be listed from the highest bound down: "
                              f"{b.label} >= {b.lower} comes after {a.label} >= {a.lower}",
                              b.span, "list the grades from the best down",
                              cn=f"等级须按下限从高到低排列：{b.label} >= {b.lower} 排在了 "
                                 f"{a.label} >= {a.lower} 之后",
                              hint_cn="请从最高的等级写起")
        labels = [g.label for g in grades]
        for label in set(labels):
            if labels.count(label) > 1:
                self._problem(f"grade {label!r} is listed twice", span,
                              "list each grade once", cn=f"等级“{label}”写了两次",
                              hint_cn="每个等级只写一次")
        return ("header", "grades", tuple(grades), span)

    @v_args(meta=True)
    def grade(self, meta, items):
        label = items[0]
        lower = None
        if len(items) > 1 and items[1] is not None:
            op, bound = items[1], items[2]
            if op.value not in (">=", "≥"):
                self._problem(f"a grade's bound is inclusive and written `>= N`, not "
                              f"`{op.value} N`", _tok_span(op, self.path),
                              "e.g. grades 优 >= 90, 良 >= 80, 中 >= 60, 差",
                              cn=f"等级的下限含端点，应写成 `>= N`，而不是 `{op.value} N`",
                              hint_cn="如 等级 优 >= 90, 良 >= 80, 中 >= 60, 差")
            lower = _number(bound.value)
        return n.Grade(label, lower, span=self._span(meta))

    def label(self, items):
        token = items[0]
        return _unquote(token) if token.type == "STRING" else token.value

    @v_args(meta=True)
    def rounding(self, meta, items):
        target, step, decimals = items
        value = _number(step.value)
        if decimals is not None:
            # `round leaves to 2 decimals` is the step 0.01.
            if value != value.to_integral_value() or value > 10:
                self._problem("the number of decimals must be a whole number from 0 to 10",
                              _tok_span(step, self.path), "e.g. round leaves to 2 decimals",
                              cn="小数位数须是 0 至 10 的整数",
                              hint_cn="如 保留 末级 到 2 位小数")
                value = Decimal("0.01")
            else:
                value = Decimal(1).scaleb(-int(value))
        elif value <= 0:
            self._problem("rounding needs a step above 0, e.g. 0.01 or 0.5",
                          _tok_span(step, self.path), "e.g. round leaves to 0.01",
                          cn="取舍精度须大于0，如 0.01 或 0.5",
                          hint_cn="如 保留 末级 到 0.01")
        return ("rounding", n.Rounding(target, value, span=self._span(meta)))

    def round_leaves(self, _):
        return "leaves"

    def round_groups(self, _):
        return "groups"

    def round_total(self, _):
        return "total"

    # --- declarations
    @v_args(meta=True)
    def fact_decl(self, meta, items):
        names = []
        ftype = domain = label = None
        for item in items:
            if isinstance(item, Token) and item.type == "NAME":
                self._reserved(item, "a fact")
                names.append(item.value)
            elif isinstance(item, Token) and item.type == "STRING":
                label = _unquote(item)
            elif isinstance(item, n.FactType):
                ftype = item
            elif isinstance(item, n.Interval):
                domain = item
        return n.FactDecl(tuple(names), ftype, domain, label, span=self._span(meta))

    def _simple_type(kind):
        @v_args(meta=True)
        def build(self, meta, items):
            return n.FactType(kind, span=self._span(meta))
        return build

    type_number = _simple_type("number")
    type_percent = _simple_type("percent")
    type_count = _simple_type("count")
    type_bool = _simple_type("bool")
    type_text = _simple_type("text")

    @v_args(meta=True)
    def type_money(self, meta, items):
        unit = items[0].value if items and items[0] is not None else None  # None: 元
        if unit is not None and unit not in MONEY_UNITS:
            self._problem(f"unknown money unit {unit!r}", self._span(meta),
                          "use one of: " + ", ".join(MONEY_UNITS),
                          cn=f"无法识别的金额单位“{unit}”",
                          hint_cn="请使用以下单位之一：" + "、".join(MONEY_UNITS))
        return n.FactType("money", unit=unit, span=self._span(meta))

    @v_args(meta=True)
    def type_level(self, meta, items):
        levels = tuple(_unquote(t) for t in items)
        if len(set(levels)) != len(levels):
            self._problem("a level is listed twice", self._span(meta),
                          "list each level once", cn="有一个选项写了两次",
                          hint_cn="每个选项只写一次")
        return n.FactType("level", levels=levels, span=self._span(meta))

    @v_args(meta=True)
    def let_decl(self, meta, items):
        self._reserved(items[0], "a value")
        name, label, value = items[0].value, None, items[-1]
        if len(items) == 3 and items[1] is not None:
            label = _unquote(items[1])
        return n.Let(name, label, value, span=self._span(meta))

    let_clause = let_decl

    @v_args(meta=True)
    def rule_def(self, meta, items):
        for token in items[:-1]:
            if token is not None:
                self._reserved(token, "a rule or its parameter")
        name = items[0].value
        params = tuple(t.value for t in items[1:-1] if t is not None)
        return n.RuleDef(name, params, items[-1], span=self._span(meta))

    # --- indicators
    @v_args(meta=True)
    def node(self, meta, items):
        self._reserved(items[0], "an indicator")
        code = items[0].value
        rest = list(items[1:])
        name = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            name = _unquote(rest.pop(0))
        weight = self._weight(rest.pop(0))
        bonus = False
        if rest and isinstance(rest[0], Token) and rest[0].type == "BONUS":
            bonus = True
            rest.pop(0)
        placement = None
        if rest and isinstance(rest[0], tuple) and rest[0][0] == "placement":
            placement = rest.pop(0)[1]
        elif rest and rest[0] is None:
            rest.pop(0)
        body = rest[0]
        span = self._span(meta)
        if isinstance(body, n.Rule):
            return n.Indicator(code, name, weight, bonus, rule=body, placement=placement,
                               span=span)
        fields = {"explain": None, "standard": None}
        notes, facts, lets, points, children, rules, requires = [], [], [], [], [], [], []
        na_policy = None
        for item in body:
            if item[0] == "header":  # `when na: …` inside a group
                if na_policy is not None:
                    self._problem(f"`when na` is given twice in {code}", item[3],
                                  "keep one of them", cn=f"`不适用时` 在 {code} 中写了两次",
                                  hint_cn="请只保留一个")
                na_policy = item[2]
                continue
            kind, value, item_span = item
            if kind in ("explain", "standard"):
                if fields[kind] is not None:
                    self._problem(f"`{kind}` is given twice in {code}", item_span,
                                  "keep one of them",
                                  cn=f"`{_ITEM_CN.get(kind, kind)}` 在 {code} 中写了两次",
                                  hint_cn="请只保留一个")
                fields[kind] = value
            elif kind == "note":
                notes.append(value)
            elif kind == "fact":
                facts.append(value)
            elif kind == "let":
                lets.append(value)
            elif kind == "point":
                points.append(value)
            elif kind == "node":
                children.append(value)
            elif kind == "score":
                rules.append(value)
            elif kind == "require":
                requires.append(value)
        if len(rules) > 1:
            self._problem(f"{code} has more than one `score:` rule", rules[1].span,
                          "join the clauses into one rule with ';'",
                          cn=f"{code} 有不止一条 `评分:` 规则",
                          hint_cn="请用“;”把各条款合成一条规则")
        rule = rules[0] if rules else None
        if na_policy is not None and not children:
            self._problem(f"`when na` says how a group treats children that do not apply; "
                          f"{code} has no children", span, "remove it, or add children",
                          cn=f"`不适用时` 说明上级指标如何处理不适用的下级指标；{code} 没有下级指标",
                          hint_cn="请删去它，或加上下级指标")
        return n.Indicator(code, name, weight, bonus, fields["explain"], fields["standard"],
                           tuple(notes), tuple(facts), tuple(lets), rule, tuple(points),
                           tuple(children), na_policy, tuple(requires), placement, span=span)

    def block(self, items):
        out = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, n.FactDecl):
                out.append(("fact", item, item.span))
            elif isinstance(item, n.Let):
                out.append(("let", item, item.span))
            elif isinstance(item, n.Point):
                out.append(("point", item, item.span))
            elif isinstance(item, n.Indicator):
                out.append(("node", item, item.span))
            elif isinstance(item, n.Rule):
                out.append(("score", item, item.span))
            elif isinstance(item, n.Require):
                out.append(("require", item, item.span))
            elif isinstance(item, list):
                out.extend(item)
            else:
                out.append(item)
        return out

    @v_args(meta=True)
    def when_na(self, meta, items):
        return ("header", "when na", items[-1], self._span(meta))

    def na_rescale(self, _):
        return n.NA_RESCALE

    def na_share(self, _):
        return n.NA_SHARE

    @v_args(meta=True)
    def explain(self, meta, items):
        return ("explain", _unquote(items[0]), self._span(meta))

    @v_args(meta=True)
    def standard(self, meta, items):
        return ("standard", _unquote(items[0]), self._span(meta))

    @v_args(meta=True)
    def note(self, meta, items):
        return ("note", _unquote(items[0]), self._span(meta))

    def score(self, items):
        return items[0]

    @v_args(meta=True)
    def point(self, meta, items):
        label, (is_share, weight), rule = items
        return n.Point(label, is_share, weight, rule, span=self._span(meta))

    def point_points(self, items):
        return (False, items[0])

    def point_share(self, items):
        return (True, items[0])

    # --- rules
    @v_args(meta=True)
    def rule(self, meta, items):
        return n.Rule(tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def guarded(self, meta, items):
        return n.Guarded(items[0], items[2], span=self._span(meta))

    @v_args(meta=True)
    def otherwise(self, meta, items):
        return n.Otherwise(items[1], span=self._span(meta))

    @v_args(meta=True)
    def result(self, meta, items):
        return n.Result(items[0], span=self._span(meta))

    @v_args(meta=True)
    def step(self, meta, items):
        subject, mode, size, direction, reference, _arrow, delta, base = items
        return n.Step(mode, size, direction.value, reference, delta, base, subject,
                      span=self._span(meta))

    @v_args(meta=True)
    def step_cn(self, meta, items):
        subject, reference, word, size, mode, _arrow, delta, base = items
        return n.Step(_CN_MODES[mode.value.rstrip("计")] if mode is not None else n.STEP_WHOLE,
                      size, _cn_direction(word.value), reference, delta, base, subject,
                      span=self._span(meta))

    def step_whole(self, _):
        return n.STEP_WHOLE

    def step_started(self, _):
        return n.STEP_STARTED

    def step_pro_rata(self, _):
        return n.STEP_PRO_RATA

    @v_args(meta=True)
    def each(self, meta, items):
        count, _arrow, delta, base = items
        return n.Each(count, delta, base, span=self._span(meta))

    def base(self, items):
        return items[0]

    @v_args(meta=True)
    def floor(self, meta, items):
        return n.Floor(items[0], span=self._span(meta))

    @v_args(meta=True)
    def floor_zero(self, meta, items):  # 扣完为止
        return n.Floor(n.Number(Decimal(0), span=self._span(meta)), span=self._span(meta))

    @v_args(meta=True)
    def cap(self, meta, items):
        return n.Cap(items[0], span=self._span(meta))

    @v_args(meta=True)
    def cap_full(self, meta, items):  # 加满为止, 以满分为限
        return n.Cap(n.Full(span=self._span(meta)), span=self._span(meta))

    @v_args(meta=True)
    def published(self, meta, items):
        return n.Published(span=self._span(meta))

    @v_args(meta=True)
    def require(self, meta, items):
        condition, message = items[0], items[1] if len(items) > 1 else None
        return n.Require(condition, _unquote(message) if message is not None else None,
                         span=self._span(meta))

    def placement(self, items):
        if items[0].type in ("PLACE_AFTER", "PLACE_BEFORE"):  # after B / before B
            which, code = items
        else:  # 排在 B 之后 / 之前
            code, which = items
        side = "after" if which.type in ("PLACE_AFTER", "CN_AFTER") else "before"
        return ("placement", (side, code.value))

    @v_args(meta=True)
    def deduct_max(self, meta, items):
        return n.DeductAtMost(items[0], span=self._span(meta))

    @v_args(meta=True)
    def flag(self, meta, items):
        kind, condition = items
        message = None if kind.type == "FLAG_OVER" else _unquote(kind)
        return n.Flag(message, condition, span=self._span(meta))

    @v_args(meta=True)
    def expect(self, meta, items):
        prop, name = items
        return n.Expect(_CN_PROPERTIES.get(prop.value, prop.value), name.value,
                        span=self._span(meta))

    @v_args(meta=True)
    def not_applicable(self, meta, items):
        return n.NotApplicable(span=self._span(meta))

    # --- expressions
    @v_args(meta=True)
    def or_(self, meta, items):
        return n.Logical("or", items[0], items[1], span=self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, items):
        return n.Logical("and", items[0], items[1], span=self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, items):
        return n.Not(items[0], span=self._span(meta))

    _OPS = {"≥": ">=", "≤": "<=", "≠": "!=", "×": "*", "÷": "/"}

    @v_args(meta=True)
    def compare(self, meta, items):
        left, op, right = items
        return n.Compare(self._OPS.get(op.value, op.value), left, right, span=self._span(meta))

    @v_args(meta=True)
    def in_interval(self, meta, items):
        return n.InInterval(items[0], items[1], span=self._span(meta))

    def _interval(low_closed, high_closed):
        @v_args(meta=True)
        def build(self, meta, items):
            return n.Interval(items[0], items[1], low_closed, high_closed, span=self._span(meta))
        return build

    closed_closed = _interval(True, True)
    closed_open = _interval(True, False)
    open_closed = _interval(False, True)
    open_open = _interval(False, False)

    @v_args(meta=True)
    def binary(self, meta, items):
        left, op, right = items
        return n.Binary(self._OPS.get(op.value, op.value), left, right, span=self._span(meta))

    @v_args(meta=True)
    def share_of(self, meta, items):
        return n.Binary("of", items[0], items[1], span=self._span(meta))

    @v_args(meta=True)
    def unary(self, meta, items):
        op, operand = items
        if op.value == "-" and isinstance(operand, n.Number) and operand.value >= 0 \
                and not operand.value.is_signed():
            # Keep -0.1 one literal: formatting and interval checks read it directly.
            return n.Number(-operand.value, operand.is_percent, span=self._span(meta))
        return n.Unary(op.value, operand, span=self._span(meta))

    @v_args(meta=True)
    def unary_cn(self, meta, items):
        sign, operand = items
        if sign.value == "得":  # 得 4: the score itself
            return operand
        return self._signed(meta, sign, operand)

    def _signed(self, meta, sign, operand):
        if sign.value == "加":  # 加 0.1: the change itself, as `0.1`
            return operand
        if isinstance(operand, n.Number) and operand.value >= 0 \
                and not operand.value.is_signed():
            return n.Number(-operand.value, operand.is_percent, span=self._span(meta))
        return n.Unary("-", operand, span=self._span(meta))

    @v_args(meta=True)
    def share_cn(self, meta, items):
        word, share = items
        whole = n.Full() if "满分" in word.value else n.WeightRef()
        if word.value.startswith("扣"):  # 扣权重的3% is `-3% of weight`
            if isinstance(share, n.Number) and share.value >= 0 and \
                    not share.value.is_signed():
                share = n.Number(-share.value, share.is_percent, span=share.span)
            else:
                return n.Unary("-", n.Binary("of", share, whole, span=self._span(meta)),
                               span=self._span(meta))
        return n.Binary("of", share, whole, span=self._span(meta))

    @v_args(meta=True)
    def zero_cn(self, meta, items):
        return n.Number(Decimal(0), span=self._span(meta))

    @v_args(meta=True)
    def number(self, meta, items):
        return n.Number(_number(items[0].value), span=self._span(meta))

    @v_args(meta=True)
    def percent(self, meta, items):
        return n.Number(_percent(items[0].value), True, span=self._span(meta))

    @v_args(meta=True)
    def string(self, meta, items):
        return n.String(_unquote(items[0]), span=self._span(meta))

    @v_args(meta=True)
    def true(self, meta, items):
        return n.Boolean(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta, items):
        return n.Boolean(False, span=self._span(meta))

    @v_args(meta=True)
    def full(self, meta, items):
        return n.Full(span=self._span(meta))

    @v_args(meta=True)
    def weight_ref(self, meta, items):
        return n.WeightRef(span=self._span(meta))

    @v_args(meta=True)
    def name(self, meta, items):
        if items[0].value in EXPRESSION_WORDS:
            word = items[0].value
            hint = "`na` is an outcome: write `cond -> na`" if word == "na" else \
                "choose another name"
            hint_cn = "`不适用` 是评分结果：请写成 `条件 -> 不适用`" if word in ("na", "不适用") \
                else "请换一个名称"
            self._problem(f"{word!r} is a reserved word, not a value here",
                          _tok_span(items[0], self.path), hint,
                          cn=f"“{word}”是保留字，不能在这里用作值", hint_cn=hint_cn)
        return n.Name(items[0].value, span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta, items):
        func = _CN_FUNCTIONS.get(items[0].value, items[0].value)
        args = tuple(a for a in items[1:] if a is not None)
        return n.Call(func, args, span=self._span(meta))


# What a reserved word cannot name, and the header and block items, as the Chinese
# messages say them.
_WHAT_CN = {"an indicator": "指标", "a fact": "数据", "a value": "中间值", "a module": "导入的模块",
            "a rule or its parameter": "规则或其参数"}
_HEADER_CN = {"set": "指标体系", "region": "地区", "year": "年度", "source": "依据",
              "total": "总分", "grades": "等级", "when na": "不适用时"}
_ITEM_CN = {"weight": "权重", "name": "名称", "explain": "指标解释", "standard": "评分标准",
            "note": "备注", "score": "评分", "when na": "不适用时", "point": "要点",
            "fact": "数据", "let": "设", "require": "要求", "node": "指标"}


def _cn_direction(word: str) -> str:
    """每低于 → below, 每高于 → above, 每偏离 → off, 每高（低）→ around."""
    body = word[1:]
    if "或" in body or "（" in body or "(" in body:
        return "around"
    if body.startswith(("偏离", "相差")):
        return "off"
    if body.startswith(("低", "减少", "下降", "降低", "少")):
        return "below"
    return "above"


_CN_PROPERTIES = {"不减": "nondecreasing", "不增": "nonincreasing", "连续": "continuous"}
_CN_MODES = {"按整档": n.STEP_WHOLE, "不足一档按一档": n.STEP_STARTED,
             "不满一档按一档": n.STEP_STARTED, "按比例": n.STEP_PRO_RATA}

# Chinese function names → the functions they name (keywords.FUNCTIONS).
_CN_FUNCTIONS = {spelling: english for english, spellings in _keywords.FUNCTIONS.items()
                 for spelling in spellings}


MONEY_UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000),
               "亿元": Decimal(100000000)}


# Words a name cannot be: where a fact or value is used, these start or join clauses
# and expressions; where an indicator code stands, these start statements.
EXPRESSION_WORDS = frozenset(
    "and or not in of true false full weight na else per pro each floor cap deduct flag let "
    "from if below above off around published".split()) | frozenset(
    # the Chinese spellings of every keyword (满分, 否则, 权重 …)
    spelling for keyword in _keywords.KEYWORDS for spelling in keyword.chinese)
STATEMENT_WORDS = frozenset(
    "set region year source total grades round fact let rule explain standard note score "
    "point import extends override remove under require".split())
