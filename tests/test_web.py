"""The web app over real HTTP: a real uvicorn on a free port of 127.0.0.1.

What a browser's script sends and receives (the form's JSON), the reports compared
byte for byte with ``indicator-eval eval -o``, and the security promises: no file
outside the chosen folder, size limits, cross-origin POSTs and foreign Host names
refused, user text escaped, uploaded sets confined to the standard library.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indicator_dsl import load_facts, load_set, loads_facts
from web_support import (ROOT, SEED, SEED_FACTS, SEED_ID, SETS, Server, multipart, post_state,
                         request, state_for)

from conftest import neutral_environment, run_cli


@pytest.fixture(scope="module")
def app():
    with Server(SETS) as url:
        yield url


def evaluate(app, state, set_id=SEED_ID):
    status, _headers, body = post_state(app, set_id, "evaluate", state)
    assert status == 200, body[:500]
    return json.loads(body)


# ------------------------------------------------------------------ pages


def test_index_lists_the_folder_and_the_standard_library(app):
    status, headers, body = request(app + "/")
    page = body.decode("utf-8")
    assert status == 200
    assert "选择指标体系" in page
    assert f'href="/s/{SEED_ID}"' in page
    assert "2020年春节系列活动经费项目支出绩效评价指标体系" in page
    assert 'href="/s/lib/national/2020/self-evaluation.ind"' in page
    assert "default-src 'self'" in headers["content-security-policy"]


def test_set_page_is_the_form_skeleton_with_standards(app):
    status, _h, body = request(f"{app}/s/{SEED_ID}")
    page = body.decode("utf-8")
    assert status == 200
    assert 'id="ind-C114"' in page and 'data-fields="C114"' in page
    assert 'data-na="C114"' in page
    # The 评分标准 beside the fields, verbatim from the set.
    scorer = load_set(SEED)
    assert scorer.checked.by_code["C114"].node.standard in page
    assert "/static/app.js" in page and "http" not in page.split("/static/app.js")[0][-40:]


def test_static_assets_are_served_by_the_package(app):
    for name in ("app.js", "app.css", "favicon.svg"):
        status, _h, body = request(f"{app}/static/{name}")
        assert status == 200 and len(body) > 100
    js = request(f"{app}/static/app.js")[2].decode("utf-8")
    assert "innerHTML" not in js and "eval(" not in js  # user text only via textContent
    css = request(f"{app}/static/app.css")[2].decode("utf-8")
    assert "@media print" in css and "max-width: 760px" in css and "@import" not in css


def test_library_sets_and_rule_libraries(app, tmp_path):
    status, _h, body = request(f"{app}/s/lib/national/2020/self-evaluation.ind")
    assert status == 200 and "2020" in body.decode("utf-8")
    (tmp_path / "rules.ind").write_text("rule full_if(c): c -> full; else -> 0\n",
                                        encoding="utf-8")
    with Server(tmp_path) as url:
        assert "规则库（供引用，不能直接评分）" in request(url + "/")[2].decode("utf-8")
        status, _h, body = request(f"{url}/s/f/rules.ind")
        assert status == 422 and "规则库" in body.decode("utf-8")


# --------------------------------------------------------------- scoring


def test_seed_facts_score_96_4(app):
    view = evaluate(app, state_for(SEED_FACTS))
    assert view["ok"] and view["total"] == "96.4" and view["grade"] == "优"
    assert view["edited"] is False and view["source"] == "spring-festival.facts.yaml"
    assert view["indicators"]["C1115"]["score"] == "5.5"
    expected = load_set(SEED).evaluate(load_facts(SEED_FACTS))
    assert view["indicators"]["C1115"]["explanation"] == \
        expected.by_code()["C1115"].explanation
    # The shared facts are fields at the project level; a group's fact given leaf by
    # leaf has a field at each leaf.
    fields = {f["path"]: f for f in view["fields"]}
    assert fields["budget"]["text"] == "2,197,150" and fields["budget"]["unit"] == "元"
    assert fields["budget"]["readers"] == ["B13", "C1115"]
    assert {"indicators.B321.execution", "indicators.B322.execution"} <= set(fields)
    assert fields["indicators.C221.sat_output"]["text"] == "95"  # 95%, shown in percent
    assert fields["indicators.B12.adjustment"]["levels"] == ["规范", "部分规范", "不规范"]


def test_a_typed_fact_changes_the_leaf_and_the_total(app):
    edits = {"indicators.C114.visited": {"text": "17000"}}
    view = evaluate(app, state_for(SEED_FACTS, edits=edits))
    text = SEED_FACTS.read_text(encoding="utf-8").replace("visited: 18381", "visited: 17000")
    expected = load_set(SEED).evaluate(loads_facts(text, "x.yaml"))
    assert view["edited"] is True
    assert view["indicators"]["C114"]["score"] == str(expected.by_code()["C114"].score)
    assert view["total"] == str(expected.total) != "96.4"


def test_money_in_another_unit_and_percent_in_percent(app):
    edits = {"budget": {"text": "219.715", "unit": "万元"},
             "indicators.C221.sat_output": {"text": "80"}}
    view = evaluate(app, state_for(SEED_FACTS, edits=edits))
    assert view["indicators"]["B13"]["score"] == "2"  # 2,197,150元 as before
    c221 = view["indicators"]["C221"]
    assert "80%" in c221["explanation"] and c221["score"] != "9"


def test_a_bad_value_is_marked_at_its_field_with_the_cli_message(app, tmp_path):
    view = evaluate(app, state_for(SEED_FACTS, edits={"indicators.C114.visited":
                                                      {"text": "2.5"}}))
    messages = view["field_errors"]["indicators.C114.visited"]
    assert view["indicators"]["C114"]["status"] == "error"
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEED_FACTS.read_text(encoding="utf-8").replace("visited: 18381",
                                                                   "visited: 2.5"),
                   encoding="utf-8")
    # The page speaks Chinese: the message `indicator-eval --lang zh` prints, the English
    # one beside it.
    cli = run_cli("--lang", "zh", "eval", SEED, bad)
    assert cli.returncode == 4
    assert f"错误：{messages[0]['message']}" in cli.stderr
    assert messages[0]["message"].startswith("C114：") and "2.5" in messages[0]["message"]
    english = run_cli("--lang", "en", "eval", SEED, bad)
    assert english.returncode == 4 and f"error: {messages[0]['en']}" in english.stderr
    assert messages[0]["en"] == "C114: fact 'visited' must be a whole number of at " \
                                "least 0, not 2.5"


def test_a_shared_fact_error_is_shown_once_per_reader(app):
    view = evaluate(app, state_for(SEED_FACTS, edits={"budget": {"text": "abc"}}))
    messages = [m["en"] for m in view["field_errors"]["budget"]]
    assert len(messages) == 2 and messages[0].startswith("B13: fact 'budget'") and \
        messages[1].startswith("C1115: fact 'budget'")
    shown = [m["message"] for m in view["field_errors"]["budget"]]
    assert shown[0].startswith("B13：") and shown[1].startswith("C1115：")


def test_still_needed_most_points_at_stake_first(app):
    view = evaluate(app, state_for())
    missing = view["missing"]
    stakes = [float(m["stake"]) for m in missing]
    assert stakes == sorted(stakes, reverse=True)
    scorer = load_set(SEED)
    heaviest = max(leaf.weight for leaf in scorer.checked.leaves())
    assert float(missing[0]["stake"]) == float(heaviest)  # C211, 21 points
    # budget is read by B13 (2) and C1115 (6): 8 points at stake, at its project field.
    budget = next(m for m in missing if m["path"] == "budget")
    assert budget["codes"] == ["B13", "C1115"] and budget["stake"] == "8"
    assert view["indicators"]["C114"]["pending"] is True
    assert view["total"] is None and not view["ok"]
    # Fill C114's two facts: it scores and leaves the list.
    view = evaluate(app, state_for(edits={"indicators.C114.visited": {"text": "95"},
                                          "indicators.C114.expected": {"text": "100"}}))
    assert view["indicators"]["C114"]["status"] == "scored"
    assert not any("C114" in m["codes"] for m in view["missing"])


def test_not_applicable_toggle_rescales_like_the_facts_file(app):
    view = evaluate(app, state_for(SEED_FACTS, na={"B12": True}))
    text = SEED_FACTS.read_text(encoding="utf-8").replace(
        "  B12:\n", "  B12:\n    不适用: true\n")
    expected = load_set(SEED).evaluate(loads_facts(text, "x.yaml"))
    assert view["indicators"]["B12"]["status"] == "not_applicable"
    assert view["indicators"]["B1"]["explanation"] == expected.by_code()["B1"].explanation
    assert view["total"] == str(expected.total)
    assert "B12" in view["na"]


def test_a_broken_upload_is_reported_and_not_adopted(app):
    broken = b"name: x\nindicators:\n  C114: {visited: 3\n"
    view = evaluate(app, state_for(data=broken, name="broken.yaml"))
    (message,) = view["source_error"]
    assert "YAML 格式有误" in message["text"] and message["location"].startswith("broken.yaml:")
    assert "broken YAML" in message["en"]
    cli_file = ROOT / "tests" / "_broken_web.yaml"
    try:
        cli_file.write_bytes(broken)
        cli = run_cli("--lang", "zh", "eval", SEED, cli_file)
    finally:
        cli_file.unlink()
    assert message["message"] in cli.stderr


def test_spreadsheet_facts_without_the_tabular_module(app):
    pytest.importorskip("openpyxl")
    from indicator_dsl.web.form import spreadsheets_supported

    if spreadsheets_supported():
        pytest.skip("indicator_dsl.tabular is present: covered by test_web_tabular.py")
    view = evaluate(app, state_for(data=b"PK\x03\x04", name="facts.xlsx"))
    assert "电子表格" in view["source_error"][0]["message"]
    body, headers = multipart("file", "projects.xlsx", b"PK\x03\x04")
    headers["Origin"] = app
    status, _h, page = request(f"{app}/s/{SEED_ID}/batch", body, headers, "POST")
    assert status == 501 and "电子表格" in page.decode("utf-8")


# -------------------------------------------------------------- downloads


@pytest.mark.parametrize("fmt", ["html", "xlsx", "docx"])
def test_reports_are_the_clis_byte_for_byte(app, tmp_path, fmt):
    # The report names the facts file as the command line was given it; the page
    # names an upload by its file name, so the command runs beside the file.
    out = tmp_path / f"cli.{fmt}"
    cli = run_cli("eval", SEED, SEED_FACTS.name, "-o", out, cwd=SEED_FACTS.parent)
    assert cli.returncode == 0, cli.stderr
    status, headers, body = post_state(app, SEED_ID, f"report.{fmt}", state_for(SEED_FACTS))
    assert status == 200
    assert "attachment" in headers["content-disposition"]
    assert body == out.read_bytes()


def test_edited_facts_report_is_the_clis_for_the_downloaded_yaml(app, tmp_path):
    state = state_for(SEED_FACTS, edits={"indicators.C114.visited": {"text": "17000"},
                                         "name": {"text": "改过的项目"}},
                      na={"B12": True})
    status, headers, facts = post_state(app, SEED_ID, "facts.yaml", state)
    assert status == 200 and "filename*=UTF-8''%E4%BA%8B%E5%AE%9E.yaml" in \
        headers["content-disposition"]
    saved = tmp_path / "事实.yaml"
    saved.write_bytes(facts)
    for fmt in ("xlsx", "docx", "html"):
        out = tmp_path / f"cli.{fmt}"
        cli = run_cli("eval", SEED, saved.name, "-o", out, cwd=tmp_path)
        assert cli.returncode == 0, cli.stderr
        status, _h, body = post_state(app, SEED_ID, f"report.{fmt}", state)
        assert status == 200 and body == out.read_bytes(), fmt
    assert "改过的项目".encode("utf-8") in (tmp_path / "cli.html").read_bytes()


def test_unchanged_yaml_upload_downloads_byte_for_byte(app):
    status, headers, body = post_state(app, SEED_ID, "facts.yaml", state_for(SEED_FACTS))
    assert status == 200 and body == SEED_FACTS.read_bytes()
    assert "spring-festival.facts.yaml" in headers["content-disposition"]


def test_incomplete_facts_give_no_report(app):
    status, _h, body = post_state(app, SEED_ID, "report.xlsx", state_for())
    assert status == 422
    assert "无法评分" in json.loads(body)["error"]


def test_example_facts_are_the_file_beside_the_set(app):
    status, _h, body = request(f"{app}/s/{SEED_ID}/example-facts")
    assert status == 200 and body == SEED_FACTS.read_bytes()


# --------------------------------------------------------------- security


TRAVERSALS = [
    "/s/f/../../../../etc/passwd",
    "/s/f/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/s/f/..%2f..%2f..%2fpyproject.toml",
    "/s/f/yunnan/../../pyproject.toml",
    "/s/f/../../src/indicator_dsl/library/national-rules.ind",
    "/s/f/%2e%2e/tests/web_support.py",
    "/s/lib/../../web/app.py",
    "/s/lib/%2e%2e/%2e%2e/%2e%2e/%2e%2e/README.md",
    "/s/f//etc/passwd",
    "/s/f/yunnan/kunming-dongchuan/2020/../../../../../pyproject.toml.ind/example-facts",
    "/s/u/../../etc/passwd",
    "/static/../app.py",
    "/static/%2e%2e/app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(app, path):
    # Sent as written (http.client does not normalise the path).
    import http.client

    host = app.split("//")[1]
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status in (400, 404), (path, resp.status)
    for secret in (b"root:x:", b"[build-system]", b"def create_app", b"indicator-dsl",
                   b"import uvicorn"):
        assert secret not in body, path


def test_nothing_outside_the_folder_even_through_a_link(tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    (folder / "ok.ind").write_text('set "内"\nA "甲" weight 1: true -> full\n',
                                   encoding="utf-8")
    outside = tmp_path / "secret.ind"
    outside.write_text('set "外面的秘密"\nA "乙" weight 1: true -> full\n', encoding="utf-8")
    (tmp_path / "secret.facts.yaml").write_text("name: 秘密\n", encoding="utf-8")
    os.symlink(outside, folder / "link.ind")
    with Server(folder) as url:
        page = request(url + "/")[2].decode("utf-8")
        assert "/s/f/ok.ind" in page and "link.ind" not in page and "外面的秘密" not in page
        for path in ("/s/f/link.ind", "/s/f/../secret.ind", "/s/f/%2e%2e/secret.ind",
                     "/s/f/ok.ind/../../secret.ind", "/s/f/../secret.ind/example-facts"):
            status, _h, body = request(url + path)
            assert status == 404, path
            assert "外面的秘密".encode("utf-8") not in body and "秘密".encode() not in body


def test_oversized_bodies_are_refused(app):
    from indicator_dsl.web.app import MAX_BODY, MAX_FACTS_UPLOAD, MAX_SET_UPLOAD

    # A facts file over the limit, inside a JSON state.
    state = state_for(data=b"a: 1\n" * (MAX_FACTS_UPLOAD // 5 + 10), name="big.yaml")
    status, _h, body = post_state(app, SEED_ID, "evaluate", state)
    assert status == 413 and "上限" in json.loads(body)["error"]
    # An uploaded .ind over its limit.
    body, headers = multipart("file", "big.ind", b"# x\n" * (MAX_SET_UPLOAD // 4 + 10))
    headers["Origin"] = app
    status, _h, page = request(app + "/upload-set", body, headers, "POST")
    assert status == 413 and "上限" in page.decode("utf-8")
    # A Content-Length over the absolute limit is refused before anything is read.
    host = app.split("//")[1]
    name, port = host.split(":")
    with socket.create_connection((name, int(port))) as sock:
        sock.sendall(f"POST /s/{SEED_ID}/evaluate HTTP/1.1\r\nHost: {host}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {MAX_BODY + 1}\r\n"
                     "\r\n".encode())
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413")


def test_a_chunked_body_over_the_limit_is_cut_off(app):
    import http.client

    from indicator_dsl.web.app import MAX_FACTS_UPLOAD

    host = app.split("//")[1]
    conn = http.client.HTTPConnection(host, timeout=60)
    chunk = b"x" * 1_000_000

    def body():
        for _ in range(MAX_FACTS_UPLOAD * 2 // len(chunk)):
            yield chunk

    conn.request("POST", f"/s/{SEED_ID}/evaluate", body=body(),
                 headers={"Content-Type": "application/json", "Origin": app},
                 encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 413
    conn.close()


def test_cross_origin_posts_and_foreign_hosts_are_refused(app):
    data = json.dumps({"state": state_for(SEED_FACTS)}).encode()
    url = f"{app}/s/{SEED_ID}/evaluate"
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": app.replace("127.0.0.1", "localhost")}):
        status, _h, body = request(url, data, {"Content-Type": "application/json", **headers},
                                   "POST")
        assert status == 403, headers
        assert "其他网站" in body.decode("utf-8")
    status, _h, _b = request(url, data, {"Content-Type": "application/json",
                                         "Origin": app}, "POST")
    assert status == 200
    # A page reached through another name (DNS rebinding) gets nothing.
    status, _h, body = request(app + "/", headers={"Host": "evil.example"})
    assert status == 421 and b"spring" not in body


def test_uploaded_set_is_kept_in_memory_and_escaped(app, tmp_path):
    text = ('set "<script>alert(1)</script>测试"\n'
            'fact n: count "<img src=x onerror=alert(2)>次数"\n'
            'A "<b>甲</b>" weight 10 {\n'
            '  standard "<i>标准</i>"\n'
            '  score: n >= 3 -> full; else -> 0\n'
            '}\n')
    before = sorted(p.name for p in SETS.rglob("*"))
    body, headers = multipart("file", "../../evil<name>.ind", text.encode("utf-8"))
    headers["Origin"] = app
    status, h, page = request(app + "/upload-set", body, headers, "POST")
    # urllib follows the 303 to the set's page.
    html = page.decode("utf-8")
    assert status == 200
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;测试" in html
    assert "<b>甲</b>" not in html and "&lt;b&gt;甲&lt;/b&gt;" in html
    assert "<i>标准</i>" not in html
    assert sorted(p.name for p in SETS.rglob("*")) == before  # nothing written
    index = request(app + "/")[2].decode("utf-8")
    import re

    set_id = re.search(r'href="/s/(u/[0-9a-f]+)"', index).group(1)
    assert "evil&lt;name&gt;.ind" in index  # the name without its folders, escaped
    view = evaluate(app, state_for(edits={"indicators.A.n": {"text": "3"}}), set_id)
    assert view["total"] == "10"
    fields = {f["path"]: f for f in view["fields"]}
    assert fields["indicators.A.n"]["label"] == "<img src=x onerror=alert(2)>次数"  # data


@pytest.mark.parametrize("statement", [
    'import "../../../etc/passwd" as x', 'import "/etc/passwd" as x',
    'extends "../spring-festival.ind"', 'import "C:/x.ind" as x',
    'import "national-rules.ind/../../api.py" as x'])
def test_uploaded_set_may_only_import_the_standard_library(app, statement):
    text = f'{statement}\nset "上传"\nA "甲" weight 1: true -> full\n'
    body, headers = multipart("file", "up.ind", text.encode("utf-8"))
    headers["Origin"] = app
    status, _h, page = request(app + "/upload-set", body, headers, "POST")
    html = page.decode("utf-8")
    assert status == 400 and "只能引用标准库" in html
    assert "root:x:" not in html


def test_uploaded_set_importing_the_library_works(app):
    text = ('import "national-rules.ind" as nr\nset "上传"\n'
            'fact done: bool "已完成"\nA "甲" weight 5: done -> full; else -> 0\n')
    body, headers = multipart("file", "lib-user.ind", text.encode("utf-8"))
    headers["Origin"] = app
    status, _h, page = request(app + "/upload-set", body, headers, "POST")
    assert status == 200 and 'id="ind-A"' in page.decode("utf-8")


def test_set_with_errors_shows_every_problem(tmp_path):
    (tmp_path / "bad.ind").write_text('set "坏"\nA "甲" weight 5: unknown_fact >= 1 -> full\n'
                                      'B "乙" weight 5: x -> \n', encoding="utf-8")
    with Server(tmp_path) as url:
        assert "有 " in request(url + "/")[2].decode("utf-8")
        status, _h, body = request(url + "/s/f/bad.ind")
        page = body.decode("utf-8")
        cli = run_cli("--lang", "zh", "check", tmp_path / "bad.ind")
        assert status == 422 and "有错误" in page
        first = [line for line in cli.stderr.splitlines() if ": 错误：" in line][0]
        import html

        assert html.escape(first.split(": 错误：")[1], quote=False) in page


# --------------------------------------------------------------- documentation


def test_indicator_documentation_page(app):
    status, _h, body = request(f"{app}/s/{SEED_ID}/doc/C114")
    page = body.decode("utf-8")
    assert status == 200
    scorer = load_set(SEED)
    node = scorer.checked.by_code["C114"]
    import html

    assert html.escape(scorer.checked.text_of(node.rule), quote=False) in page
    assert html.escape(node.node.standard, quote=False) in page
    assert "实际慰问人数（人或户）" in page and "<code>visited</code>" in page
    assert 'href="/s/' + SEED_ID + '/doc/C11"' in page  # its place in the tree
    assert "黄金用例" in page and "C114 at exactly 95%" in page and "通过" in page
    status, _h, body = request(f"{app}/s/{SEED_ID}/doc")
    assert status == 200 and body.decode("utf-8").count("/doc/") >= len(scorer.codes)
    assert request(f"{app}/s/{SEED_ID}/doc/NOPE")[0] == 404


def test_documentation_shows_overrides_and_imports(app):
    set_id = "f/yunnan/kunming-wuhua/2023/hardship-aid.ind"
    page = request(f"{app}/s/{set_id}/doc/B1")[2].decode("utf-8")
    origins = load_set(SETS / set_id[2:]).checked.origins["B1"]
    # In Chinese, as the page is: “分值来自 hardship-aid.ind:12”.
    assert origins and all(o.cn in page and "来自" in o.cn for o in origins)
    assert "national/2020/self-evaluation.ind" in page and "标准库" in page


# ------------------------------------------------------------------ the command


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_prints_its_address_and_serves(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    env.pop("INDICATOR_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "serve", str(SEED),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line and "评分网页" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _h, body = request(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert status == 200 and f"/s/f/{SEED.name}" in body.decode("utf-8")
        # Only that set from its folder.
        assert "trade-union" not in body.decode("utf-8")
        # Listening on 127.0.0.1 only: not on the machine's other addresses.
        with socket.socket() as probe:
            probe.settimeout(2)
            hostname_ip = socket.gethostbyname(socket.gethostname())
            if not hostname_ip.startswith("127."):
                assert probe.connect_ex((hostname_ip, port)) != 0
        # The port is taken now: a second server says so, without a traceback.
        second = run_cli("serve", SEED, "--port", port)
        assert second.returncode == 5
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        proc.terminate()
        proc.wait(20)


def test_serve_says_what_to_install_when_the_web_packages_are_missing():
    code = ("import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None; "
            "from indicator_dsl.cli import main; sys.exit(main(['serve', '.']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, env=neutral_environment())
    assert result.returncode == 2
    assert "starlette, uvicorn not installed" in result.stderr
    assert "pip install starlette uvicorn python-multipart" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_rejects_a_missing_folder():
    result = run_cli("serve", "no/such/folder", "--port", _free_port())
    assert result.returncode == 5 and "no such file or folder" in result.stderr
