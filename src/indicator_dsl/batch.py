"""Batch scoring: many projects in, one summary out — locally, in processes, or on Dask.

The pipeline streams: inputs (folders of facts files, many-project spreadsheets) are
read item by item, scored in chunks (in this process, in ``--jobs`` local processes, or
on a Dask cluster), and every result is appended to a **journal** (one JSON line per
project, flushed as it comes) and to the summary being written. Nothing is kept per
project but a row of the summary, so memory stays bounded for any number of
projects. The summary — one row per project, every problem, grade counts and a score
distribution chart — is written to a temporary file and renamed over the output at
the end (atomically); an interrupted run leaves its journal, which ``--resume``
reads to skip the projects already scored.

A worker compiles the set once (a process's initializer, a Dask worker plugin, or a
cache keyed by the set's fingerprint) and receives projects as plain data: facts
files by path (or content, for remote workers) and spreadsheet rows as cell tuples
with the column plan resolved once per header.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import time
from array import array
from bisect import bisect_left
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import attrs

from .errors import ERROR, Diagnostic, FileAccessError, IndicatorError
from .evaluator import NOT_APPLICABLE, SCORED
from .numbers import plain

STATUS_CN = {"ok": "已评分", "incomplete": "待补充", "failed": "评分失败", "unreadable": "无法读取"}
SEVERITY_CN = {"error": "错误", "warning": "警告", "missing": "待补充"}
FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".xlsx", ".csv")
TABLE_SUFFIXES = (".xlsx", ".csv")
ROWS_PER_CHUNK = 256
FILES_PER_CHUNK = 16
JOURNAL_FORMAT = "indicator-eval batch journal"


# ------------------------------------------------------------------ results


@attrs.frozen
class Problem:
    """One problem of one project, as the summary's 问题 sheet lists it."""

    code: str  # the indicator, or "" for the project as a whole
    severity: str  # "error", "warning" or "missing"
    message: str  # in Chinese where a Chinese wording exists
    location: str = ""  # file:line:col or file:Sheet!D7
    hint: str = ""


@attrs.frozen
class BatchResult:
    """One project's scores, as :meth:`IndicatorSet.score_many` yields them."""

    index: int  # position in the input, from 0
    name: str
    status: str  # "ok", "incomplete" (facts missing), "failed", "unreadable"
    scores: Dict[str, Optional[Decimal]]  # every indicator's score by code (None: not scored)
    total: Optional[Decimal]
    grade: Optional[str]
    warnings: int
    problems: Tuple[Problem, ...] = ()
    source: str = ""
    shown: Dict[str, str] = attrs.field(factory=dict, repr=False)  # 4.8, 不适用, 待补充, —

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def result_of(record: dict, codes: List[str], index: int) -> BatchResult:
    shown = dict(zip(codes, record["s"])) if record.get("s") else {}
    scores = {code: _number(text) for code, text in shown.items()}
    problems = tuple(Problem(*p) for p in record.get("p", ()))
    return BatchResult(index, record.get("name") or "", record["st"], scores,
                       _number(record.get("t")), record.get("g"), record.get("w", 0), problems,
                       record.get("src", ""), shown)


def _number(text) -> Optional[Decimal]:
    if text is None:
        return None
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


# ------------------------------------------------------------------ the set in a worker

_SETS: Dict[str, Any] = {}  # this process's compiled sets, by fingerprint
COMPILES: Dict[str, int] = {}  # how many times each set was compiled here (for tests)


