"""The web app as a new user meets it: a real headless Chromium (the system's, driven
by Playwright) against the app on a real uvicorn.

Seed 001 is filled in through the form — its facts file uploaded with a few facts
left out, those typed by hand — and must show 96.4 and 优; then a fact is changed,
a bad value typed, a broken file uploaded, the page reloaded, every report
downloaded and compared with ``indicator-eval eval -o``. Screenshots at desktop and
phone width are written to a temporary folder (printed) for a look.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from indicator_dsl import load_set, loads_facts
from web_support import SEED, SEED_FACTS, SEED_ID, SETS, Server

from conftest import run_cli

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
    "/usr/bin/chromium") else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The facts typed by hand: left out of the uploaded file.
TYPED = {"indicators.C114.visited": "18381", "indicators.C114.expected": "18384",
         "indicators.B21.noncompliant_items": "1"}


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tempfile.mkdtemp(prefix="indicator-web-profile-")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS[1:],
            viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="zh-CN")
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def app():
    with Server(SETS) as url:
        yield url


@pytest.fixture(scope="module")
def shots():
    folder = Path(tempfile.mkdtemp(prefix="indicator-web-shots-"))
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def partial_facts(tmp_path_factory):
    """Seed 001's facts file without the facts typed by hand."""
    text = SEED_FACTS.read_text(encoding="utf-8")
    for line in ("    expected: 18384\n", "    visited: 18381\n", "    noncompliant_items: 1\n"):
        assert line in text
        text = text.replace(line, "")
    path = tmp_path_factory.mktemp("facts") / "partial.facts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def field(page, path):
    return page.locator(f'.field[data-path="{path}"]')


def wait_total(page, total):
    page.wait_for_function("t => document.getElementById('total').textContent === t", arg=total,
                           timeout=20_000)


def wait_idle(page):
    page.wait_for_function("() => document.getElementById('busy').hidden", timeout=20_000)
    page.wait_for_timeout(500)  # past the debounce
    page.wait_for_function("() => document.getElementById('busy').hidden", timeout=20_000)


def type_into(page, path, text):
    box = field(page, path).locator("input, select").first
    box.fill(text)


