"""Which language messages are shown in, and the Chinese of the command line's help.

Every :class:`~indicator_dsl.errors.Diagnostic` is worded twice where it is made
(``message``/``hint`` in English, ``message_cn``/``hint_cn`` in Chinese); this module
only decides which of the two a reader sees:

* ``--lang zh`` or ``--lang en`` (or ``INDICATOR_LANG``) decides outright;
* ``auto`` (the default) gives Chinese for a set written in the Chinese keywords
  (``权重``, ``满分`` …) and in a Chinese locale (``LANG=zh_CN.UTF-8``), else English.

It also holds the Chinese help of ``indicator-eval`` (keyed by command and argument,
not by the English text) and the Chinese of the few words argparse itself prints
(``usage:``, ``options`` …), which argparse looks up through its ``_()`` hook.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence

LANGS = ("auto", "zh", "en")
ENV_LANG = "INDICATOR_LANG"


# ------------------------------------------------------------------ choosing


def normalize(value: Optional[str]) -> Optional[str]:
    """"zh", "en" or "auto" for a value as a user may write it (zh_CN, EN …); None when it
    names no language."""
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("", "auto"):
        return "auto"
    if value.startswith("zh") or value in ("cn", "chinese", "中文"):
        return "zh"
    if value.startswith("en") or value == "english":
        return "en"
    return None


def locale_is_chinese(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the locale's messages are Chinese: the first of LC_ALL, LC_MESSAGES and LANG
    that is set (POSIX's order) starts with ``zh``."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable)
        if value:
            return value.lower().startswith("zh")
    if environ is None and os.name == "nt":  # Windows sets no LANG: ask the system
        import locale

        name = (locale.getlocale()[0] or "").lower()
        return name.startswith(("zh", "chinese"))
    return False


def requested(flag: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> str:
    """The language asked for: ``--lang``, else ``INDICATOR_LANG``, else auto (an
    unreadable ``INDICATOR_LANG`` counts as auto; see :func:`bad_environment`)."""
    env = os.environ if environ is None else environ
    return normalize(flag) or normalize(env.get(ENV_LANG)) or "auto"


def bad_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The value of ``INDICATOR_LANG`` when it names no language."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_LANG)
    return value if value is not None and normalize(value) is None else None


def resolve(wanted: str = "auto", spelling: Optional[str] = None,
            environ: Optional[Mapping[str, str]] = None) -> str:
    """"zh" or "en": what ``wanted`` gives for a file written in ``spelling``."""
    if wanted in ("zh", "en"):
        return wanted
    if spelling == "zh":
        return "zh"
    return "zh" if locale_is_chinese(environ) else "en"


def lang_in_argv(argv: Sequence[str]) -> Optional[str]:
    """The ``--lang`` value written on a command line (for the help, which is built
    before the arguments are parsed)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def text_spelling(text: str) -> str:
    """"zh" when a set's text is written mostly in the Chinese keywords, else "en".

    For text that does not parse (a parsed file says so itself: ``SetFile.spelling``):
    the tokens are counted as far as the lexer reads them."""
    from .parser import _BILINGUAL, _ENGLISH_KEYWORDS, _lark

    english = chinese = 0
    parser, _ = _lark()
    tokens = parser.lex(text)
    while True:
        try:
            token = next(tokens)
        except StopIteration:
            break
        except Exception:  # a character the lexer stops at: count what came before
            break
        kind = token.type
        if kind.startswith(("_CN_", "CN_")) or (kind in _BILINGUAL and not token.isascii()):
            chinese += 1
        elif token.value in _ENGLISH_KEYWORDS:
            english += 1
    return "zh" if chinese > english else "en"


def spelling_of_error(exc, text: Optional[str], path: Optional[str] = None) -> str:
    """The spelling of a set that raised a SetError: from what was checked of it, from its
    text, or (a file that could not be read as UTF-8) from the file itself."""
    checked = getattr(exc, "checked", None)
    if checked is not None and getattr(checked.file, "spelling", None):
        return checked.file.spelling
    if text:
        return text_spelling(text)
    return spelling_of_file(path) if path else "en"


