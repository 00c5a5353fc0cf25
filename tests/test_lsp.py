"""Stage: the language server. Every test drives the real server, ``python -m indicator_dsl
lsp``, over stdin/stdout with Content-Length framed JSON-RPC, as an editor does."""

import json
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indicator_dsl.formatter import format_text
from indicator_dsl.parser import parse

from indicator_dsl.modules import library_dir
from conftest import ROOT, neutral_environment, run_cli

SEED = ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind"
XIZANG = ROOT / "indicator_sets/xizang/nyingchi/2024/hardship-aid-matching.ind"
HUBEI = ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"
# The standard library as the installed package holds it (in CI a wheel, not the checkout).
LIBRARY = library_dir() / "national-rules.ind"
NATIONAL = library_dir() / "national" / "2020" / "self-evaluation.ind"
TIMEOUT = 60


class Client:
    """A minimal LSP client: one server process, framed JSON-RPC both ways."""

    def __init__(self, cwd=ROOT, env=None):
        env = dict(neutral_environment(), **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "indicator_dsl", "lsp"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
        self.inbox = queue.Queue()
        self.notifications = []
        self.next_id = 0
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self):
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.inbox.put(json.loads(body.decode("utf-8")))

    def _drain_stderr(self):
        for line in self.process.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send(self, message):
        message = dict(message, jsonrpc="2.0")
        body = json.dumps(message).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _next(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("no answer from the server in time; stderr: " +
                                 "".join(self.stderr[-20:]))
        try:
            message = self.inbox.get(timeout=remaining)
        except queue.Empty:
            raise AssertionError("no answer from the server in time; stderr: " +
                                 "".join(self.stderr[-20:])) from None
        if message is None:
            raise AssertionError("the server closed its output; stderr: " +
                                 "".join(self.stderr[-20:]))
        if "method" in message and "id" in message:  # a request from the server
            self.send({"id": message["id"], "result": None})
            return self._next(deadline)
        if "method" in message:
            self.notifications.append(message)
        return message

    def request(self, method, params):
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == ident and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def wait_for(self, method, predicate=lambda params: True):
        """The first notification (already received or coming) that matches."""
        for message in self.notifications:
            if message["method"] == method and predicate(message["params"]):
                self.notifications.remove(message)
                return message["params"]
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("method") == method and predicate(message["params"]):
                self.notifications.remove(message)
                return message["params"]

    # --- conveniences
    def initialize(self):
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": ROOT.as_uri(),
            "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]},
                                              "documentSymbol": {
                                                  "hierarchicalDocumentSymbolSupport": True}}},
        })
        self.notify("initialized", {})
        return result

    def open(self, path, text=None, uri=None):
        uri = uri or Path(path).resolve().as_uri()
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "indicator", "version": 1, "text": text}})
        return uri

    def diagnostics(self, uri, version=None):
        def matches(params):
            return params["uri"] == uri and (version is None or params.get("version") == version)
        return self.wait_for("textDocument/publishDiagnostics", matches)["diagnostics"]

    def change(self, uri, text, version):
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": text}]})

    def at(self, method, uri, line, character, **extra):
        return self.request(method, dict({"textDocument": {"uri": uri},
                                          "position": {"line": line, "character": character}},
                                         **extra))

    def close(self):
        if self.process.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
                self.process.wait(timeout=TIMEOUT)
            except Exception:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def client():
    c = Client()
    c.initialize()
    yield c
    c.close()


def _utf16(text):
    return len(text.encode("utf-16-le")) // 2