def test_fill_seed_001_change_a_fact_reload_and_download(browser, app, shots, partial_facts,
                                                         tmp_path):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Open the app and pick seed 001.
    page.goto(app + "/")
    page.click(f'a.set-link[href="/s/{SEED_ID}"]')
    page.wait_for_selector("#ind-C114")
    assert page.inner_text("#set-name") == "2020年春节系列活动经费项目支出绩效评价指标体系"
    page.wait_for_function("() => document.querySelectorAll('#missing li').length > 0")
    page.screenshot(path=str(shots / "empty-desktop.png"), full_page=False)

    # Upload the facts file that lacks three facts: those leaves wait for them.
    page.set_input_files("#facts-file", str(partial_facts))
    page.wait_for_function("() => document.getElementById('source-line').textContent"
                           ".includes('partial.facts.yaml')")
    wait_idle(page)
    assert page.inner_text("#total") == "—"
    missing = page.locator("#missing li").all_inner_texts()
    assert any("实际慰问人数" in m for m in missing)
    assert "待填写" in page.inner_text('[data-score="C114"]')

    # Type them by hand.
    for path, text in TYPED.items():
        type_into(page, path, text)
    wait_total(page, "96.4")
    assert page.inner_text("#grade") == "优"
    assert page.inner_text('[data-score="C114"]') == "得 5 分"
    assert page.inner_text('[data-score="C1115"]') == "得 5.5 分"
    assert "四舍五入为5.5分" in page.inner_text('[data-explanation="C1115"]')
    assert page.locator("#missing li").count() == 0
    page.screenshot(path=str(shots / "seed-desktop.png"), full_page=False)
    page.locator("#ind-C11").screenshot(path=str(shots / "seed-C11-desktop.png"))

    # Change one fact: the leaf and the total change, as the library computes them.
    type_into(page, "indicators.C114.visited", "17000")
    full = SEED_FACTS.read_text(encoding="utf-8").replace("visited: 18381", "visited: 17000")
    expected = load_set(SEED).evaluate(loads_facts(full, "x.yaml"))
    wait_total(page, str(expected.total))
    assert page.inner_text('[data-score="C114"]') == \
        f"得 {expected.by_code()['C114'].score} 分"
    assert page.inner_text('[data-explanation="C114"]') == \
        expected.by_code()["C114"].explanation
    assert str(expected.total) != "96.4"

    # A bad value: marked at its field with the command line's message, in Chinese.
    type_into(page, "indicators.C114.visited", "2.5")
    page.wait_for_selector('.field.invalid[data-path="indicators.C114.visited"]')
    shown = field(page, "indicators.C114.visited").locator(".error .message").inner_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(full.replace("visited: 17000", "visited: 2.5"), encoding="utf-8")
    cli = run_cli("--lang", "zh", "eval", SEED, bad)
    assert shown.startswith("C114：") and "应为不小于0的整数，而不是2.5" in shown
    assert f"错误：{shown}" in cli.stderr
    assert page.inner_text("#total") == "—"
    assert page.inner_text('[data-score="C114"]') == "无法评分"
    page.locator("#ind-C114").screenshot(path=str(shots / "bad-value.png"))
    type_into(page, "indicators.C114.visited", "17000")
    wait_total(page, str(expected.total))

    # A broken file: its error is shown, and what was entered stays.
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: 坏文件\nindicators:\n  C114: {visited: 3\n", encoding="utf-8")
    page.set_input_files("#facts-file", str(broken))
    page.wait_for_selector("#source-error:not([hidden])")
    message = page.inner_text("#source-error")
    cli = run_cli("--lang", "zh", "eval", SEED, broken)
    assert "无法读取上传的文件" in message and "YAML 格式有误" in message
    cli_line = [line for line in cli.stderr.splitlines() if "错误：" in line][0]
    assert cli_line.split(": 错误：")[1] in message
    assert page.inner_text("#total") == str(expected.total)

    # Reload: the typed facts are still there.
    page.reload()
    wait_total(page, str(expected.total))
    assert field(page, "indicators.C114.visited").locator("input").input_value() == "17000"
    assert field(page, "indicators.C114.expected").locator("input").input_value() == "18384"
    assert "partial.facts.yaml" in page.inner_text("#source-line")

    # Downloads: the facts as YAML, and every report as the command line writes it
    # for that YAML.
    with page.expect_download() as got:
        page.click('[data-facts="yaml"]')
    facts_file = tmp_path / got.value.suggested_filename
    got.value.save_as(facts_file)
    assert facts_file.name == "事实.yaml"
    assert "visited: 17000" in facts_file.read_text(encoding="utf-8")
    for fmt in ("html", "xlsx", "docx"):
        with page.expect_download() as got:
            page.click(f'[data-report="{fmt}"]')
        web = tmp_path / f"web.{fmt}"
        got.value.save_as(web)
        assert got.value.suggested_filename == f"评分表.{fmt}"
        out = tmp_path / f"cli.{fmt}"
        cli = run_cli("eval", SEED, facts_file.name, "-o", out, cwd=tmp_path)
        assert cli.returncode == 0, cli.stderr
        assert web.read_bytes() == out.read_bytes(), fmt

    # The uploaded file was never changed.
    assert "visited" not in partial_facts.read_text(encoding="utf-8").split("C114:")[1][:60]
    assert not errors, errors
    page.close()


def test_not_applicable_toggle_and_doc_page(browser, app):
    page = browser.new_page()
    page.goto(f"{app}/s/{SEED_ID}")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.click("#load-example")
    wait_total(page, "96.4")
    page.check('[data-na="B12"]')
    page.wait_for_function("() => document.querySelector('[data-score=\"B12\"]').textContent"
                           " === '不适用'")
    assert "B12不适用" in page.inner_text('[data-explanation="B1"]')
    wait_idle(page)
    text = SEED_FACTS.read_text(encoding="utf-8").replace("  B12:\n", "  B12:\n    不适用: true\n")
    expected = load_set(SEED).evaluate(loads_facts(text, "x.yaml"))
    assert page.inner_text("#total") == str(expected.total)
    page.uncheck('[data-na="B12"]')
    wait_total(page, "96.4")

    # From an indicator to its documentation page.
    with page.expect_navigation():
        page.click('#ind-C114 .doc-link')
    assert page.inner_text("#doc-title").startswith("C114")
    assert "visit_ratio >= 100% -> full" in page.inner_text("#doc-rule")
    assert "ratio(visited, expected)" in page.inner_text("#doc-lets")
    assert "通过" in page.inner_text("#doc-cases")
    page.close()


def test_missing_list_leads_to_the_field(browser, app):
    page = browser.new_page()
    page.goto(f"{app}/s/{SEED_ID}")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#missing li').length > 0")
    first = page.locator("#missing li").first.inner_text()
    assert "C211" in first and "21 分" in first  # the heaviest leaf first
    page.locator("#missing li a").first.click()
    focused = page.evaluate("document.activeElement.dataset.path")
    assert focused == "indicators.C211.happiness_increased"
    page.select_option('[data-path="indicators.C211.happiness_increased"] select', "true")
    page.wait_for_function("() => !document.querySelector('#missing').textContent"
                           ".includes('春节庆祝')")
    page.close()


def test_phone_width_has_no_horizontal_scroll(browser, app, shots):
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{app}/s/{SEED_ID}")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.click("#load-example")
    wait_total(page, "96.4")
    page.screenshot(path=str(shots / "seed-phone.png"), full_page=False)
    page.locator("#ind-C1").screenshot(path=str(shots / "seed-C1-phone.png"))
    for url in (f"{app}/s/{SEED_ID}", f"{app}/", f"{app}/s/{SEED_ID}/doc/C221",
                f"{app}/s/{SEED_ID}/doc"):
        page.goto(url)
        page.wait_for_load_state("load")
        if "/doc" not in url and url.endswith(".ind"):
            wait_total(page, "96.4")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (url, width)
    page.screenshot(path=str(shots / "doc-phone.png"), full_page=True)
    page.close()


def test_prints_on_a4(browser, app, shots):
    page = browser.new_page()
    page.goto(f"{app}/s/{SEED_ID}")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.click("#load-example")
    wait_total(page, "96.4")
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.files')).display") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('.bar')).display") == "none"
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    (shots / "seed.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 40
    page.close()
