"""The ``indicator-eval`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from . import __version__
from .errors import ERROR, Diagnostic, FileAccessError, IndicatorError

# Exit codes (also listed in the README).
EXIT_OK = 0
EXIT_EVALUATION_FAILED = 1  # some indicator could not be scored
EXIT_USAGE = 2  # wrong command-line arguments
EXIT_SET_INVALID = 3  # the .ind file has syntax or check errors
EXIT_FACTS_INVALID = 4  # the facts file cannot be read or does not fit the set
EXIT_FILE_ERROR = 5  # a file cannot be read or written
EXIT_CHECKS_FAILED = 6  # `test` or `props` found failures; `fmt --check` found unformatted files
EXIT_BATCH_INCOMPLETE = 7  # `batch` finished, but some projects could not be scored
EXIT_INTERNAL = 70  # a bug in indicator-eval itself

OUTPUT_FORMATS = ("table", "json", "markdown", "html", "xlsx", "docx")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="indicator-eval",
        description="Check indicator tables (.ind) and score projects with them "
                    "(绩效评价指标体系评分).",
        epilog="exit codes: 0 ok · 1 an indicator could not be scored · 2 usage · "
               "3 set has errors · 4 facts file invalid · 5 file not readable/writable · "
               "6 test/props failures or unformatted files · 7 batch: some projects "
               "not scored")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ev = sub.add_parser("eval", help="score a project: every indicator, the total, the grade",
                        description="Score a project's facts with an indicator set.")
    ev.add_argument("set", metavar="SET", help="the indicator set (.ind); - reads it from "
                                                "standard input")
    ev.add_argument("facts", metavar="FACTS", help="the project's facts (.yaml, .json, .toml); "
                                                    "- reads YAML from standard input")
    ev.add_argument("--format", "-f", choices=OUTPUT_FORMATS, default=None,
                    help="table (default, for the terminal), json, markdown, html, xlsx or "
                         "docx (xlsx and docx need -o); with -o the default follows the "
                         "file's extension")
    ev.add_argument("-o", "--output", metavar="FILE",
                    help="write the result to FILE (atomically) instead of the terminal; "
                         "- is standard output")
    ev.add_argument("--template", metavar="FILE.j2",
                    help="render with your own jinja2 template (sandboxed; see docs/reports.md)")
    ev.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    ev.add_argument("--draft", action="store_true",
                    help="when facts are missing, still write the score table, with the "
                         "indicators that wait for them marked 待补充 (exit code stays 1)")

    ch = sub.add_parser("check", help="check indicator sets without scoring",
                        description="Parse and check .ind files; report every problem.")
    ch.add_argument("sets", metavar="SET", nargs="+", help="indicator sets (.ind) or folders")
    ch.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")

    te = sub.add_parser("test", help="run golden cases (*.cases.yaml) next to sets",
                        description="Run golden cases: facts → expected scores, total, grade "
                                    "or error. Failures are shown as a diff.")
    te.add_argument("paths", metavar="PATH", nargs="+",
                    help="case files, sets (their NAME.cases.yaml), or folders to search")

    pr = sub.add_parser("props", help="property-check sets with generated facts",
                        description="Generate facts from the declarations and check that "
                                    "every leaf and group stays within [0, weight], that no "
                                    "valid facts fail, and that `expect` promises hold.")
    pr.add_argument("sets", metavar="SET", nargs="+", help="indicator sets (.ind) or folders")
    pr.add_argument("--seed", type=int, default=0, help="random seed (default 0: repeatable)")
    pr.add_argument("--examples", type=int, default=200, metavar="N",
                    help="examples per property (default 200)")

    fm = sub.add_parser("fmt", help="rewrite .ind files in the canonical layout",
                        description="Rewrite .ind files in the canonical layout, keeping "
                                    "comments and texts as written.")
    fm.add_argument("files", metavar="FILE", nargs="+", help=".ind files or folders")
    fm.add_argument("--check", action="store_true",
                    help="change nothing; exit 6 if a file is not formatted")
    fm.add_argument("--diff", action="store_true", help="print what would change")
    fm.add_argument("--keywords", choices=("zh", "en"), default=None,
                    help="write the keywords in Chinese (权重, 满分, 每低于 …) or English; "
                         "default: as each file is written")

    fa = sub.add_parser("facts", help="write a facts template to fill in for a set",
                        description="Write a facts file to fill in: every fact the set reads, "
                                    "under its indicator or project-wide, with its Chinese "
                                    "label, type, allowed values and range (YAML with the "
                                    "评分标准 as comments, or an xlsx/csv sheet with dropdowns).")
    fa.add_argument("set", metavar="SET", help="the indicator set (.ind)")
    fa.add_argument("-o", "--output", metavar="FILE",
                    help="facts.yaml, facts.xlsx or facts.csv (by extension; default: YAML "
                         "on the terminal)")
    fa.add_argument("--projects", action="store_true",
                    help="one row per project and one column per fact (xlsx or csv), to fill "
                         "in many projects for `batch`")
    fa.add_argument("--from", dest="source", metavar="FACTS",
                    help="fill in the values of an existing facts file (convert it)")

    ba = sub.add_parser("batch", help="score many projects: a summary workbook, optional reports",
                        description="Score every project of folders of facts files and of "
                                    "many-project spreadsheets; write a summary (one row per "
                                    "project, every problem, grade counts, a score chart).")
    ba.add_argument("set", metavar="SET", help="the indicator set (.ind)")
    ba.add_argument("inputs", metavar="INPUT", nargs="+",
                    help="folders of facts files, facts files, or many-project .xlsx/.csv")
    ba.add_argument("-o", "--output", metavar="SUMMARY", required=True,
                    help="summary.xlsx, summary.html or summary.csv")
    ba.add_argument("--reports", metavar="DIR", help="also write one report per project here")
    ba.add_argument("--format", "-f", dest="report_format", default="docx",
                    choices=("docx", "xlsx", "html", "md"),
                    help="format of the --reports files (default docx)")
    ba.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="score in N local processes (default 1)")
    ba.add_argument("--scheduler", metavar="ADDRESS",
                    help="score on a Dask cluster (tcp://host:8786; needs the [cluster] extra)")
    ba.add_argument("--resume", action="store_true",
                    help="continue an interrupted run: skip the projects its journal holds")
    ba.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    di = sub.add_parser("diff", help="what changed between two versions of a set",
                        description="Compare two versions of a set: indicators added, removed "
                                    "and changed; with --facts, how each project's scores move.")
    di.add_argument("old", metavar="OLD", help="the earlier set (.ind)")
    di.add_argument("new", metavar="NEW", help="the later set (.ind)")
    di.add_argument("--facts", metavar="DIR", help="a folder of facts files to score with both")

    se = sub.add_parser("serve", help="a local web app: fill in facts, see scores live",
                        description="Start a local web app (评分网页) for the sets in a folder, "
                                    "the standard library and uploaded sets; prints its address.")
    se.add_argument("target", metavar="SET_OR_FOLDER", nargs="?", default=".",
                    help="a folder of .ind files or one .ind file (default: this folder)")
    se.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    se.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this computer only)")

    sub.add_parser("lsp", help="the language server for editors (LSP over stdin/stdout)",
                   description="Run the language server (Language Server Protocol over "
                               "stdin/stdout) for VS Code, Vim/Neovim and other editors: "
                               "diagnostics, hover, completion, definitions, outline, "
                               "formatting. See docs/editors.md.")

    from .draft_commands import add_parsers
    add_parsers(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from . import messages

    argv = list(sys.argv[1:] if argv is None else argv)
    # The help is built before the arguments are read: its language comes from a
    # `--lang` written anywhere on the line, INDICATOR_LANG, or the locale.
    help_lang = messages.resolve(messages.requested(messages.lang_in_argv(argv)))
    with messages.argparse_language(help_lang):
        parser = _parser()
        messages.add_lang_option(parser)
        if help_lang == "zh":
            messages.localize_help(parser)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    bad = messages.bad_environment()
    if bad is not None and args.lang is None:
        print(messages.say(help_lang, f"indicator-eval: {messages.ENV_LANG}={bad!r} names no "
                                      "language; use auto, zh or en",
                           f"indicator-eval：{messages.ENV_LANG}={bad!r} 不是可用的语言，"
                           "请用 auto、zh 或 en"), file=sys.stderr)
        return EXIT_USAGE
    args.lang = messages.requested(args.lang)
    args.shown = messages.resolve(args.lang)  # refined once a set's spelling is known
    try:
        command = {"eval": _eval, "check": _check, "test": _test, "props": _props,
                   "fmt": _fmt, "diff": _diff, "serve": _serve, "lsp": _lsp, "init": _init,
                   "import": _import, "facts": _facts, "batch": _batch}[args.command]
        return command(args)
    except IndicatorError as exc:
        _print_diagnostics(exc.diagnostics, quiet=False, lang=_error_lang(args))
        return exc.exit_code
    except BrokenPipeError:
        # The reader stopped (`… | head`): nothing is wrong; say nothing more.
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # pragma: no cover - a bug; say so without a traceback
        if os.environ.get("INDICATOR_DEBUG"):
            raise
        print(_say(args.shown,
                   f"indicator-eval: internal error: {exc.__class__.__name__}: {exc}\n"
                   "  this is a bug in indicator-eval; run again with INDICATOR_DEBUG=1 to see "
                   "where it happened, and report it",
                   f"indicator-eval：内部错误：{exc.__class__.__name__}: {exc}\n"
                   "  这是 indicator-eval 的缺陷；请设置 INDICATOR_DEBUG=1 再运行一次，看清出错的"
                   "位置，并报告此问题"), file=sys.stderr)
        return EXIT_INTERNAL


def _error_lang(args) -> str:
    """The language of an error that ended a command: the set's, when the command names
    one and got no further than its arguments (a usage error of `eval`)."""
    if not getattr(args, "refined", False) and args.lang == "auto":
        path = getattr(args, "set", None)
        if isinstance(path, str) and path != STDIO and Path(path).is_file():
            from .messages import spelling_of_file

            return _lang(args, spelling_of_file(path))
    return args.shown


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


STDIO = "-"


def _load_set_arg(path: str, args=None):
    """The set named on the command line; ``args.shown`` follows its spelling (also when
    it has errors, so they are shown in the language it is written in)."""
    from .api import loads_set
    from .errors import SetError
    from .parser import decode_source, read_source

    text = None
    try:
        if path == STDIO:
            text = decode_source(sys.stdin.buffer.read(), "<stdin>")
        else:
            text = read_source(path)
        scorer = loads_set(text, "<stdin>" if path == STDIO else path)
    except SetError as exc:
        if args is not None:
            args.shown = _lang(args, _spelling_of_error(exc, text,
                                                       None if path == STDIO else path))
            args.refined = True
        raise
    if args is not None:
        args.shown, args.refined = _lang(args, scorer.checked.file.spelling), True
    return scorer


def _load_facts_arg(path: str):
    from .facts import load_facts, loads_facts

    if path == STDIO:
        return loads_facts(sys.stdin.buffer.read(), "<stdin>", ".yaml")
    return load_facts(path)


def _lang(args, spelling: Optional[str] = None) -> str:
    """The language to show a file's messages in: ``--lang``, or its spelling / the locale."""
    from .messages import resolve

    return resolve(getattr(args, "lang", "auto"), spelling)


