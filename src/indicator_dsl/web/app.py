"""The web app: Starlette routes, the pages' templates and the JSON the form script
reads. Run it with :func:`indicator_dsl.web.serve` (uvicorn).

Pages (all text Chinese):

=================================  ==============================================
``/``                              choose a set: the folder's, the standard
                                   library's, or upload a ``.ind``
``/s/<set>``                       the facts form with live scores
``/s/<set>/doc`` · ``/doc/<code>`` the set's documentation, one page per indicator
``/s/<set>/batch/<id>[/<n>]``      a many-project spreadsheet: its projects, each
                                   project's scores
=================================  ==============================================

``<set>`` is ``f/<path in the folder>``, ``lib/<path in the library>`` or
``u/<digest>`` (an uploaded set, kept in memory). Every POST must come from the
app's own pages (Origin checked against Host), and bodies are size-limited.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (HTMLResponse, JSONResponse, PlainTextResponse,
                                 RedirectResponse, Response)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..errors import Diagnostic, FactsError, IndicatorError, SetError
from ..evaluator import FAILED, NOT_APPLICABLE, SCORED
from ..numbers import plain
from ..render import BINARY_FORMATS, FORMATS, shown_score, subtotal_of
from . import form
from .catalog import Catalog, SetEntry

HERE = Path(__file__).resolve().parent
MAX_BODY = 32_000_000  # any request body
MAX_FACTS_UPLOAD = 5_000_000  # one project's facts file
MAX_SET_UPLOAD = 2_000_000  # an uploaded .ind
MAX_SHEET_UPLOAD = 20_000_000  # a many-project spreadsheet
MAX_BATCHES = 10  # many-project uploads kept in memory
REPORT_FORMATS = ("html", "xlsx", "docx")
_MEDIA = {"html": "text/html; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "yaml": "application/x-yaml; charset=utf-8"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Refused(Exception):
    """A request the app turns down, with the status and the Chinese reason shown."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# ------------------------------------------------------------ the middleware


class Guard:
    """Pure ASGI middleware: Host and Origin checks, body size limit, security headers.

    * Host must be one the server answers to (blocks DNS-rebinding pages from
      reading the app through another name).
    * A POST must carry an Origin (or Sec-Fetch-Site) of this same host, when the
      browser sends one: a page of another site cannot submit to the app.
    * Bodies over ``MAX_BODY`` are refused before they are read.
    """

    def __init__(self, app, hosts: Optional[set] = None):
        self.app = app
        self.hosts = hosts  # None: any Host (the user chose to listen on all addresses)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        problem = None
        if self.hosts is not None and _host_name(host) not in self.hosts:
            problem = (421, "请求的主机名不被接受")
        elif scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            fetch_site = headers.get("sec-fetch-site")
            if origin is not None and origin != "null":
                if urlsplit(origin).netloc.lower() != host.lower():
                    problem = (403, "拒绝来自其他网站的提交")
            elif origin == "null" or (fetch_site is not None and
                                      fetch_site not in ("same-origin", "none")):
                problem = (403, "拒绝来自其他网站的提交")
            length = headers.get("content-length")
            if problem is None and length is not None:
                try:
                    if int(length) > MAX_BODY:
                        problem = (413, f"上传内容超过 {MAX_BODY // 1_000_000} MB 的上限")
                except ValueError:
                    problem = (400, "请求的 Content-Length 不正确")
        if problem is not None:
            response = PlainTextResponse(problem[1], status_code=problem[0],
                                         headers=_SECURITY_HEADERS)
            return await response(scope, receive, send)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise Refused(413, "上传内容超过上限")
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode("latin-1"), v.encode("latin-1"))
                         for k, v in _SECURITY_HEADERS.items()
                         if k.lower().encode("latin-1") not in present]
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


# ------------------------------------------------------------------ the app