def spelling_of_file(path: str) -> str:
    """The spelling of a set file as it is on disk, in UTF-8 or the GBK that Chinese
    Windows writes ("en" when it cannot be read)."""
    try:
        data = open(path, "rb").read(5_000_000)
    except OSError:
        return "en"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return text_spelling(data.decode(encoding).replace("\x00", ""))
        except UnicodeDecodeError:
            continue
    return "en"


# ---------------------------------------------------------------- few words


def summary(diagnostics: Iterable, lang: str = "en") -> str:
    """"1 error, 2 warnings" / "1 个错误，2 个警告"."""
    diagnostics = list(diagnostics)
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if lang == "zh":
        return f"{errors} 个错误，{warnings} 个警告"
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning" \
           f"{'s' if warnings != 1 else ''}"


def say(lang: str, english: str, chinese: str) -> str:
    """One of two wordings of the same sentence, by language."""
    return chinese if lang == "zh" else english


# ------------------------------------------------------------ argparse's words

# What argparse prints itself, through gettext: its own handful of strings.
ARGPARSE_ZH: Dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少以下参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多需要一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s":
        "选项不明确：%(option)s 可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "忽略了多余的值 %r",
    "one of the arguments %s is required": "须给出参数 %s 之一",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "未知的命令 %(parser_name)r（可用：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
}


@contextlib.contextmanager
def argparse_language(lang: str) -> Iterator[None]:
    """argparse's own words in ``lang`` while parsers are built and arguments parsed.

    argparse calls ``_()`` (gettext) for its strings at the moment it prints them; in
    Chinese the lookup goes to :data:`ARGPARSE_ZH` and is put back afterwards."""
    if lang != "zh":
        yield
        return
    saved = argparse._, argparse.ngettext

    def chinese(message):
        return ARGPARSE_ZH.get(message, message)

    def chinese_n(singular, plural, count):
        if singular == "expected %s argument":
            return "需要 %s 个值"
        return singular if count == 1 else plural

    argparse._, argparse.ngettext = chinese, chinese_n
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """``--lang`` on the command and on each subcommand (``indicator-eval --lang zh check``
    and ``indicator-eval check --lang zh`` both work)."""
    text = ("language of messages and help: zh (Chinese), en (English) or auto "
            "(default: Chinese for a set written in Chinese keywords or in a Chinese locale; "
            f"also {ENV_LANG})")
    parser.add_argument("--lang", choices=LANGS, default=None, help=text)
    for sub in _subparsers(parser):
        sub.add_argument("--lang", choices=LANGS, default=argparse.SUPPRESS, help=text)