def _spelling_of_error(exc, text, path=None):
    from .messages import spelling_of_error as of

    return of(exc, text, path)


def _say(lang: str, english: str, chinese: str) -> str:
    return chinese if lang == "zh" else english


def _print_diagnostics(diagnostics: List[Diagnostic], quiet: bool, lang: str = "en") -> None:
    for d in diagnostics:
        if quiet and not d.is_error:
            continue
        print(d.render(lang), file=sys.stderr)


def _summary(diagnostics, lang: str = "en") -> str:
    from .messages import summary

    return summary(diagnostics, lang)


def _check(args) -> int:
    from .api import check_text
    from .errors import SetError
    from .parser import read_source

    worst = EXIT_OK
    for path in _ind_files(args.sets):
        text = None
        try:
            text = read_source(path)
            checked = check_text(text, path)
            diagnostics = checked.diagnostics
            lang = _lang(args, checked.file.spelling)
        except FileAccessError as exc:
            _print_diagnostics(exc.diagnostics, False, _lang(args))
            worst = max(worst, EXIT_FILE_ERROR)
            continue
        except SetError as exc:
            diagnostics = exc.diagnostics
            lang = _lang(args, _spelling_of_error(exc, text, path))
        _print_diagnostics(diagnostics, args.quiet, lang)
        errors = [d for d in diagnostics if d.is_error]
        found = _summary(diagnostics, lang)
        if errors:
            worst = max(worst, EXIT_SET_INVALID)
            print(f"{path}{_say(lang, ': ', '：')}{found}", file=sys.stderr)
        elif not checked.roots:
            tree = checked.file
            rules, values = len(tree.rule_defs), len(tree.lets)
            print(_say(lang, f"{path}: ok — a library of {rules} rules and {values} values",
                       f"{path}：通过 — 规则库，{rules} 条规则、{values} 个中间值")
                  + (_say(lang, f"; {found}", f"；{found}") if diagnostics else ""))
        else:
            count, leaves = len(list(checked.walk())), len(checked.leaves())
            total = checked.total
            print(_say(lang, f"{path}: ok — {count} indicators ({leaves} leaves), total {total}",
                       f"{path}：通过 — {count} 个指标（{leaves} 个末级指标），总分 {total}")
                  + (_say(lang, f"; {found}", f"；{found}") if diagnostics else ""))
            for code, notes in checked.origins.items():  # an extended set: who changed what
                if lang == "zh":
                    print(f"  {code}：{'；'.join(_cn_of(note) for note in notes)}")
                else:
                    print(f"  {code}: {'; '.join(notes)}")
        if not errors:
            for written, found_as, how in checked.imports:
                shown = (_FOUND_HOW_CN if lang == "zh" else _FOUND_HOW).get(how, how)
                print(_say(lang, f"  {written!r} → {found_as} ({shown})",
                           f"  {written!r} → {found_as}（{shown}）"))
    return worst