class WebApp:
    def __init__(self, target: Optional[Path] = None):
        self.catalog = Catalog(target)
        self.batches: "OrderedDict[str, dict]" = OrderedDict()
        self.work = threading.Lock()  # one evaluation or load at a time: a local app
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                               autoescape=select_autoescape(["html", "j2"],
                                                            default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(version=__version__, quote=quote)
        self.env.filters["num"] = lambda v: plain(v) if isinstance(v, Decimal) else v

    # --- helpers
    def page(self, name: str, status: int = 200, **context) -> HTMLResponse:
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status)

    def error_page(self, status: int, message: str, diagnostics: List[Diagnostic] = ()):
        return self.page("error.html", status=status, message=message,
                         diagnostics=list(diagnostics))

    async def run(self, fn, *args):
        def locked():
            with self.work:
                return fn(*args)
        return await run_in_threadpool(locked)

    def entry_or_404(self, set_id: str) -> SetEntry:
        entry = self.catalog.get(set_id)
        if entry is None:
            if set_id.startswith("u/"):
                raise Refused(404, "找不到这个上传的指标体系：服务重启后需要重新上传")
            raise Refused(404, "找不到这个指标体系")
        return entry

    # --- routes
    async def index(self, request: Request):
        def build():
            self.catalog.refresh()
            rows = {"folder": [], "library": []}
            for entry in list(self.catalog.folder_sets().values()):
                rows["folder"].append(self._listing(entry))
            for entry in self.catalog.library_sets().values():
                rows["library"].append(self._listing(entry))
            return rows
        rows = await self.run(build)
        return self.page("index.html", rows=rows, root=self.catalog.root,
                         uploads=list(reversed(self.catalog.uploads.values())),
                         error=None)

    def _listing(self, entry: SetEntry) -> dict:
        try:
            scorer = self.catalog.load(entry)
        except IndicatorError as exc:
            return {"entry": entry, "ok": False, "errors": len(exc.errors) or 1}
        checked = scorer.checked
        header = checked.header
        years = None
        if header.year_from is not None:
            years = str(header.year_from) if header.year_from == header.year_to else \
                f"{header.year_from}–{header.year_to}"
        return {"entry": entry, "ok": True, "name": scorer.name, "region": header.region,
                "years": years, "leaves": len(checked.leaves()), "scorable": bool(checked.roots),
                "has_facts": entry.sibling(".facts.yaml") is not None}

    async def upload_set(self, request: Request):
        upload = await _one_file(request, "file", MAX_SET_UPLOAD)
        name = form.safe_name(upload[0])
        if not name.endswith(".ind"):
            raise Refused(400, "请上传以 .ind 结尾的指标体系文件")

        def add():
            entry = self.catalog.add_upload(name, upload[1])
            self.catalog.load(entry)
            return entry
        try:
            entry = await self.run(add)
        except IndicatorError as exc:
            return self.error_page(400, f"上传的指标体系 {name} 有错误，不能使用",
                                   exc.diagnostics)
        return RedirectResponse(f"/s/{entry.id}", status_code=303)

    async def set_route(self, request: Request):
        set_id, rest = _split_set_path(request.path_params["rest"])
        if set_id is None:
            raise Refused(404, "找不到这个指标体系")
        entry = self.entry_or_404(set_id)
        method = request.method
        parts = [p for p in rest.split("/") if p] if rest else []
        if method == "GET":
            if not parts:
                return await self.set_page(entry)
            if parts == ["doc"]:
                return await self.doc_index(entry)
            if len(parts) == 2 and parts[0] == "doc":
                return await self.doc_indicator(entry, parts[1])
            if parts == ["example-facts"]:
                return self.example_facts(entry)
            if parts[0] == "batch" and len(parts) in (2, 3, 4):
                return await self.batch_page(entry, parts[1:])
        elif method == "POST":
            if parts == ["evaluate"]:
                return await self.evaluate(entry, request)
            if len(parts) == 1 and parts[0].startswith("report."):
                return await self.report(entry, request, parts[0][len("report."):])
            if parts in (["facts.yaml"], ["facts.xlsx"]):
                return await self.facts_file(entry, request, parts[0].split(".")[1])
            if parts == ["batch"]:
                return await self.batch_upload(entry, request)
        raise Refused(404, "找不到这个页面")

    async def set_page(self, entry: SetEntry):
        try:
            scorer = await self.run(self.catalog.load, entry)
        except IndicatorError as exc:
            return self.error_page(422, f"指标体系 {entry.label} 有错误，不能评分",
                                   exc.diagnostics)
        if not scorer.checked.roots:
            return self.error_page(422, f"{entry.label} 是规则库（只有规则和取值，没有指标），"
                                        "不能直接评分；请选择引用它的指标体系")
        return self.page("set.html", entry=entry, scorer=scorer, tree=_tree(scorer),
                         header=scorer.checked.header,
                         has_example=entry.sibling(".facts.yaml") is not None,
                         sheets=form.spreadsheets_supported(),
                         max_facts=MAX_FACTS_UPLOAD, max_sheet=MAX_SHEET_UPLOAD)

    def example_facts(self, entry: SetEntry):
        path = entry.sibling(".facts.yaml")
        if path is None:
            raise Refused(404, "这个指标体系旁没有示例事实文件")
        return Response(path.read_bytes(), media_type=_MEDIA["yaml"],
                        headers=_attachment(path.name))

    async def _state(self, request: Request) -> form.State:
        body = await _body(request, MAX_FACTS_UPLOAD * 4 // 3 + 1_000_000)
        try:
            raw = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Refused(400, "请求内容不是有效的 JSON") from None
        try:
            return form.parse_state(raw.get("state") if isinstance(raw, dict) else None,
                                    MAX_FACTS_UPLOAD)
        except form.StateError as exc:
            first = exc.diagnostics[0]
            raise Refused(413 if "上限" in str(exc) else 400, first.message_cn or first.message)

    async def evaluate(self, entry: SetEntry, request: Request):
        state = await self._state(request)

        def work():
            scorer = self.catalog.load(entry)
            try:
                prepared = form.prepare(scorer, state)
            except IndicatorError as exc:
                return form.source_error_view(exc)
            evaluation = scorer.evaluate(prepared.facts)
            return form.result_view(scorer, prepared, evaluation)
        try:
            view = await self.run(work)
        except SetError as exc:
            return JSONResponse({"set_error": [form._message(d) for d in exc.diagnostics]},
                                status_code=422)
        return Response(_json(view), media_type="application/json")

    async def report(self, entry: SetEntry, request: Request, fmt: str):
        if fmt not in REPORT_FORMATS:
            raise Refused(404, "不支持的报告格式")
        state = await self._state(request)

        def work():
            scorer = self.catalog.load(entry)
            prepared = form.prepare(scorer, state)
            evaluation = scorer.evaluate(prepared.facts)
            if not evaluation.ok:
                return None, evaluation
            data = FORMATS[fmt](evaluation)
            return (data if fmt in BINARY_FORMATS else data.encode("utf-8")), evaluation
        try:
            data, evaluation = await self.run(work)
        except IndicatorError as exc:
            return JSONResponse({"error": "事实文件无法读取，不能生成评分表",
                                 "problems": [form._message(d) for d in exc.diagnostics]},
                                status_code=422)
        if data is None:
            failed = [r.code for r in evaluation.leaves() if r.status == FAILED]
            return JSONResponse({"error": f"还有 {len(failed)} 项指标无法评分（{'、'.join(failed[:8])}"
                                          f"{'等' if len(failed) > 8 else ''}），评分表不完整，未生成；"
                                          "请先补全或改正右侧列出的事实",
                                 "problems": [form._message(d) for d in evaluation.errors]},
                                status_code=422)
        return Response(data, media_type=_MEDIA[fmt], headers=_attachment(f"评分表.{fmt}"))

    async def facts_file(self, entry: SetEntry, request: Request, fmt: str):
        state = await self._state(request)

        def work():
            scorer = self.catalog.load(entry)
            if fmt == "yaml":
                return form.facts_download(scorer, state)
            try:
                from ..tabular import facts_template
            except ImportError:
                raise Refused(501, "此版本还不能生成 Excel 事实表（缺少 indicator_dsl.tabular 模块）；"
                                   "请下载 YAML") from None
            prepared = form.prepare(scorer, state)
            return "事实.xlsx", facts_template(scorer, fmt="xlsx", facts=prepared.facts)
        try:
            name, data = await self.run(work)
        except IndicatorError as exc:
            return JSONResponse({"error": "事实文件无法读取",
                                 "problems": [form._message(d) for d in exc.diagnostics]},
                                status_code=422)
        media = _MEDIA["yaml"] if fmt == "yaml" else _MEDIA["xlsx"]
        return Response(data, media_type=media, headers=_attachment(name))

    # --- many projects
    async def batch_upload(self, entry: SetEntry, request: Request):
        name, data = await _one_file(request, "file", MAX_SHEET_UPLOAD)
        name = form.safe_name(name)
        try:
            from ..tabular import read_projects
        except ImportError:
            return self.error_page(501, "此版本还不能读取多项目电子表格：缺少 indicator_dsl.tabular 模块。"
                                        "请逐个上传各项目的 YAML/JSON/TOML 事实文件")

        def work():
            scorer = self.catalog.load(entry)
            projects = []
            for row in read_projects(data, name, scorer):
                item = {"name": row.name, "row": row.row, "facts": row.facts,
                        "error": row.error, "evaluation": None}
                if row.facts is not None and row.error is None:
                    item["evaluation"] = scorer.evaluate(row.facts)
                projects.append(item)
            return projects
        try:
            projects = await self.run(work)
        except IndicatorError as exc:
            return self.error_page(422, f"电子表格 {name} 无法读取", exc.diagnostics)
        batch_id = secrets.token_hex(8)
        self.batches[batch_id] = {"set": entry.id, "name": name, "projects": projects}
        while len(self.batches) > MAX_BATCHES:
            self.batches.popitem(last=False)
        return RedirectResponse(f"/s/{entry.id}/batch/{batch_id}", status_code=303)

    async def batch_page(self, entry: SetEntry, parts: List[str]):
        batch = self.batches.get(parts[0])
        if batch is None or batch["set"] != entry.id:
            raise Refused(404, "找不到这批项目：服务重启后需要重新上传电子表格")
        scorer = await self.run(self.catalog.load, entry)
        if len(parts) == 1:
            return self.page("batch.html", entry=entry, scorer=scorer, batch=batch,
                             batch_id=parts[0])
        try:
            index = int(parts[1])
            project = batch["projects"][index]
        except (ValueError, IndexError):
            raise Refused(404, "找不到这个项目") from None
        if len(parts) == 3:
            if parts[2] != "facts.yaml" or project["facts"] is None:
                raise Refused(404, "找不到这个项目的事实")
            tree = form.Tree.from_facts(project["facts"])
            text = form.facts_yaml(tree.as_mapping(scorer.codes))
            return Response(text.encode("utf-8"), media_type=_MEDIA["yaml"],
                            headers=_attachment(f"{form.safe_name(str(project['name']))}.yaml"))
        ev = project["evaluation"]
        return self.page("project.html", entry=entry, scorer=scorer, batch=batch,
                         batch_id=parts[0], index=index, project=project, ev=ev,
                         rows=_result_rows(ev) if ev is not None else [])

    # --- documentation
    async def doc_index(self, entry: SetEntry):
        try:
            scorer = await self.run(self.catalog.load, entry)
        except IndicatorError as exc:
            return self.error_page(422, f"指标体系 {entry.label} 有错误", exc.diagnostics)
        return self.page("doc_index.html", entry=entry, scorer=scorer, tree=_tree(scorer),
                         header=scorer.checked.header, checked=scorer.checked,
                         imports=_imports(scorer.checked))

    async def doc_indicator(self, entry: SetEntry, code: str):
        try:
            scorer = await self.run(self.catalog.load, entry)
        except IndicatorError as exc:
            return self.error_page(422, f"指标体系 {entry.label} 有错误", exc.diagnostics)
        from .docs import indicator_doc

        node = scorer.checked.by_code.get(code)
        if node is None:
            raise Refused(404, f"这个指标体系没有编码为 {code} 的指标")
        doc = await self.run(indicator_doc, scorer, entry, node)
        return self.page("doc_indicator.html", entry=entry, scorer=scorer, doc=doc,
                         header=scorer.checked.header, imports=_imports(scorer.checked))


def _imports(checked) -> List[dict]:
    how = {"relative": "相对于文件", "INDICATOR_PATH": "INDICATOR_PATH 中", "library": "标准库"}
    return [{"written": w, "file": Path(f).name, "how": how.get(h, h)}
            for w, f, h in checked.imports]


def _tree(scorer) -> List[dict]:
    """The indicators as nested dicts for the templates."""
    def node(ind) -> dict:
        return {"code": ind.code, "name": ind.name or "", "weight": plain(ind.weight),
                "depth": ind.depth, "leaf": ind.is_leaf, "bonus": ind.bonus,
                "explain": ind.node.explain, "standard": ind.node.standard,
                "children": [node(c) for c in ind.children]}
    return [node(root) for root in scorer.checked.roots]


def _result_rows(ev) -> List[dict]:
    return [{"code": r.code, "name": r.name or "", "level": r.level, "leaf": r.is_leaf,
             "weight": plain(r.weight), "score": shown_score(r), "status": r.status,
             "explanation": r.explanation if (r.is_leaf or r.status != SCORED or r.rescaled)
             else "", "subtotal": "" if r.is_leaf else subtotal_of(r)}
            for r in ev.indicators]


def _split_set_path(rest: str):
    """``u/<digest>/…`` or ``f/<folders>/<name>.ind/…`` → (set id, what follows)."""
    parts = rest.split("/")
    if len(parts) >= 2 and parts[0] == "u":
        return "/".join(parts[:2]), "/".join(parts[2:])
    if parts and parts[0] in ("f", "lib"):
        for i, part in enumerate(parts[1:], start=1):
            if part.endswith(".ind"):
                return "/".join(parts[: i + 1]), "/".join(parts[i + 1:])
    return None, ""


def _attachment(name: str) -> Dict[str, str]:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in name)
    return {"Content-Disposition":
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store"}


def _json(value) -> bytes:
    def default(v):
        if isinstance(v, Decimal):
            return plain(v)
        raise TypeError(type(v).__name__)
    return json.dumps(value, ensure_ascii=False, default=default).encode("utf-8")


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise Refused(413, f"上传内容超过 {limit // 1_000_000} MB 的上限")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"上传内容超过 {limit // 1_000_000} MB 的上限")
        chunks.append(chunk)
    return b"".join(chunks)