def _position_of(text, needle, nth=0, offset=0):
    """(line, UTF-16 character) of the nth occurrence of needle in text, plus offset chars."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return line, _utf16(text[start:index])


# ---------------------------------------------------------------- diagnostics


def test_typo_gives_did_you_mean_at_the_name(client):
    text = SEED.read_text(encoding="utf-8").replace(
        "score: plan_matched -> full", "score: plan_matchd -> full")
    uri = client.open(SEED, text)
    found = client.diagnostics(uri)
    typo = [d for d in found if "plan_matchd" in d["message"]]
    assert len(typo) == 1, found
    d = typo[0]
    assert "did you mean 'plan_matched'" in d["message"]
    assert "fact plan_matchd: number" in d["message"]  # the hint travels with it
    assert d["severity"] == 1 and d["source"] == "indicator-dsl" and d["code"] == "name"
    line, character = _position_of(text, "plan_matchd -> full")
    assert d["range"] == {"start": {"line": line, "character": character},
                          "end": {"line": line, "character": character + len("plan_matchd")}}


def test_diagnostics_are_the_checks_of_indicator_eval_check(client, tmp_path):
    """Same problems, same places, same messages as the command line reports."""
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("score: plan_matched -> full", "score: plan_matchd -> full")
    text = text.replace('A111 "与部门中长期规划目标匹配性" weight 1',
                        'A111 "与部门中长期规划目标匹配性" weight 2')  # weights no longer add up
    text = text.replace("score: duty_related -> full; else -> 0",
                        "score: duty_related -> full; else -> 0; else -> 1")  # unreachable
    path = tmp_path / "typo.ind"
    path.write_text(text, encoding="utf-8")
    cli = run_cli("check", path)
    assert cli.returncode == 3
    expected = set()
    for found in re.finditer(r"^(.*?):(\d+):(\d+): (error|warning): (.*)$", cli.stderr, re.M):
        expected.add((int(found.group(2)) - 1, found.group(5)))
    assert len(expected) >= 3, cli.stderr
    uri = client.open(path, text)
    got = {(d["range"]["start"]["line"], d["message"].split("\n")[0])
           for d in client.diagnostics(uri)}
    assert got == expected


def test_columns_are_utf16_code_units(client, tmp_path):
    # 𠮷 lies outside the BMP: two UTF-16 code units, one character for the parser.
    text = ('set "测试"\ntotal 1\nfact done: bool "完成"\n'
            'C1 "𠮷𠮷名称" weight 1: doen -> full; else -> 0\n')
    uri = client.open(tmp_path / "wide.ind", text)
    d = [d for d in client.diagnostics(uri) if "doen" in d["message"]][0]
    line = text.split("\n")[3]
    start = line.index("doen")
    assert d["range"]["start"] == {"line": 3, "character": _utf16(line[:start])}
    assert d["range"]["start"]["character"] == start + 2
    assert d["range"]["end"]["character"] == start + 2 + 4


def test_typing_updates_diagnostics(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    assert [d for d in client.diagnostics(uri) if d["severity"] == 1] == []
    client.change(uri, text.replace("score: researched -> full", "score: reserched -> full"), 2)
    errors = [d for d in client.diagnostics(uri, version=2) if d["severity"] == 1]
    assert any("did you mean 'researched'" in d["message"] for d in errors)
    client.change(uri, text, 3)
    assert [d for d in client.diagnostics(uri, version=3) if d["severity"] == 1] == []


def test_imported_problems_show_at_the_import_and_unsaved_buffers_count(client, tmp_path):
    library = tmp_path / "lib.ind"
    library.write_text('rule met(x): x -> full; else -> 0\n', encoding="utf-8")
    main = tmp_path / "main.ind"
    text = ('import "lib.ind" as lib\n\nset "测试"\ntotal 2\nfact done: bool "完成"\n'
            'C1 "完成情况" weight 2: lib.met(done)\n')
    main.write_text(text, encoding="utf-8")
    main_uri = client.open(main, text)
    assert [d for d in client.diagnostics(main_uri) if d["severity"] == 1] == []
    # The library is edited in the editor (not saved): a syntax error appears in it.
    lib_uri = client.open(library, 'rule met(x): x -> full; else ->\n')
    client.diagnostics(lib_uri)
    errors = [d for d in client.diagnostics(main_uri) if d["severity"] == 1]
    assert errors, "the importing file was not re-checked with the unsaved library"
    from_library = [d for d in errors if d["message"].startswith("lib.ind:1:")]
    assert len(from_library) == 1, errors
    assert from_library[0]["range"]["start"]["line"] == 0  # the import statement
    assert "the line ends too early" in from_library[0]["message"]
    related = from_library[0]["relatedInformation"][0]["location"]
    assert related["uri"] == library.resolve().as_uri()
    assert library.read_text(encoding="utf-8").endswith("else -> 0\n")  # disk untouched


def test_files_importing_each_other_are_checked_once_not_for_ever(client, tmp_path):
    first, second = tmp_path / "a.ind", tmp_path / "b.ind"
    first.write_text('import "b.ind" as b\nrule x(v): v -> full; else -> 0\n', encoding="utf-8")
    second.write_text('import "a.ind" as a\nrule y(v): v -> full; else -> 0\n', encoding="utf-8")
    for path in (first, second):
        uri = client.open(path)
        assert any("import cycle" in d["message"] for d in client.diagnostics(uri))
    client.request("textDocument/documentSymbol",
                   {"textDocument": {"uri": first.as_uri()}})  # let pending rechecks run
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # the rechecks the second file caused settle
        client.request("textDocument/documentSymbol", {"textDocument": {"uri": first.as_uri()}})
        time.sleep(0.1)
    client.notifications.clear()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        client.request("textDocument/documentSymbol", {"textDocument": {"uri": first.as_uri()}})
        time.sleep(0.1)
    published = [m for m in client.notifications if m["method"] == "textDocument/publishDiagnostics"]
    assert published == []


# ----------------------------------------------------------------------- hover


def test_hover_on_a_leaf_shows_weight_standard_rule_and_facts(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    client.diagnostics(uri)
    line, character = _position_of(text, 'C114 "2020')
    hover = client.at("textDocument/hover", uri, line, character + 1)
    value = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert "C114 2020年春节系列活动项目慰问人数情况" in value
    assert "**5** 分" in value and "四级指标" in value
    assert "**评分标准**：慰问人数与预期人数的比例达到100%，得满分，每减少5%，扣0.1分，扣完为止。" in value
    assert "visit_ratio >= 100% -> full; per 5% below -> -0.1; floor 0" in value
    assert "`visited` 实际慰问人数（人或户）（个数" in value
    assert "`expected` 预期慰问人数（人或户）（个数，[1, 10000000]" in value
    assert "上级：C11" in value


def test_hover_on_a_group_shows_resolved_points(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    line, character = _position_of(text, 'B "项目管理" weight 20%')
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "**20** 分（权重 20%）" in value and "一级指标" in value
    assert "B1 投入管理（4 分）" in value


def test_hover_on_a_fact_a_function_and_a_keyword(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    line, character = _position_of(text, "ratio(spent, budget)", offset=len("ratio("))
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "数据 `spent`：实际支出金额" in value and "金额，单位 元" in value
    assert "[0, 10000000000]" in value and "本文件第" in value
    assert "读取它的指标：" in value and "B13" in value
    value = client.at("textDocument/hover", uri, line, character - 3)["contents"]["value"]
    assert "函数 `ratio`" in value and "比率" in value
    line, character = _position_of(text, "floor 0", nth=0)
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "关键字" in value and "扣完为止" in value
    # `full` says what full marks are where it stands: the leaf's weight, or the point's.
    line, character = _position_of(text, "visit_ratio >= 100% -> full", offset=23)
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "此处（C114）满分为 **5** 分" in value
    line, character = _position_of(text, "point ① weight 7: happiness_increased -> full",
                                   offset=41)
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "要点 ①）满分为 **7** 分" in value


def test_hover_on_an_override_says_where_it_came_from(client):
    text = HUBEI.read_text(encoding="utf-8")
    uri = client.open(HUBEI, text)
    found = re.search(r"^override (\w+)", text, re.M)
    code = found.group(1)
    line, character = _position_of(text, found.group(0), offset=len("override "))
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert f"### {code}" in value
    assert "**来源**：" in value and "festival-visits.ind:" in value
    assert "定义于 标准库 national/2020/self-evaluation.ind" in value


def test_hover_on_a_rule_call_shows_its_parameters_and_body(client):
    text = XIZANG.read_text(encoding="utf-8")
    uri = client.open(XIZANG, text)
    line, character = _position_of(text, "national.art16(actual, target)")
    value = client.at("textDocument/hover", uri, line, character + 10)["contents"]["value"]
    assert "规则 `national.art16(actual, target)`" in value
    assert "national-rules.ind" in value and "ratio(actual, target)" in value


# ------------------------------------------------------------------ completion


def _labels(result):
    return {item["label"]: item for item in result["items"]}


def test_completion_offers_facts_keywords_in_both_spellings_and_functions(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    line, character = _position_of(text, "visit_ratio >= 100%", offset=0)
    items = _labels(client.at("textDocument/completion", uri, line, character))
    assert items["visited"]["detail"].startswith("`visited` 实际慰问人数")  # the leaf's fact
    assert "spent" in items  # a fact of the whole set
    assert "visit_ratio" in items  # a value
    assert "executed" in items  # a rule
    assert {"满分", "full", "扣完为止", "floor", "否则", "else"} <= set(items)
    assert {"ratio", "比率"} <= set(items)
    # A fact of another leaf is not visible here.
    assert "plan_matched" not in items


def test_completion_of_level_values_inside_quotes(client):
    text = SEED.read_text(encoding="utf-8")
    text = text.replace('adjustment == "部分规范" -> 1;', 'adjustment == "部 -> 1;')
    uri = client.open(SEED, text)
    line, character = _position_of(text, 'adjustment == "部', offset=len('adjustment == "部'))
    items = _labels(client.at("textDocument/completion", uri, line, character))
    assert set(items) == {"规范", "部分规范", "不规范"}
    edit = items["部分规范"]["textEdit"]
    assert edit["range"]["start"]["character"] == character - 1  # replaces the typed 部
    assert edit["newText"] == '部分规范"'


def test_completion_of_codes_after_override(client, tmp_path):
    text = HUBEI.read_text(encoding="utf-8") + "\noverride \n"
    uri = client.open(HUBEI, text)
    line = text.count("\n") - 1
    items = _labels(client.at("textDocument/completion", uri, line, len("override ")))
    assert {"A", "B", "C", "D"} <= set(items)
    assert all(item["kind"] == 18 for item in items.values())  # references
    assert "满分" not in items
    # Typing the space after `override` opens the list; a space elsewhere does not.
    space = {"triggerKind": 2, "triggerCharacter": " "}
    items = _labels(client.at("textDocument/completion", uri, line, len("override "),
                              context=space))
    assert {"A", "B", "C", "D"} <= set(items)
    found = re.search(r"^override (\w+) ", text, re.M)
    line, character = _position_of(text, found.group(0), offset=len(found.group(0)))
    assert client.at("textDocument/completion", uri, line, character, context=space)["items"] == []


def test_completion_of_imported_rules(client):
    text = XIZANG.read_text(encoding="utf-8")
    uri = client.open(XIZANG, text)
    line, character = _position_of(text, "national.art16(actual, target)", offset=9)
    items = _labels(client.at("textDocument/completion", uri, line, character))
    assert "national.art16" in items and items["national.art16"]["kind"] == 3
    edit = items["national.art16"]["textEdit"]
    assert edit["range"]["start"]["character"] == character - 9  # the whole dotted prefix


# ------------------------------------------------------------------ definition


def test_definition_of_a_rule_jumps_into_the_imported_library(client):
    text = XIZANG.read_text(encoding="utf-8")
    uri = client.open(XIZANG, text)
    line, character = _position_of(text, "national.art16(actual, target)", offset=12)
    found = client.at("textDocument/definition", uri, line, character)
    assert found["uri"] == LIBRARY.resolve().as_uri()
    library = LIBRARY.read_text(encoding="utf-8")
    want_line, want_character = _position_of(library, "rule art16(", offset=len("rule "))
    assert found["range"]["start"] == {"line": want_line, "character": want_character}
    assert found["range"]["end"] == {"line": want_line, "character": want_character + 5}


def test_definition_of_the_import_path_and_of_a_fact(client):
    text = XIZANG.read_text(encoding="utf-8")
    uri = client.open(XIZANG, text)
    line, character = _position_of(text, '"national-rules.ind"', offset=5)
    found = client.at("textDocument/definition", uri, line, character)
    assert found["uri"] == LIBRARY.resolve().as_uri()
    seed = SEED.read_text(encoding="utf-8")
    seed_uri = client.open(SEED, seed)
    line, character = _position_of(seed, "ratio(spent, budget)", offset=len("ratio("))
    found = client.at("textDocument/definition", seed_uri, line, character)
    want_line, want_character = _position_of(seed, "fact spent:", offset=len("fact "))
    assert found["uri"] == seed_uri
    assert found["range"]["start"] == {"line": want_line, "character": want_character}


def test_definition_of_an_overridden_code_is_the_base_indicator(client):
    text = HUBEI.read_text(encoding="utf-8")
    uri = client.open(HUBEI, text)
    found = re.search(r"^override (\w+)", text, re.M)
    code = found.group(1)
    line, character = _position_of(text, found.group(0), offset=len("override "))
    location = client.at("textDocument/definition", uri, line, character)
    assert location["uri"] == NATIONAL.resolve().as_uri()
    base = NATIONAL.read_text(encoding="utf-8")
    want_line = next(i for i, text_line in enumerate(base.split("\n"))
                     if re.match(rf"\s*{code} ", text_line))
    assert location["range"]["start"]["line"] == want_line


# --------------------------------------------------------------------- symbols


def test_document_symbols_give_the_indicator_tree(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    result = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    tops = {s["name"]: s for s in result}
    assert {"A 项目决策", "B 项目管理", "C 项目绩效"} <= set(tops)
    assert tops["A 项目决策"]["detail"] == "20 分（权重 20%）"
    assert "executed(execution)" in tops and tops["executed(execution)"]["kind"] == 12
    assert "spent" in tops and tops["spent"]["kind"] == 13

    def leaves(symbol):
        kids = [c for c in symbol.get("children", []) if c["kind"] in (3, 8)]
        if symbol["kind"] == 8:
            return [symbol["name"]]
        return [name for kid in kids for name in leaves(kid)]

    found = [name for s in result if s["kind"] == 3 for name in leaves(s)]
    assert len(found) == 32
    c114 = next(name for name in found if name.startswith("C114 "))
    assert c114 == "C114 2020年春节系列活动项目慰问人数情况"
    a = tops["A 项目决策"]
    line, character = _position_of(text, 'A "项目决策"')
    assert a["selectionRange"]["start"] == {"line": line, "character": character}


# ------------------------------------------------------------------ formatting


def test_formatting_returns_the_formatted_text(client, tmp_path):
    text = ('set   "测试"\ntotal 2\n# 注释保留\nfact done:  bool "完成"\n'
            'C1 "完成情况"   weight 2:   done -> full ;  else -> 0\n')
    uri = client.open(tmp_path / "messy.ind", text)
    edits = client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1
    assert edits[0]["newText"] == format_text(text, str(tmp_path / "messy.ind"))
    assert "# 注释保留" in edits[0]["newText"]
    assert parse(edits[0]["newText"]) == parse(text)
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}
    assert edits[0]["range"]["end"] == {"line": 5, "character": 0}
    # An already formatted file needs no edit; a broken one is left alone.
    client.change(uri, edits[0]["newText"], 2)
    assert client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}}) == []
    client.change(uri, text + "C2 weight\n", 3)
    assert client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}}) is None


# ------------------------------------------------------------------ robustness


def _garbage():
    rng = random.Random(9)
    noise = bytes(rng.randrange(256) for _ in range(4000)).decode("utf-8", "replace")
    seed = SEED.read_text(encoding="utf-8")
    return {
        "random bytes": noise,
        "random bytes with NUL": "\x00" + noise,
        "huge line": "C1 weight 1: " + "x + " * 50000 + "\n",
        "deep brackets": "C1 weight 1: " + "(" * 5000 + "\n",
        "unclosed string": 'set "未闭合\ntotal 1\nC1 "名称 weight 1: x -> full\n',
        "half a seed": seed[: len(seed) // 2],
        "unbalanced braces": "}" * 50 + "{" * 50,
    }


def test_garbage_gives_diagnostics_not_a_crash(client, tmp_path):
    for number, (name, text) in enumerate(_garbage().items()):
        uri = client.open(tmp_path / f"garbage{number}.ind", text)
        errors = [d for d in client.diagnostics(uri) if d["severity"] == 1]
        assert errors, name
        for d in errors:
            assert d["range"]["start"]["line"] >= 0 and d["message"], name
        # Every feature still answers on the broken buffer.
        client.at("textDocument/hover", uri, 0, 3)
        client.at("textDocument/completion", uri, 0, 1)
        client.at("textDocument/definition", uri, 0, 1)
        client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        client.request("textDocument/formatting", {
            "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert client.process.poll() is None
    errors = [m for m in client.notifications if m["method"] == "window/logMessage"
              and m["params"]["type"] == 1]
    assert errors == [], errors[0]["params"]["message"] if errors else None


def test_partial_text_keeps_symbols_and_hover_from_the_last_good_parse(client):
    text = SEED.read_text(encoding="utf-8")
    uri = client.open(SEED, text)
    client.diagnostics(uri)
    # A reserved word as a code: the whole file fails to build, not just one line.
    broken = text.replace('A111 "与部门中长期规划目标匹配性"', 'if "与部门中长期规划目标匹配性"')
    client.change(uri, broken, 2)
    assert any(d["severity"] == 1 for d in client.diagnostics(uri, version=2))
    result = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert {"A 项目决策", "B 项目管理", "C 项目绩效"} <= {s["name"] for s in result}
    line, character = _position_of(broken, 'C114 "2020')
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "**5** 分" in value
    # A broken line inside a leaf: the rest of the file is still read as it is now.
    broken = text.replace("score: visit_ratio >= 100% -> full;", "score: visit_ratio >= -> full;")
    client.change(uri, broken, 3)
    assert any(d["severity"] == 1 for d in client.diagnostics(uri, version=3))
    line, character = _position_of(broken, 'C1115 "2020')
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "**6** 分" in value


def test_shutdown_and_exit_end_the_process_cleanly():
    c = Client()
    c.initialize()
    assert c.request("shutdown", None) is None
    c.notify("exit", None)
    assert c.process.wait(timeout=TIMEOUT) == 0


def test_a_server_without_pygls_says_how_to_install_it():
    code = ("import sys; sys.modules['pygls'] = None; from indicator_dsl.cli import main; "
            "sys.exit(main(['lsp']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=ROOT)
    assert done.returncode == 2
    assert "pip install 'indicator-dsl[lsp]'" in done.stderr
    assert "语言服务器需要 pygls" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------ editor packages

EDITORS = ROOT / "editors"
GRAMMAR = EDITORS / "textmate" / "indicator.tmLanguage.json"
TOKENIZER = ROOT / "tests" / "textmate"


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", EDITORS / "textmate" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _regexes(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end") and isinstance(value, str):
                yield value
            else:
                yield from _regexes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _regexes(value)


def test_grammar_files_are_generated_from_the_keyword_table():
    generated = _generator().text()
    assert GRAMMAR.read_text(encoding="utf-8") == generated, \
        "run: python editors/textmate/generate.py"
    assert (EDITORS / "vscode" / "syntaxes" / "indicator.tmLanguage.json").read_text(
        encoding="utf-8") == generated


def test_grammar_regexes_compile_and_match_every_keyword_spelling():
    """Python's re reads these patterns as Oniguruma does (no Oniguruma-only syntax is used),
    so they are checked here on any machine; the TextMate engine itself runs below."""
    from indicator_dsl.keywords import FUNCTIONS, KEYWORDS

    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    for regex in _regexes(grammar):
        re.compile(regex, re.M)
    keyword_patterns = [re.compile(p["match"]) for p in grammar["repository"]["keywords"]["patterns"]]
    for keyword in KEYWORDS:
        for spelling in (keyword.english.split(" 0")[0],) + keyword.chinese:
            line = f"x {spelling} y"
            assert any(p.search(line) and p.search(line).group() == spelling
                       for p in keyword_patterns), spelling
    builtin = re.compile(grammar["repository"]["builtin-call"]["match"])
    for english, spellings in FUNCTIONS.items():
        for spelling in (english,) + spellings:
            assert builtin.search(f"= {spelling}(a, b)").group() == spelling
    # A Chinese keyword inside a longer Chinese name is not a keyword.
    assert not any(p.search("fact 实际支出金额: number") and
                   p.search("fact 实际支出金额: number").group() == "金额" for p in keyword_patterns)


def _tokenize(tmp_path, text):
    if not (TOKENIZER / "node_modules" / "vscode-textmate").is_dir():
        pytest.skip("the TextMate engine is not installed: npm install --prefix tests/textmate "
                    "(.ci/run does it)")
    sample = tmp_path / "sample.ind"
    sample.write_text(text, encoding="utf-8")
    done = subprocess.run(["node", str(TOKENIZER / "tokenize.js"), str(GRAMMAR), str(sample)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return [[(token, scopes[-1]) for token, scopes in line] for line in json.loads(done.stdout)]


def test_textmate_engine_tokenizes_both_spellings(tmp_path):
    sample = (
        '# 注释 weight\n'
        'C114 "慰问人数情况" weight 5: ratio(actual, target) >= 1 -> full; per 5% below -> -0.1; floor 0\n'
        'C115 "慰问人数情况" 权重 5: 比率(实际, 预期) >= 100% -> 满分; 每低于 5% -> -0.1; 扣完为止\n'
        'override C1 weight 30\n'
        'fact 实际支出金额: money(万元) "金额"\n'
        'C116 weight 2: national.art16(actual, target)\n'
        'set "未闭合\n'
        'total 100\n'
    )
    lines = _tokenize(tmp_path, sample)
    scope = [{token.strip(): s for token, s in line if token.strip()} for line in lines]
    assert scope[0] == {"# 注释 weight": "comment.line.number-sign.indicator"}
    assert scope[1]["C114"] == "entity.name.type.indicator"
    assert scope[1]["weight"] == "keyword.other.indicator"
    assert scope[1]["ratio"] == "support.function.builtin.indicator"
    assert scope[1]["5%"] == "constant.numeric.percent.indicator"
    assert scope[1]["->"] == "keyword.operator.arrow.indicator"
    assert scope[1]["full"] == scope[1]["per"] == scope[1]["floor"] == "keyword.control.indicator"
    assert scope[1]["慰问人数情况"] == "string.quoted.double.indicator"
    assert scope[2]["C115"] == "entity.name.type.indicator"
    assert scope[2]["权重"] == "keyword.other.indicator"
    assert scope[2]["比率"] == "support.function.builtin.indicator"
    assert scope[2]["满分"] == scope[2]["每低于"] == scope[2]["扣完为止"] == \
        "keyword.control.indicator"
    assert scope[3]["C1"] == "entity.name.type.indicator"
    assert scope[4]["实际支出金额"] == "variable.other.definition.indicator"
    assert scope[4]["money"] == "storage.type.indicator"
    assert scope[5]["national.art16"] == "entity.name.function.indicator"
    assert scope[7] == {"total": "keyword.other.indicator", "100": "constant.numeric.indicator"}


def test_vscode_extension_declares_the_language_and_starts_the_server(tmp_path):
    import shutil

    if shutil.which("node") is None:
        pytest.skip("node is not installed (.ci/run installs it)")
    folder = EDITORS / "vscode"
    manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    language = manifest["contributes"]["languages"][0]
    assert language["id"] == "indicator" and language["extensions"] == [".ind"]
    assert (folder / language["configuration"]).is_file()
    config = json.loads((folder / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#" and ["{", "}"] in config["brackets"]
    grammar = manifest["contributes"]["grammars"][0]
    assert grammar["language"] == "indicator"
    assert json.loads((folder / grammar["path"]).read_text(encoding="utf-8"))["scopeName"] == \
        grammar["scopeName"]
    assert manifest["activationEvents"] == ["onLanguage:indicator"]
    assert "vscode-languageclient" in manifest["dependencies"]
    # Run activate() against stand-ins for the editor API and the client library: the
    # client it builds starts `indicator-eval lsp` over stdio for .ind documents.
    stubs = tmp_path / "node_modules"
    (stubs / "vscode").mkdir(parents=True)
    (stubs / "vscode" / "index.js").write_text(
        "module.exports = { workspace: { getConfiguration: () => ({ get: () => undefined }) },"
        " window: { showErrorMessage: (m) => { global.shown = m; } } };", encoding="utf-8")
    (stubs / "vscode-languageclient").mkdir()
    (stubs / "vscode-languageclient" / "node.js").write_text(
        "class LanguageClient { constructor(id, name, server, client) {"
        " global.made = { id, name, server, client }; }"
        " start() { return Promise.resolve(); } stop() { global.stopped = true; } }"
        "module.exports = { LanguageClient, TransportKind: { stdio: 0 } };", encoding="utf-8")
    script = (
        f"const ext = require({json.dumps(str(folder / 'extension.js'))});"
        "const context = { subscriptions: [] };"
        "Promise.resolve(ext.activate(context)).then(() => { ext.deactivate();"
        " process.stdout.write(JSON.stringify({ made: global.made, stopped: global.stopped,"
        " subscriptions: context.subscriptions.length })); });")
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True,
                          timeout=TIMEOUT, env=dict(os.environ, NODE_PATH=str(stubs)))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["made"]["server"] == {"command": "indicator-eval", "args": ["lsp"],
                                        "transport": 0}
    assert {"scheme": "file", "language": "indicator"} in \
        result["made"]["client"]["documentSelector"]
    assert result["stopped"] is True and result["subscriptions"] == 1


def test_neovim_snippet_attaches_the_server_and_shows_diagnostics(tmp_path):
    import shutil

    if shutil.which("nvim") is None:
        pytest.skip("Neovim is not installed (.ci/run installs it)")
    text = SEED.read_text(encoding="utf-8").replace(
        "score: plan_matched -> full", "score: plan_matchd -> full")
    target = tmp_path / "typo.ind"
    target.write_text(text, encoding="utf-8")
    line, character = _position_of(text, 'C114 "2020')
    out = tmp_path / "out.json"
    probe = tmp_path / "probe.lua"
    probe.write_text(f"""
vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
local result = {{ filetype = vim.bo.filetype, diagnostics = {{}} }}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(result.diagnostics, {{ lnum = d.lnum, col = d.col, message = d.message }})
end
local answers = vim.lsp.buf_request_sync(0, "textDocument/hover", {{
  textDocument = {{ uri = vim.uri_from_bufnr(0) }},
  position = {{ line = {line}, character = {character} }} }}, 20000)
for _, answer in pairs(answers or {{}}) do
  if answer.result then result.hover = answer.result.contents.value end
end
vim.fn.writefile({{ vim.fn.json_encode(result) }}, {json.dumps(str(out))})
vim.cmd("qa!")
""", encoding="utf-8")
    command = json.dumps([sys.executable, "-m", "indicator_dsl", "lsp"])
    done = subprocess.run(
        ["nvim", "--headless", "--clean", "-c", f"let g:indicator_lsp_cmd = {command}",
         "-c", f"luafile {EDITORS / 'nvim' / 'indicator.lua'}", "-c", f"edit {target}",
         "-c", f"luafile {probe}"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=neutral_environment())
    assert out.is_file(), done.stdout + done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["filetype"] == "indicator"
    typo = [d for d in result["diagnostics"] if "plan_matchd" in d["message"]]
    want_line, want_character = _position_of(text, "plan_matchd -> full")
    assert typo and (typo[0]["lnum"], typo[0]["col"]) == (want_line, want_character)
    assert "did you mean 'plan_matched'" in typo[0]["message"]
    assert "慰问人数与预期人数的比例达到100%" in result["hover"]


def test_paths_with_chinese_folder_names_and_spaces(client, tmp_path):
    folder = tmp_path / "云南 指标体系"
    folder.mkdir()
    (folder / "规则库.ind").write_text('rule met(x): x -> full; else -> 0\n', encoding="utf-8")
    text = ('import "规则库.ind" as 库\n\nset "测试"\ntotal 2\nfact done: bool "完成"\n'
            'C1 "完成情况" weight 2: 库.met(done)\n')
    main = folder / "主 文件.ind"
    main.write_text(text, encoding="utf-8")
    uri = client.open(main, text)
    assert [d for d in client.diagnostics(uri) if d["severity"] == 1] == []
    line, character = _position_of(text, "库.met(done)", offset=3)
    found = client.at("textDocument/definition", uri, line, character)
    assert found["uri"] == (folder / "规则库.ind").resolve().as_uri()
    assert found["range"]["start"] == {"line": 0, "character": len("rule ")}


def test_hover_on_chinese_keywords_written_together(client, tmp_path):
    text = ('C1 权重 5: 比率(实际, 预期) >= 100% -> 满分; 每低于 5% -> -0.1; 扣完为止\n')
    uri = client.open(tmp_path / "zh.ind", text)
    client.diagnostics(uri)
    line, character = _position_of(text, "扣完为止", offset=1)
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "关键字 `floor 0`（扣完为止）" in value
    line, character = _position_of(text, "每低于", offset=1)  # one keyword: per … below
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "关键字 `per`" in value and "每低于 5% -> 扣 0.1" in value
    line, character = _position_of(text, "比率", offset=1)
    value = client.at("textDocument/hover", uri, line, character)["contents"]["value"]
    assert "函数 `ratio`" in value