_FOUND_HOW = {"relative": "relative to the file", "INDICATOR_PATH": "on INDICATOR_PATH",
              "library": "standard library"}
_FOUND_HOW_CN = {"relative": "相对于本文件", "INDICATOR_PATH": "在 INDICATOR_PATH 中找到",
                 "library": "标准库"}


def _cn_of(text):
    from .errors import cn_of as of

    return of(text)


def _ind_files(paths) -> List[str]:
    out = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.rglob("*.ind")))
        else:
            out.append(raw)
    return out


def _test(args) -> int:
    from .casefiles import run

    passed, failed, lang = run(args.paths, sys.stdout, args.lang)
    print(_say(lang, f"{passed} passed, {failed} failed",
               f"{passed} 个通过，{failed} 个未通过"))
    return EXIT_CHECKS_FAILED if failed else EXIT_OK


def _props(args) -> int:
    from .api import IndicatorSet, check_text
    from .parser import read_source
    from .properties import check_set

    worst = EXIT_OK
    problems = 0
    for path in _ind_files(args.sets):
        text = None
        try:
            text = read_source(path)
            checked = check_text(text, path)
        except IndicatorError as exc:
            _print_diagnostics(exc.diagnostics, quiet=True,
                               lang=_lang(args, _spelling_of_error(exc, text, path)))
            worst = max(worst, exc.exit_code)
            continue
        lang = _lang(args, checked.file.spelling)
        if any(d.code != "range" for d in checked.errors):
            _print_diagnostics(checked.errors, quiet=True, lang=lang)
            worst = max(worst, EXIT_SET_INVALID)
            continue
        # A score-range error is exactly what props reports, with a counterexample.
        scorer = IndicatorSet(checked)
        failures = check_set(scorer, examples=args.examples, seed=args.seed)
        if failures:
            problems += len(failures)
            worst = max(worst, EXIT_CHECKS_FAILED)
            many = len(failures)
            print(_say(lang, f"{path}: {many} propert{'y fails' if many == 1 else 'ies fail'}",
                       f"{path}：{many} 项性质不成立"))
            for failure in failures:
                print("  " + failure.render(lang).replace("\n", "\n  "))
        else:
            leaves = len(scorer.checked.leaves())
            print(_say(lang, f"{path}: ok ({leaves} leaves, seed {args.seed}, "
                             f"{args.examples} examples each)",
                       f"{path}：通过（{leaves} 个末级指标，随机种子 {args.seed}，"
                       f"每项 {args.examples} 个样例）"))
    return worst


