"""The package as a user installs it: a wheel alone, in a fresh virtual environment, away
from the repository. The standard library resolves, `props` runs (hypothesis is a runtime
dependency), and the type marker ships."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, neutral_environment

COUNTY = '''extends "national/2020/self-evaluation.ind"
set "某县项目支出绩效自评"
region "某县"
'''

IMPORTER = '''import "national-rules.ind" as national
fact actual: count in [0, 1000]
fact target: count in [1, 1000]
C1 weight 10: national.art16(actual, target)
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel built from the source tree and installed alone into a new venv."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                            str(dist), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("indicator_dsl-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr
    return wheel, venv / "bin" / "indicator-eval", work


def _run(exe, *args, cwd):
    env = {k: v for k, v in neutral_environment().items()
           if k not in ("INDICATOR_PATH", "PYTHONPATH")}
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_wheel_carries_the_library_grammar_and_type_marker(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("indicator_dsl/library/national-rules.ind",
                 "indicator_dsl/library/national/2020/self-evaluation.ind",
                 "indicator_dsl/library/national/2021/central-self-evaluation.ind",
                 "indicator_dsl/grammars/indicator.lark", "indicator_dsl/py.typed"):
        assert name in names, name


def test_installed_package_resolves_the_standard_library(installed, tmp_path):
    _, exe, _ = installed
    (tmp_path / "county.ind").write_text(COUNTY, encoding="utf-8")
    (tmp_path / "uses.ind").write_text(IMPORTER, encoding="utf-8")
    done = _run(exe, "check", "county.ind", "uses.ind", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "'national/2020/self-evaluation.ind' →" in done.stdout
    assert "(standard library)" in done.stdout
    assert str(ROOT) not in done.stdout  # found inside the installed package, not the checkout


def test_props_runs_after_a_plain_install(installed, tmp_path):
    _, exe, _ = installed
    (tmp_path / "uses.ind").write_text(IMPORTER, encoding="utf-8")
    done = _run(exe, "props", "uses.ind", "--examples", "30", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok" in done.stdout


def test_a_file_of_ones_own_wins_over_the_library(installed, tmp_path):
    _, exe, _ = installed
    (tmp_path / "national-rules.ind").write_text(
        "rule art16(a, t): ratio(a, t) >= 1 -> full; else -> 0\n", encoding="utf-8")
    (tmp_path / "uses.ind").write_text(IMPORTER, encoding="utf-8")
    done = _run(exe, "check", "uses.ind", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(relative to the file)" in done.stdout


def test_installed_package_serves_the_web_app(installed, tmp_path):
    """The web app's pages, script and style sheet travel in the wheel, and `serve`
    runs from a plain install (its packages are runtime dependencies)."""
    import socket
    import time
    import urllib.request

    wheel, exe, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("indicator_dsl/web/templates/set.html", "indicator_dsl/web/static/app.js",
                 "indicator_dsl/web/static/app.css"):
        assert name in names, name
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in neutral_environment().items()
           if k not in ("INDICATOR_PATH", "PYTHONPATH")}
    proc = subprocess.Popen([str(exe), "serve", str(tmp_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=env)
    try:
        assert f"127.0.0.1:{port}" in proc.stdout.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.js",
                                            timeout=30) as resp:
                    assert resp.status == 200 and b"localStorage" in resp.read()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/s/lib/national/2020/"
                                    "self-evaluation.ind", timeout=30) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(20)