def set_fingerprint(scorer) -> str:
    """The set's identity: a hash of every source text it was linked from."""
    digest = hashlib.sha256()
    source = scorer.checked.source
    files = getattr(source, "files", {source.path: source})
    for path in sorted(files):
        digest.update(path.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(files[path].text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def set_blob(scorer) -> bytes:
    """The checked set, pickled: what a worker compiles (it needs no files of the set)."""
    return pickle.dumps(scorer.checked, protocol=pickle.HIGHEST_PROTOCOL)


def _cache():
    """The compiled-set cache of the current worker: the Dask worker's own when running
    in one (threads of one process may be several workers), else this process's."""
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            worker = get_worker()
        except (ImportError, ValueError):
            worker = None
        if worker is not None:
            return worker_cache(worker)
    return _SETS, COMPILES


def worker_cache(worker):
    """(sets, compile counts) kept on a Dask worker object."""
    if not hasattr(worker, "_indicator_sets"):
        worker._indicator_sets = {}
        worker._indicator_compiles = {}
    return worker._indicator_sets, worker._indicator_compiles


def scorer_for(key: str, blob: Optional[bytes] = None, cache=None):
    """The set ``key`` compiled once in this worker (from ``blob`` the first time)."""
    sets, compiles = cache or _cache()
    scorer = sets.get(key)
    if scorer is None:
        if blob is None:
            raise RuntimeError(f"indicator set {key[:12]} is not loaded in this worker")
        from .api import IndicatorSet

        scorer = sets[key] = IndicatorSet(pickle.loads(blob))
        compiles[key] = compiles.get(key, 0) + 1
    return scorer


def _remember(key: str, scorer) -> None:
    sets, _ = _cache()
    sets.setdefault(key, scorer)


# ------------------------------------------------------------------ scoring one project


def _score(scorer, facts, form: str, source: str, name: str, report=None) -> dict:
    """A project's record: scores as shown, total, grade, status and problems."""
    evaluation = scorer.evaluate(facts)
    set_diagnostics = _set_diagnostics(scorer)
    if evaluation.ok:
        # The common case, kept lean: only the shown numbers and the warnings.
        brief = evaluation.brief()  # no result objects made for a compact evaluation
        scores = [_shown(score) if status == SCORED and score is not None else
                  ("不适用" if status == NOT_APPLICABLE else "—")
                  for status, score, _ in brief]
        problems = [("", "warning", d.message_cn, d.location, "")
                    for d in evaluation.diagnostics if _own_warning(d, set_diagnostics)]
        for code, (_, _, warnings) in zip(codes_of(scorer), brief):
            if warnings:
                problems.extend((code, "warning", message, "", "") for message in warnings)
        record = {"name": name, "src": source, "st": "ok", "s": scores,
                  "t": _shown(evaluation.total) if evaluation.total is not None else None,
                  "g": evaluation.grade, "w": len(problems), "p": problems}
        if report is not None:
            record["r"] = report(evaluation)
        return record
    return _score_incomplete(scorer, facts, evaluation, form, source, name, set_diagnostics)


# Warnings an indicator carries itself (a flag, a published score that differs): listed
# once, with the indicator, not again as a diagnostic of the project.
_PER_INDICATOR = ("published", "flag")


def codes_of(scorer) -> List[str]:
    """Every indicator's code in the tree's order (kept with the scorer: asked per row)."""
    codes = getattr(scorer, "_batch_codes", None)
    if codes is None:
        codes = scorer._batch_codes = scorer.codes
    return codes


def _own_warning(d, set_diagnostics) -> bool:
    return bool(d.message_cn) and d.code not in _PER_INDICATOR and \
        id(d) not in set_diagnostics


def _score_incomplete(scorer, facts, evaluation, form, source, name, set_diagnostics) -> dict:
    from .missing import PENDING, draft, find_pending, other_diagnostics

    pending = find_pending(scorer, facts, evaluation)
    shown_ev = draft(evaluation, pending) if pending else evaluation
    scores = []
    for r in shown_ev.indicators:
        if r.status == SCORED and r.score is not None:
            scores.append(_shown(r.score))
        elif r.status == NOT_APPLICABLE:
            scores.append("不适用")
        elif r.status == PENDING:
            scores.append("待补充")
        else:
            scores.append("—")
    problems = []
    errors_of = {id(r.error): r.code for r in evaluation.indicators if r.error is not None}
    failed = False
    for d in other_diagnostics(evaluation, pending):
        if id(d) in set_diagnostics:
            continue
        if d.is_error:
            failed = True
            problems.append((errors_of.get(id(d), ""), "error", d.message_cn or d.message,
                             d.location, (d.hint_cn or "") if d.message_cn else (d.hint or "")))
        elif _own_warning(d, set_diagnostics):
            problems.append(("", "warning", d.message_cn, d.location, ""))
    for leaf in pending:
        for m in leaf.missing:
            where = source
            if m.blank is not None:
                where = m.blank.file if m.blank.line is None else \
                    f"{m.blank.file}:{m.blank.line}:{m.blank.column}"
            problems.append((leaf.code, "missing", m.message_cn(form), where, ""))
    for r in evaluation.indicators:
        for message in r.warnings:
            problems.append((r.code, "warning", message, "", ""))
    warnings = sum(1 for p in problems if p[1] == "warning")
    return {"name": name, "src": source, "st": "failed" if failed else "incomplete",
            "s": scores, "t": _shown(evaluation.total) if evaluation.total is not None else None,
            "g": evaluation.grade, "w": warnings, "p": problems}


_SHOWN: Dict[Decimal, str] = {}


def _shown(value: Decimal) -> str:
    """plain(value), remembered: a batch shows the same few scores again and again."""
    text = _SHOWN.get(value)
    if text is None:
        if len(_SHOWN) > 50_000:
            _SHOWN.clear()
        text = _SHOWN[value] = plain(value)
    return text


def _set_diagnostics(scorer) -> set:
    """Ids of the set's own warnings, which every evaluation repeats (kept out of a
    project's problems)."""
    found = getattr(scorer, "_batch_set_diagnostics", None)
    if found is None:
        found = {id(d) for d in scorer.checked.diagnostics}
        scorer._batch_set_diagnostics = found
    return found


def _unreadable(error: IndicatorError, source: str, name: str, status="unreadable",
                codes=()) -> dict:
    codes = list(codes) + [""] * (len(error.diagnostics) - len(codes))
    problems = [(code, "error", d.message_cn or d.message, d.location,
                 (d.hint_cn or "") if d.message_cn else (d.hint or ""))
                for code, d in zip(codes, error.diagnostics)]
    return {"name": name, "src": source, "st": status, "s": None, "t": None, "g": None,
            "w": 0, "p": problems}


def _score_items(scorer, items: list, options: dict) -> List[dict]:
    """Score one chunk of work items (see :func:`_items`) in a worker."""
    from .facts import Facts, load_facts, loads_facts
    from .missing import form_of
    from .tabular import build_row

    out = []
    plans = options.get("plans", {})
    for item in items:
        kind = item[0]
        report = _reporter(options, item) if options.get("reports") else None
        if kind == "row":
            _, table_id, number, cells, key, fp, stem = item
            row = build_row(plans[table_id], number, cells)
            if row.error is not None:
                record = _unreadable(row.error, row.source, row.name, "failed",
                                     row.error_codes)
            else:
                record = _score(scorer, row.facts, "columns", row.source, row.name, report)
        elif kind == "file":
            _, path, data, key, fp, stem = item
            try:
                facts = loads_facts(data, path, Path(path).suffix.lower()) if data is not None \
                    else load_facts(path)
            except IndicatorError as exc:
                out.append(dict(_unreadable(exc, path, Path(path).stem), k=key, fp=fp))
                continue
            name = facts.project.get("name")
            name = str(name.value) if name is not None and name.value is not None else \
                Path(path).stem
            record = _score(scorer, facts, form_of(path), path, name, report)
        elif kind == "facts":  # score_many: a Facts or a plain mapping
            _, value, key = item
            fp = None
            try:
                facts = value if isinstance(value, Facts) else Facts.from_mapping(dict(value))
            except IndicatorError as exc:
                out.append(dict(_unreadable(exc, f"#{key}", ""), k=key))
                continue
            name = facts.project.get("name")
            name = str(name.value) if name is not None and name.value is not None else ""
            record = _score(scorer, facts, "yaml", facts.path, name)
        else:  # an input the parent could not open: its record is already made
            out.append(item[1])
            continue
        record["k"] = key
        if fp is not None:
            record["fp"] = fp
        out.append(record)
    return out


def _reporter(options: dict, item):
    """A function writing (or, for remote workers, returning) the item's report."""
    from .render import FORMATS

    fmt = options["format"]
    renderer = FORMATS["markdown" if fmt == "md" else fmt]
    folder = options["reports"]
    stem = item[-1]
    inline = options.get("inline_reports", False)

    def write(evaluation):
        data = renderer(evaluation)
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        name = f"{stem}.{fmt}"
        if inline:
            return [name, data.hex()]
        from .cli import write_atomic

        write_atomic(Path(folder) / name, data)
        return name
    return write


# Local processes: the set is compiled once per process, by the pool's initializer.
_WORKER_KEY: Optional[str] = None


def _init_process(key: str, blob: bytes) -> None:
    import signal

    global _WORKER_KEY
    # The parent handles Ctrl-C and `kill` (and then stops the pool): a worker just ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER_KEY = key
    scorer_for(key, blob)


def _process_chunk(items: list, options: dict) -> List[dict]:
    return _score_items(scorer_for(_WORKER_KEY), items, options)


# ------------------------------------------------------------------ executors


class _Local:
    """Scores in this process, one chunk when its result is asked for."""

    limit = 1

    def __init__(self, scorer, key):
        _remember(key, scorer)
        self.scorer = scorer

    def submit(self, items, options):
        return lambda: _score_items(self.scorer, items, options)

    def close(self, abort=False):
        pass


class _Processes:
    def __init__(self, jobs: int, key: str, blob: bytes):
        import multiprocessing
        import threading

        # fork where it is safe (Linux, no other thread that could hold a lock): quick
        # to start and needs no importable main script; spawn elsewhere (Windows, where
        # finance bureaus work, and macOS) and in threaded programs.
        method = "fork" if sys.platform.startswith("linux") and \
            threading.active_count() == 1 else "spawn"
        context = multiprocessing.get_context(method)
        self.pool = context.Pool(jobs, initializer=_init_process, initargs=(key, blob))
        self.limit = jobs * 3

    def submit(self, items, options):
        result = self.pool.apply_async(_process_chunk, (items, options))
        return lambda: result.get()

    def close(self, abort=False):
        if abort:
            self.pool.terminate()
        else:
            self.pool.close()
        self.pool.join()


def _executor(scorer, key: str, jobs: int, client):
    """Where the chunks are scored: a Dask cluster, local processes, or this process."""
    if client is not None:
        from .cluster import DaskExecutor

        return DaskExecutor(client, scorer)
    if jobs > 1:
        return _Processes(jobs, key, set_blob(scorer))
    return _Local(scorer, key)


def _ordered(executor, chunks: Iterable[tuple], options: dict) -> Iterator[Tuple[tuple, list]]:
    """(chunk, results) in input order, with a bounded number of chunks in flight."""
    waiting = deque()
    for chunk in chunks:
        items, done = chunk
        todo = [item for item, record in zip(items, done) if record is None]
        waiting.append((chunk, executor.submit(todo, options) if todo else (lambda: [])))
        while len(waiting) > executor.limit - 1 and waiting:
            chunk, result = waiting.popleft()
            yield chunk, result()
    while waiting:
        chunk, result = waiting.popleft()
        yield chunk, result()


# ------------------------------------------------------------------ Python API


def score_many(scorer, projects: Iterable, *, jobs: int = 1, client=None,
               chunk_size: int = 64) -> Iterator[BatchResult]:
    """Score ``projects`` (``Facts`` or mappings shaped like a facts file), yielding one
    :class:`BatchResult` per project in input order, without keeping them: memory stays
    bounded however many there are. ``jobs`` > 1 scores in local processes; ``client``
    (a ``distributed.Client``) on a Dask cluster. The results are the same either way."""
    key = set_fingerprint(scorer)
    codes = [node.code for node in scorer.checked.walk()]
    executor = _executor(scorer, key, jobs, client)

    def chunks():
        chunk = []
        for index, value in enumerate(projects):
            chunk.append(("facts", value, index))
            if len(chunk) >= chunk_size:
                yield chunk, [None] * len(chunk)
                chunk = []
        if chunk:
            yield chunk, [None] * len(chunk)

    aborted = True
    try:
        for (items, _), records in _ordered(executor, chunks(), {}):
            for item, record in zip(items, records):
                yield result_of(record, codes, item[2])
        aborted = False
    finally:
        executor.close(abort=aborted)


# ------------------------------------------------------------------ inputs


@attrs.define
class _Source:
    """One input of the batch: a facts file, or a many-project sheet."""

    path: str
    table: Any = None  # tabular.ProjectTable for a many-project sheet
    error: Optional[IndicatorError] = None
    stem: str = ""


def _stem_text(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." or "\u4e00" <= ch <= "\u9fff" else "_"
                   for ch in text)
    return keep.strip("._")[:80] or "project"


def find_inputs(inputs: List[str], skip: Iterable[Path] = ()) -> List[Tuple[str, str]]:
    """(path, report stem) of every facts file and spreadsheet the inputs name, in order:
    folders are searched (sorted; hidden files, Office lock files and golden case files
    left out)."""
    skip = {p.resolve() for p in skip}
    out = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                rel = found.relative_to(path)
                if not found.is_file() or found.suffix.lower() not in FACTS_SUFFIXES:
                    continue
                if any(part.startswith((".", "~$")) for part in rel.parts) or \
                        found.name.endswith((".cases.yaml", ".cases.yml")) or \
                        found.resolve() in skip or found.name.endswith(".journal.jsonl"):
                    continue
                stem = _stem_text(str(rel.with_suffix("")).replace(os.sep, "_"))
                out.append((str(found), stem))
        elif path.is_file():
            out.append((raw, _stem_text(path.stem)))
        else:
            raise FileAccessError(Diagnostic(ERROR, "no such file or folder", file=raw,
                                             hint="give folders of facts files or "
                                                  "many-project .xlsx/.csv files",
                                             message_cn="找不到该文件或文件夹",
                                             hint_cn="请给出存放事实文件的文件夹，"
                                                     "或多项目的 .xlsx/.csv 表格"))
    return out


def _file_fp(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError:
        return "-"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _estimate(paths: List[Tuple[str, str]]) -> Optional[int]:
    """Roughly how many projects: files, plus rows of spreadsheets (for the progress bar)."""
    total = 0
    for path, _ in paths:
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            count = 0
            try:
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        count += block.count(b"\n")
            except OSError:
                count = 1
            total += max(count - 1, 1)
        elif suffix == ".xlsx":
            try:
                import openpyxl

                book = openpyxl.load_workbook(path, read_only=True)
                total += max((ws.max_row or 1) - 1 for ws in book.worksheets) or 1
                book.close()
            except Exception:  # the real read reports the problem
                total += 1
        else:
            total += 1
    return total


# ------------------------------------------------------------------ journal


class Journal:
    """The batch's durable record: a header line, then one JSON line per scored project,
    flushed as results come; a last line ``{"done": …}`` once the summary is written.

    On ``--resume`` it is read into a compact index (per sheet: sorted row numbers,
    fingerprints and file offsets in arrays), so a million done projects cost a few
    megabytes, and each skipped project's record is read back from its offset."""

    def __init__(self, path: Path, set_key: str, codes: List[str], resume: bool,
                 set_path: str):
        self.path = path
        self.files: Dict[str, Tuple[str, int]] = {}
        self.rows: Dict[str, tuple] = {}
        self.reused = 0
        self.resumed = False
        exists = path.exists()
        if exists and resume:
            self._load(set_key, codes)
            self.handle = open(path, "r+b")
            self.handle.seek(self._end)
            self.handle.truncate()
            self.resumed = True
        else:
            if exists and _journal_has_work(path):
                from .cli import UsageError

                raise UsageError(Diagnostic(
                    ERROR, f"an interrupted batch left its journal {path}",
                    file=str(path), hint="add --resume to continue it (projects already "
                    "scored are skipped), or delete the file to start over",
                    message_cn=f"上次批量评分中断，留下了进度记录 {path}",
                    hint_cn="加 --resume 接着评分（已评分的项目会跳过），或删除该文件从头开始"))
            self.handle = open(path, "wb")
            header = {"journal": JOURNAL_FORMAT, "version": 1, "set": set_path,
                      "set_key": set_key, "codes": codes}
            self.handle.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
            self.handle.flush()
        self._reader = open(path, "rb")
        self._last_sync = time.monotonic()

    def _load(self, set_key: str, codes: List[str]) -> None:
        from .cli import UsageError

        rows: Dict[str, tuple] = {}
        with open(self.path, "rb") as handle:
            first = handle.readline()
            try:
                header = json.loads(first)
            except ValueError:
                header = {}
            if header.get("journal") != JOURNAL_FORMAT:
                raise UsageError(Diagnostic(ERROR, "not a batch journal", file=str(self.path),
                                            hint="delete it to start over",
                                            message_cn="该文件不是批量评分的进度记录",
                                            hint_cn="删除该文件后从头开始"))
            if header.get("set_key") != set_key or header.get("codes") != codes:
                raise UsageError(Diagnostic(
                    ERROR, "the set changed since the interrupted run", file=str(self.path),
                    hint="scores of the two versions would be mixed: delete the journal and "
                    "run the batch again without --resume",
                    message_cn="中断之后指标体系已修改",
                    hint_cn="继续会混入两个版本的得分：请删除进度记录，不加 --resume 重新批量评分"))
            self._end = handle.tell()
            while True:
                offset = handle.tell()
                line = handle.readline()
                if not line:
                    break
                if not line.endswith(b"\n"):
                    break  # cut off by the interruption: scored again
                try:
                    record = json.loads(line)
                except ValueError:
                    break
                self._end = handle.tell()
                if "k" not in record or record.get("st") == "unreadable":
                    continue  # `done` lines; unreadable inputs are read again
                row = record.get("row")
                if row is None:
                    self.files[record["k"]] = (record.get("fp", ""), offset)
                else:
                    entry = rows.get(record["tab"])
                    if entry is None:
                        entry = rows[record["tab"]] = (array("q"), array("q"), array("q"))
                    entry[0].append(row)
                    entry[1].append(int(record.get("fp", 0)))
                    entry[2].append(offset)
        for table, (numbers, fps, offsets) in rows.items():
            # A later record of a row (scored again after a change) wins.
            order = sorted(range(len(numbers)), key=lambda i: (numbers[i], i))
            keep = [i for j, i in enumerate(order)
                    if j + 1 == len(order) or numbers[order[j + 1]] != numbers[i]]
            self.rows[table] = (array("q", (numbers[i] for i in keep)),
                                array("q", (fps[i] for i in keep)),
                                array("q", (offsets[i] for i in keep)))

    def done_file(self, key: str, fp: str) -> Optional[dict]:
        found = self.files.get(key)
        if found is None or found[0] != fp:
            return None
        return self._read(found[1])

    def done_row(self, table: str, row: int, fp: int) -> Optional[dict]:
        entry = self.rows.get(table)
        if entry is None:
            return None
        numbers, fps, offsets = entry
        i = bisect_left(numbers, row)
        if i == len(numbers) or numbers[i] != row or fps[i] != fp:
            return None
        return self._read(offsets[i])

    def _read(self, offset: int) -> dict:
        self._reader.seek(offset)
        self.reused += 1
        return json.loads(self._reader.readline())

    def write(self, records: List[dict]) -> None:
        if not records:
            return
        self.handle.write(b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"))
                                   .encode("utf-8") + b"\n" for r in records))
        self.handle.flush()  # a killed process loses nothing already written
        now = time.monotonic()
        if now - self._last_sync > 2:
            os.fsync(self.handle.fileno())
            self._last_sync = now

    def finish(self, count: int) -> None:
        self.write([{"done": True, "projects": count}])
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        for handle in (self.handle, self._reader):
            try:
                handle.close()
            except OSError:
                pass


def _journal_has_work(path: Path) -> bool:
    """Whether a journal holds projects of a run that did not finish (work a fresh run
    would throw away)."""
    try:
        with open(path, "rb") as handle:
            handle.readline()  # the header
            if not handle.readline():
                return False  # no project was scored
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().splitlines()
    except OSError:
        return False
    for line in reversed(tail):
        try:
            return not json.loads(line).get("done")
        except ValueError:
            continue  # a line cut off by the interruption
    return True


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".journal.jsonl")


# ------------------------------------------------------------------ the batch


@attrs.define
class BatchStats:
    """What the summary's 统计 part shows, gathered as rows stream by."""

    maximum: Decimal
    grades: List[str]
    projects: int = 0
    by_status: Dict[str, int] = attrs.Factory(dict)
    by_grade: Dict[str, int] = attrs.Factory(dict)
    bins: List[int] = attrs.Factory(lambda: [0] * 10)
    total_sum: Decimal = Decimal(0)
    scored: int = 0
    low: Optional[Decimal] = None
    high: Optional[Decimal] = None
    problems: int = 0

    def add(self, record: dict) -> None:
        self.projects += 1
        status = record["st"]
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.problems += len(record.get("p", ()))
        total = _number(record.get("t"))
        if total is None:
            return
        grade = record.get("g") or "（无等级）"
        self.by_grade[grade] = self.by_grade.get(grade, 0) + 1
        self.scored += 1
        self.total_sum += total
        self.low = total if self.low is None or total < self.low else self.low
        self.high = total if self.high is None or total > self.high else self.high
        if self.maximum > 0:
            index = int(total * 10 / self.maximum)
            self.bins[min(max(index, 0), 9)] += 1

    def bin_labels(self) -> List[str]:
        step = self.maximum / 10
        out = []
        for i in range(10):
            lo, hi = plain(step * i), plain(step * (i + 1))
            out.append(f"{lo}–{hi}" if i == 9 else f"{lo}–<{hi}")
        return out

    def grade_rows(self) -> List[Tuple[str, int]]:
        order = list(self.grades) + [g for g in self.by_grade if g not in self.grades]
        return [(g, self.by_grade.get(g, 0)) for g in order]

    @property
    def mean(self) -> Optional[Decimal]:
        if not self.scored:
            return None
        from .numbers import round_half_up

        return round_half_up(self.total_sum / self.scored, Decimal("0.01"))


@attrs.frozen
class BatchOutcome:
    """What a batch did: for the command's message and exit code."""

    stats: BatchStats
    output: Path
    journal: Path
    reused: int
    extra_outputs: Tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.stats.by_status.get("ok", 0) == self.stats.projects


def run_batch(scorer, inputs: List[str], output, *, reports: Optional[str] = None,
              report_format: str = "docx", jobs: int = 1, client=None, resume: bool = False,
              progress=None, set_path: str = "") -> BatchOutcome:
    """Score every project of ``inputs`` and write the summary ``output`` (.xlsx, .html
    or .csv); see the module's description. Raises IndicatorError for problems of the
    batch as a whole (no inputs, a journal of another set); a project's problems are
    in the summary."""
    from .summary import SUMMARY_SUFFIXES, unknown_format, writer_for

    output = Path(output)
    if output.suffix.lower() not in SUMMARY_SUFFIXES:
        raise unknown_format(output)
    codes = [node.code for node in scorer.checked.walk()]
    key = set_fingerprint(scorer)
    journal_file = journal_path(output)
    paths = find_inputs(inputs, skip=[output, journal_file,
                                      output.with_name(output.stem + ".problems.csv")])
    if not paths:
        raise FileAccessError(Diagnostic(ERROR, "no facts files found", file=" ".join(inputs),
                                         hint="folders are searched for .yaml, .yml, .json, "
                                              ".toml, .xlsx and .csv files",
                                         message_cn="没有找到事实文件",
                                         hint_cn="文件夹中查找的是 .yaml、.yml、.json、"
                                                 ".toml、.xlsx 和 .csv 文件"))
    if reports:
        try:
            Path(reports).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileAccessError(Diagnostic(ERROR, f"cannot create the folder: "
                                             f"{exc.strerror}", file=reports,
                                             message_cn=f"无法创建文件夹：{exc.strerror}",
                                             hint_cn="请检查路径和写入权限")) from None
    total = _estimate(paths) if progress is not None else None
    if progress is not None:
        progress.start(total)
    journal = Journal(journal_file, key, codes, resume, set_path)
    try:
        writer = writer_for(output, scorer)
    except BaseException:
        journal.close()
        raise
    stats = BatchStats(scorer.total, [g.label for g in scorer.checked.grades])
    executor = _executor(scorer, key, jobs, client)
    inline = client is not None
    options = {"reports": str(reports) if reports else None, "format": report_format,
               "inline_reports": inline, "plans": {}}
    sources = _Sources(paths, scorer, journal, inline, options)
    aborted = True
    try:
        for (items, done), records in _ordered(executor, sources.chunks(), options):
            fresh = iter(records)
            batch_records = []
            for item, record in zip(items, done):
                if record is None:
                    record = next(fresh)
                    if item[0] == "row":
                        record["tab"] = sources.table_key(item[1])
                        record["row"] = item[2]
                    if inline and record.get("r"):
                        record["r"] = _write_inline_report(reports, record["r"])
                    batch_records.append(record)
                stats.add(record)
                writer.add(record)
                if progress is not None:
                    progress.update(stats.projects)
            journal.write(batch_records)
        writer.finish(stats)
        journal.finish(stats.projects)
        aborted = False
    finally:
        executor.close(abort=aborted)
        sources.close()
        if aborted:
            writer.abort()
        journal.close()
        if progress is not None:
            progress.finish()
    return BatchOutcome(stats, output, journal_file, journal.reused, tuple(writer.extra))


def _write_inline_report(folder: str, entry) -> str:
    from .cli import write_atomic

    name, data = entry
    write_atomic(Path(folder) / name, bytes.fromhex(data))
    return name


class _Sources:
    """The batch's inputs as chunks of work items, skipping what the journal holds."""

    def __init__(self, paths, scorer, journal: Journal, inline: bool, options: dict):
        self.paths = paths
        self.scorer = scorer
        self.journal = journal
        self.inline = inline
        self.options = options
        self.tables: List[str] = []
        self.open = None

    def table_key(self, table_id: int) -> str:
        return self.tables[table_id]

    def chunks(self) -> Iterator[Tuple[list, list]]:
        from .tabular import ProjectTable, row_fingerprint

        files, done = [], []
        for path, stem in self.paths:
            suffix = Path(path).suffix.lower()
            if suffix in TABLE_SUFFIXES:
                try:
                    table = self.open = ProjectTable(path, path, self.scorer)
                except IndicatorError as exc:
                    record = dict(_unreadable(exc, path, Path(path).stem), k=path,
                                  fp=_file_fp(path))
                    files.append(("ready", record))
                    done.append(None)
                    continue
                if table.one_project is not None:
                    table.close()
                    self.open = None
                else:
                    if files:
                        yield files, done
                        files, done = [], []
                    yield from self._rows(table, path, stem, row_fingerprint)
                    continue
            fp = _file_fp(path)
            record = self.journal.done_file(path, fp) if self.journal.resumed else None
            data = None
            if self.inline and record is None:
                try:
                    data = Path(path).read_bytes()
                except OSError:
                    data = None  # the worker reports it
            files.append(("file", path, data, path, fp, stem))
            done.append(record)
            if len(files) >= FILES_PER_CHUNK:
                yield files, done
                files, done = [], []
        if files:
            yield files, done

    def _rows(self, table, path: str, stem: str, fingerprint):
        plan = table.plan
        table_key = f"{path}#{plan.sheet}" if plan.sheet else path
        table_id = len(self.tables)
        self.tables.append(table_key)
        self.options["plans"][table_id] = plan
        resumed = self.journal.resumed
        items, done = [], []
        for number, cells in table.raw_rows():
            cells = tuple(cells)
            fp = fingerprint(plan, cells)
            record = self.journal.done_row(table_key, number, fp) if resumed else None
            items.append(("row", table_id, number, cells, f"{table_key}!{number}", fp,
                          f"{stem}-{number}"))
            done.append(record)
            if len(items) >= ROWS_PER_CHUNK:
                yield items, done
                items, done = [], []
        if items:
            yield items, done
        table.close()
        self.open = None

    def close(self):
        if self.open is not None:
            self.open.close()


# ------------------------------------------------------------------ progress


class Progress:
    """A progress bar on a terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self, stream=None, enabled: Optional[bool] = None, interval: float = 0.2):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.interval = interval
        self.total = None
        self.started = time.monotonic()
        self._shown = 0.0
        self._done = 0
        self._drawn = False

    def start(self, total: Optional[int]) -> None:
        self.total = total
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        self._done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._shown >= self.interval:
            self._shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        done = self._done
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if self.total:
            share = min(done / self.total, 1.0)
            filled = int(share * 30)
            bar = "█" * filled + "░" * (30 - filled)
            left = (self.total - done) / rate if rate > 0 and done < self.total else 0
            text = (f"\r评分 {bar} {done}/{self.total} 项目 {share * 100:3.0f}%  "
                    f"{rate:,.0f}/秒  剩余 {_clock(left)} ")
        else:
            text = f"\r评分 {done} 项目  {rate:,.0f}/秒 "
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# ------------------------------------------------------------------ the command


def batch_command(args) -> int:
    """``indicator-eval batch SET INPUT... -o SUMMARY``."""
    import signal

    from .api import load_set
    from .cli import EXIT_BATCH_INCOMPLETE, EXIT_OK, UsageError, _guard_output

    from .summary import SUMMARY_SUFFIXES, unknown_format

    output = Path(args.output)
    if output.suffix.lower() not in SUMMARY_SUFFIXES:
        raise unknown_format(output, UsageError)
    if args.jobs < 1:
        raise UsageError(Diagnostic(ERROR, "--jobs must be at least 1",
                                    message_cn="--jobs 至少为 1"))
    _guard_output(output, [args.set] + list(args.inputs))
    for raw in args.inputs:
        try:
            if output.resolve() == Path(raw).resolve():
                raise UsageError(Diagnostic(ERROR, "the summary would overwrite an input",
                                            file=str(output), hint="choose another -o file",
                                            message_cn="汇总表会覆盖一个输入文件",
                                            hint_cn="请用 -o 另选一个文件"))
        except OSError:
            pass
    scorer = load_set(args.set)
    client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(Diagnostic(
                ERROR, "--scheduler needs Dask", hint="pip install 'indicator-dsl[cluster]'",
                message_cn="--scheduler 需要安装 Dask",
                hint_cn="请运行 pip install 'indicator-dsl[cluster]'")) \
                from None
        try:
            client = Client(args.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise FileAccessError(Diagnostic(ERROR, f"cannot reach the Dask scheduler: {exc}",
                                             file=args.scheduler,
                                             hint="check the address (tcp://host:8786)",
                                             message_cn=f"无法连接 Dask 调度器：{exc}",
                                             hint_cn="请检查地址（如 tcp://host:8786）")) \
                from None
    progress = Progress(enabled=None if not args.quiet else False)
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum, frame):  # a `kill`: stop like Ctrl-C, so the journal is closed cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    try:
        outcome = run_batch(scorer, list(args.inputs), output, reports=args.reports,
                            report_format=args.report_format, jobs=args.jobs, client=client,
                            resume=args.resume, progress=progress, set_path=args.set)
    except KeyboardInterrupt:
        journal = journal_path(output)
        print(f"indicator-eval: interrupted; the projects scored so far are kept in "
              f"{journal}; run again with --resume to continue", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if client is not None:
            client.close()
    stats = outcome.stats
    seconds = time.monotonic() - started
    parts = [f"{STATUS_CN[s]} {stats.by_status[s]}" for s in STATUS_CN if stats.by_status.get(s)]
    extra = "".join(f", {p}" for p in outcome.extra_outputs)
    reused = f"; {outcome.reused} taken from the journal" if outcome.reused else ""
    print(f"indicator-eval: wrote {output}{extra}: {stats.projects} projects "
          f"({'，'.join(parts)}) in {seconds:.1f} s{reused}", file=sys.stderr)
    return EXIT_OK if outcome.ok else EXIT_BATCH_INCOMPLETE