def _fmt(args) -> int:
    import difflib

    from .formatter import format_text
    from .messages import text_spelling
    from .parser import read_source

    worst = EXIT_OK
    for path in _ind_files(args.files):
        text = None
        try:
            text = read_source(path)
            formatted = format_text(text, path, args.keywords)
        except IndicatorError as exc:
            _print_diagnostics(exc.diagnostics, quiet=True,
                               lang=_lang(args, _spelling_of_error(exc, text, path)))
            worst = max(worst, exc.exit_code)
            continue
        if formatted == text:
            continue
        lang = _lang(args, text_spelling(text))
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(True), formatted.splitlines(True), path,
                path + _say(lang, " (formatted)", "（规范格式）")))
        if args.check:
            print(_say(lang, f"{path}: not formatted", f"{path}：未按规范格式排版"),
                  file=sys.stderr)
            worst = max(worst, EXIT_CHECKS_FAILED)
        elif not args.diff:
            write_atomic(Path(path), formatted.encode("utf-8"))
            print(_say(lang, f"formatted {path}", f"已排版 {path}"), file=sys.stderr)
    return worst


def _facts(args) -> int:
    from .fact_templates import template_command

    return template_command(args)


def _batch(args) -> int:
    from .batch import batch_command

    return batch_command(args)