async def _one_file(request: Request, field: str, limit: int):
    """(file name, bytes) of one uploaded file, refused over ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + 100_000:
        raise Refused(413, f"上传的文件超过 {limit // 1_000_000} MB 的上限")
    try:
        data = await request.form(max_files=1, max_fields=5, max_part_size=limit)
    except Exception as exc:  # multipart's own errors: malformed or too large
        message = str(exc)
        if "size" in message.lower() or "exceed" in message.lower():
            raise Refused(413, f"上传的文件超过 {limit // 1_000_000} MB 的上限") from None
        raise Refused(400, "上传的内容无法读取") from None
    upload = data.get(field)
    if upload is None or isinstance(upload, str):
        raise Refused(400, "没有收到文件：请先选择要上传的文件")
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise Refused(413, f"上传的文件超过 {limit // 1_000_000} MB 的上限")
    return upload.filename or "upload", content


def create_app(target: Optional[Path] = None, host: str = "127.0.0.1",
               port: Optional[int] = None):
    """The ASGI app for the sets under ``target`` (a folder or one .ind file)."""
    web = WebApp(Path(target) if target is not None else None)

    async def handled(request: Request, call):
        try:
            return await call(request)
        except Refused as exc:
            if _wants_json(request):
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            return web.error_page(exc.status, exc.message)

    def wrap(call):
        async def endpoint(request: Request):
            return await handled(request, call)
        return endpoint

    routes = [
        Route("/", wrap(web.index)),
        Route("/upload-set", wrap(web.upload_set), methods=["POST"]),
        Route("/s/{rest:path}", wrap(web.set_route), methods=["GET", "POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    async def not_found(request, exc):
        return web.error_page(404, "找不到这个页面")

    async def refused(request, exc):
        return PlainTextResponse(exc.message, status_code=exc.status)

    app = Starlette(routes=routes, exception_handlers={404: not_found, Refused: refused})
    app.state.web = web
    hosts = None
    if host not in ("0.0.0.0", "::", ""):
        hosts = set(_LOOPBACK) | {host.lower()}
    return Guard(app, hosts)


def _wants_json(request: Request) -> bool:
    return request.method == "POST" and "/s/" in request.url.path and not \
        request.url.path.endswith("/batch") and "multipart" not in \
        request.headers.get("content-type", "")
