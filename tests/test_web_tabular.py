"""The web app with spreadsheets (indicator_dsl.tabular): one project's facts from an
.xlsx, the facts downloaded as a fillable .xlsx, and a many-project upload shown as a
table whose rows open to their scores. Runs once the spreadsheet module is present."""

import json
import re

import pytest

tabular = pytest.importorskip("indicator_dsl.tabular")

from indicator_dsl import load_facts, load_set, loads_facts  # noqa: E402
from web_support import (SEED, SEED_FACTS, SEED_ID, SETS, Server, multipart,  # noqa: E402
                         post_state, request, state_for)


@pytest.fixture(scope="module")
def app():
    with Server(SETS) as url:
        yield url


@pytest.fixture(scope="module")
def seed_xlsx():
    scorer = load_set(SEED)
    return tabular.facts_template(scorer, fmt="xlsx", facts=load_facts(SEED_FACTS))


def test_one_project_from_an_xlsx(app, seed_xlsx):
    want = load_set(SEED).evaluate(loads_facts(seed_xlsx, "facts.xlsx", ".xlsx"))
    status, _h, body = post_state(app, SEED_ID, "evaluate",
                                  state_for(data=seed_xlsx, name="facts.xlsx"))
    view = json.loads(body)
    assert status == 200 and "source_error" not in view, view
    assert view["total"] == str(want.total)
    assert view["total"] == "96.4"


def test_facts_download_as_xlsx(app):
    status, headers, body = post_state(app, SEED_ID, "facts.xlsx", state_for(SEED_FACTS))
    assert status == 200 and body.startswith(b"PK")
    assert "spreadsheetml" in headers["content-type"]
    again = load_set(SEED).evaluate(loads_facts(body, "事实.xlsx", ".xlsx"))
    assert again.total is not None and str(again.total) == "96.4"


def test_many_projects_table_and_each_project(app, seed_xlsx):
    scorer = load_set(SEED)
    rows = list(tabular.read_projects(seed_xlsx, "projects.xlsx", scorer))
    body, headers = multipart("file", "projects.xlsx", seed_xlsx)
    headers["Origin"] = app
    status, _h, page = request(f"{app}/s/{SEED_ID}/batch", body, headers, "POST")
    html = page.decode("utf-8")
    assert status == 200 and "批量评分" in html
    links = re.findall(r'href="(/s/[^"]+/batch/[0-9a-f]+/\d+)"', html)
    assert len(links) == len(rows)
    for link, row in zip(links, rows):
        status, _h, detail = request(app + link)
        assert status == 200
        if row.facts is not None and row.error is None:
            total = scorer.evaluate(row.facts).total
            assert f'id="total">{total}<' in detail.decode("utf-8")