def _diff(args) -> int:
    from .diffing import score_changes, structure_changes

    old = _load_set_arg(args.old, args)
    new = _load_set_arg(args.new, args)
    lang = args.shown
    changes = structure_changes(old, new)
    many = len(changes)
    print(_say(lang, f"{args.old} → {args.new}: {many} change{'s' if many != 1 else ''}",
               f"{args.old} → {args.new}：{many} 处改动"))
    for change in changes:
        print("  " + change.render(lang))
    if args.facts:
        folder = Path(args.facts)
        if not folder.is_dir():
            raise FileAccessError(Diagnostic(ERROR, "not a folder", file=args.facts,
                                             hint="--facts takes a folder of facts files",
                                             message_cn="不是文件夹",
                                             hint_cn="--facts 须是一个放有数据文件的文件夹"))
        print()
        for line in score_changes(old, new, folder, lang):
            print(line)
    return EXIT_OK


def _serve(args) -> int:
    from .web import serve

    return serve(Path(args.target), host=args.host, port=args.port)


def _lsp(args) -> int:
    if args.lang != "auto":  # the server reads it for each buffer it checks
        from .messages import ENV_LANG

        os.environ[ENV_LANG] = args.lang
    try:
        from .lsp import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs"):
            raise
        print("indicator-eval lsp：语言服务器需要 pygls，请先安装：\n"
              "    pip install 'indicator-dsl[lsp]'\n"
              "indicator-eval lsp: the language server needs pygls; install it with\n"
              "    pip install 'indicator-dsl[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    return serve()


def _init(args) -> int:
    from .draft_commands import run_init

    return run_init(args)


def _import(args) -> int:
    from .draft_commands import run_import

    return run_import(args)


def _eval(args) -> int:
    from .render import BINARY_FORMATS, FORMATS, render_user_template

    if args.set == STDIO and args.facts == STDIO:
        raise UsageError(Diagnostic(ERROR, "the set and the facts cannot both come from "
                                    "standard input", hint="give one of them as a file",
                                    message_cn="指标体系和数据不能都从标准输入读取",
                                    hint_cn="请把其中一个作为文件给出"))
    to_stdout = args.output == STDIO
    output = Path(args.output) if args.output and not to_stdout else None
    inputs = [args.set, args.facts] + ([args.template] if args.template else [])
    if output is not None:
        _guard_output(output, inputs)
    fmt = args.format or (_format_of(output) if output else "table")
    if fmt in BINARY_FORMATS and output is None and not to_stdout and not args.template:
        raise UsageError(Diagnostic(ERROR, f"--format {fmt} writes a binary file",
                                    hint=f"give the file to write: -o report.{fmt} "
                                         "(or -o - to send it to standard output)",
                                    message_cn=f"--format {fmt} 生成的是二进制文件",
                                    hint_cn=f"请给出要写入的文件：-o report.{fmt}"
                                            "（或用 -o - 输出到标准输出）"))
    template = _read_template(args.template) if args.template else None
    scorer = _load_set_arg(args.set, args)
    lang = args.shown
    facts = _load_facts_arg(args.facts)
    evaluation = scorer.evaluate(facts)
    shown, pending = evaluation.diagnostics, []
    if not evaluation.ok:  # every missing fact at once, in Chinese (missing.py)
        from .missing import draft, find_pending, other_diagnostics

        pending = find_pending(scorer, facts, evaluation)
        shown = other_diagnostics(evaluation, pending)
        if args.draft and pending:
            evaluation = draft(evaluation, pending)
    if template is not None:
        autoescape = args.template.endswith((".html.j2", ".htm.j2", ".html", ".htm"))
        text = render_user_template(evaluation, template, autoescape, path=args.template)
    else:
        text = FORMATS[fmt](evaluation)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    _print_diagnostics(shown, args.quiet, lang)
    if pending:
        from .missing import missing_text

        print(missing_text(pending, facts.path, args.set, lang), file=sys.stderr)
    failed = not evaluation.ok
    if failed and args.draft and pending:
        if output is None:
            sys.stdout.write(text if isinstance(text, str) else text.decode("utf-8", "replace"))
        else:
            write_atomic(output, data)
            print(_say(lang, f"indicator-eval: wrote the draft {output} (待补充: {len(pending)} "
                             "indicators)", f"indicator-eval：已写入评分表草稿 {output}"
                             f"（待补充 {len(pending)} 项指标）"), file=sys.stderr)
        return EXIT_EVALUATION_FAILED
    if failed:
        found = _summary(evaluation.diagnostics, lang)
        print(_say(lang, f"indicator-eval: {found}; the result is incomplete",
                   f"indicator-eval：{found}；评分结果不完整"), file=sys.stderr)
        if output is not None:
            print(_say(lang, f"indicator-eval: {output} was not written",
                       f"indicator-eval：未写入 {output}"), file=sys.stderr)
        elif not isinstance(text, bytes):
            sys.stdout.write(text)
        errors = [d for d in shown if d.is_error]  # a missing fact fails the indicator
        facts_errors = [d for d in errors if d.code == "facts"]
        return EXIT_FACTS_INVALID if facts_errors and len(facts_errors) == len(
            errors) else EXIT_EVALUATION_FAILED
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    else:
        replaced = output.exists()
        write_atomic(output, data)
        print(_say(lang, f"indicator-eval: {'replaced' if replaced else 'wrote'} {output}",
                   f"indicator-eval：{'已替换' if replaced else '已写入'} {output}"),
              file=sys.stderr)
    return EXIT_OK


_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html",
               ".htm": "html", ".xlsx": "xlsx", ".docx": "docx", ".txt": "table"}