def _subparsers(parser: argparse.ArgumentParser) -> List[argparse.ArgumentParser]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out.extend(action.choices.values())
    return out


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Wraps help text by its width on screen: a Chinese character takes two columns and
    a line may break between any two of them (Chinese has no spaces to break at)."""

    def _split_lines(self, text, width):
        return wrap_by_width(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text, width, indent):
        return "\n".join(indent + line for line in
                         wrap_by_width(self._whitespace_matcher.sub(" ", text).strip(),
                                       width - len(indent)))


_NO_LINE_START = set("，。；：、）》”’！？)")


def wrap_by_width(text: str, width: int) -> List[str]:
    """``text`` in lines of at most ``width`` terminal columns (a wide character counts two),
    breaking at spaces or between wide characters, never before closing punctuation."""
    import re
    import unicodedata

    def columns(piece: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in piece)

    width = max(width, 10)
    lines: List[str] = []
    line, used = "", 0
    for piece in re.findall(r"\s+|[^\s\u2e80-\uffef]+|[\u2e80-\uffef]", text):
        if piece.isspace():
            piece = " "
        size = columns(piece)
        if used + size > width and line.strip() and piece not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
            if piece == " ":
                continue
        line += piece
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def localize_help(parser: argparse.ArgumentParser) -> None:
    """Put the Chinese help of :data:`HELP_ZH` on the parser and its subcommands.

    Entries are keyed by command name and argument ``dest``; a command or argument
    without one keeps its own text (init and import are written in Chinese already)."""
    top = HELP_ZH[""]
    parser.description = top["description"]
    parser.epilog = top["epilog"]
    parser.formatter_class = ChineseHelpFormatter
    _localize_actions(parser, top["arguments"])
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for choice in action._choices_actions:  # the one-line list under COMMAND
            entry = HELP_ZH.get(choice.dest)
            if entry is not None:
                choice.help = entry["help"]
        for name, sub in action.choices.items():
            sub.formatter_class = ChineseHelpFormatter
            entry = HELP_ZH.get(name)
            if entry is None:
                continue
            sub.description = entry.get("description", sub.description)
            _localize_actions(sub, entry.get("arguments", {}))


def _localize_actions(parser: argparse.ArgumentParser, texts: Dict[str, str]) -> None:
    common = HELP_ZH["*"]["arguments"]
    for action in parser._actions:
        text = texts.get(action.dest) or common.get(action.dest)
        if text is not None:
            action.help = text


def untranslated(parser: argparse.ArgumentParser) -> List[str]:
    """Commands and arguments with no Chinese help (for the tests: a new option must
    come with its Chinese)."""
    missing = []
    top = HELP_ZH[""]["arguments"]
    common = HELP_ZH["*"]["arguments"]
    for action in parser._actions:
        if action.help is not argparse.SUPPRESS and action.dest not in top \
                and action.dest not in common and action.dest != "command":
            missing.append(action.dest)
    for name, sub in {n: s for a in parser._actions
                      if isinstance(a, argparse._SubParsersAction)
                      for n, s in a.choices.items()}.items():
        if name in _CHINESE_ALREADY:
            continue
        entry = HELP_ZH.get(name)
        if entry is None:
            missing.append(name)
            continue
        for action in sub._actions:
            if action.dest not in entry.get("arguments", {}) and action.dest not in common:
                missing.append(f"{name} {action.dest}")
    return missing


# Subcommands whose help is written in Chinese where they are defined.
_CHINESE_ALREADY = ("init", "import")

HELP_ZH: Dict[str, dict] = {
    "": {
        "description": "检查指标体系文件（.ind），并用它为项目评分（绩效评价指标体系评分）。",
        "epilog": "退出码：0 成功 · 1 有指标无法评分 · 2 命令用法错误 · 3 指标体系有错误 · "
                  "4 数据文件有误 · 5 文件无法读写 · 6 test/props 未通过或文件未按规范排版",
        "arguments": {
            "version": "显示版本号并退出",
            "lang": f"消息和帮助的语言：zh（中文）、en（英文）或 auto（默认：指标体系用中文关键字"
                    f"书写或系统语言为中文时用中文；也可用环境变量 {ENV_LANG} 指定）",
        },
    },
    "*": {  # arguments every command has
        "arguments": {
            "help": "显示本帮助并退出",
            "lang": "消息的语言：zh、en 或 auto（默认）",
        },
    },
    "eval": {
        "help": "为项目评分：每个指标的得分、总分和等级",
        "description": "用指标体系为一个项目的数据评分。",
        "arguments": {
            "set": "指标体系文件（.ind）；写 - 则从标准输入读取",
            "facts": "项目的数据文件（.yaml、.json、.toml）；写 - 则从标准输入读取 YAML",
            "format": "输出格式：table（默认，在终端显示）、json、markdown、html、xlsx 或 docx"
                      "（xlsx 和 docx 须用 -o 指定文件）；用 -o 时默认按文件扩展名",
            "output": "把结果写入 FILE（整体写入，不会留下半个文件），不在终端显示；"
                      "写 - 则输出到标准输出",
            "template": "用自己的 jinja2 模板生成报告（在沙箱中运行；见 docs/reports.md）",
            "quiet": "不显示警告",
            "draft": "缺少事实时仍生成评分表，等待补充事实的指标标注为“待补充”（退出码仍为 1）",
        },
    },
    "check": {
        "help": "检查指标体系，不评分",
        "description": "解析并检查 .ind 文件，报告所有问题。",
        "arguments": {
            "sets": "指标体系文件（.ind）或文件夹",
            "quiet": "不显示警告",
        },
    },
    "test": {
        "help": "运行指标体系旁的黄金用例（*.cases.yaml）",
        "description": "运行黄金用例：数据 → 预期的得分、总分、等级或错误。不一致之处逐条列出。",
        "arguments": {
            "paths": "用例文件、指标体系（用其 NAME.cases.yaml）或要查找的文件夹",
        },
    },
    "props": {
        "help": "用生成的数据检查指标体系的性质",
        "description": "按数据声明生成数据，检查每个末级指标和上级指标的得分都在 [0, 分值] "
                       "之内、有效的数据都能评分，以及 `承诺`（expect）的性质成立。",
        "arguments": {
            "sets": "指标体系文件（.ind）或文件夹",
            "seed": "随机种子（默认 0：结果可重复）",
            "examples": "每项性质的样例数（默认 200）",
        },
    },
    "fmt": {
        "help": "把 .ind 文件改写为规范格式",
        "description": "把 .ind 文件改写为规范格式，注释和文字保持原样。",
        "arguments": {
            "files": ".ind 文件或文件夹",
            "check": "不修改文件；有文件未按规范排版时以退出码 6 结束",
            "diff": "显示将要做的修改",
            "keywords": "关键字写成中文（权重、满分、每低于 …）或英文；默认：保持每个文件原来的写法",
        },
    },
    "facts": {
        "help": "为指标体系生成待填写的事实模板",
        "description": "生成待填写的事实文件：指标体系读取的每项事实，按指标或全项目列出，"
                       "附中文名称、类型、可填的值和范围（YAML 中以注释列出评分标准；"
                       "xlsx/csv 表格带下拉选项）。",
        "arguments": {
            "set": "指标体系文件（.ind）",
            "output": "事实.yaml、事实.xlsx 或 事实.csv（按扩展名；默认在终端显示 YAML）",
            "projects": "每行一个项目、每列一项事实的表格（xlsx 或 csv），供 batch 批量评分填写",
            "source": "填入已有事实文件中的值（转换格式）",
        },
    },
    "batch": {
        "help": "批量评分：生成汇总表，可为每个项目生成报告",
        "description": "为多个文件夹中的事实文件和多项目表格中的每个项目评分，生成汇总表"
                       "（每个项目一行，列出全部问题、各等级数量和得分分布图）。",
        "arguments": {
            "set": "指标体系文件（.ind）",
            "inputs": "事实文件所在的文件夹、事实文件，或多项目的 .xlsx/.csv 表格",
            "output": "汇总.xlsx、汇总.html 或 汇总.csv",
            "reports": "同时在此文件夹中为每个项目生成一份报告",
            "report_format": "--reports 报告的格式（默认 docx）",
            "jobs": "用 N 个本机进程评分（默认 1）",
            "scheduler": "在 Dask 集群上评分（如 tcp://host:8786；需安装 [cluster] 扩展）",
            "resume": "继续中断的批量评分：跳过进度记录中已评分的项目",
            "quiet": "不显示进度条",
        },
    },
    "diff": {
        "help": "比较指标体系的两个版本",
        "description": "比较指标体系的两个版本：增加、删除和修改的指标；加 --facts 时还列出"
                       "每个项目的得分如何变化。",
        "arguments": {
            "old": "较早的版本（.ind）",
            "new": "较新的版本（.ind）",
            "facts": "一个放有数据文件的文件夹，用两个版本分别评分",
        },
    },
    "serve": {
        "help": "本地评分网页：填写数据，实时看到得分",
        "description": "为文件夹中的指标体系、标准库和上传的指标体系启动本地评分网页，并显示其地址。",
        "arguments": {
            "target": "放有 .ind 文件的文件夹，或一个 .ind 文件（默认：当前文件夹）",
            "port": "端口（默认 8000）",
            "host": "监听地址（默认 127.0.0.1：仅本机可访问）",
        },
    },
    "lsp": {
        "help": "编辑器的语言服务器（经标准输入输出的 LSP）",
        "description": "运行语言服务器（经标准输入输出的 Language Server Protocol），供 VS Code、"
                       "Vim/Neovim 等编辑器使用：错误提示、悬停说明、补全、跳转到定义、大纲和"
                       "格式化。见 docs/editors.md。",
        "arguments": {},
    },
}