def _format_of(output: Path) -> str:
    """The report format an output file's extension names; anything else is a usage error
    (a .pdf holding plain text would be a file nobody can open)."""
    fmt = _EXTENSIONS.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_EXTENSIONS))
        raise UsageError(Diagnostic(
            ERROR, f"cannot tell the report format from {output.name!r}", file=str(output),
            hint=f"use one of the extensions {known}, or say --format "
                 f"({', '.join(OUTPUT_FORMATS)})",
            message_cn=f"无法从文件名“{output.name}”判断报告格式",
            hint_cn=f"请使用扩展名 {known} 之一，或用 --format 指定"))
    return fmt


class UsageError(IndicatorError):
    exit_code = EXIT_USAGE


def _read_template(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileAccessError(Diagnostic(ERROR, f"cannot read the template: "
                                         f"{exc.strerror or exc}", file=path,
                                         message_cn=f"无法读取模板：{exc.strerror or exc}",
                                         hint="check the path", hint_cn="请检查路径")) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(Diagnostic(ERROR, "the template is not UTF-8 text", file=path,
                                    hint="save it as UTF-8", message_cn="模板不是 UTF-8 文本",
                                    hint_cn="请另存为 UTF-8 编码")) from None


def _guard_output(output: Path, inputs: List[str]) -> None:
    for path in inputs:
        try:
            if output.exists() and os.path.samefile(output, path):
                raise FileAccessError(Diagnostic(
                    ERROR, f"refusing to write the report over the input file {path}",
                    file=str(output), hint="choose another -o file",
                    message_cn=f"不会用报告覆盖输入文件 {path}",
                    hint_cn="请用 -o 指定另一个文件"))
        except OSError:
            continue
    if output.exists() and output.is_dir():
        raise FileAccessError(Diagnostic(ERROR, "is a directory", file=str(output),
                                         hint="give a file name, e.g. -o report.md",
                                         message_cn="这是一个文件夹",
                                         hint_cn="请给出文件名，如 -o report.md"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename, so a failed run never
    leaves a half-written file or destroys the previous one."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileAccessError(Diagnostic(ERROR, f"folder {folder} does not exist",
                                         file=str(path), hint="create it first",
                                         message_cn=f"文件夹 {folder} 不存在",
                                         hint_cn="请先建立该文件夹"))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileAccessError(Diagnostic(ERROR, f"cannot write: {exc.strerror}",
                                         file=str(path),
                                         message_cn=f"无法写入：{exc.strerror}")) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
