import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "indicator_sets"  # real regions' tables
LIBRARY = ROOT / "src" / "indicator_dsl" / "library"  # the standard library shipped in the package
SHIPPED_SETS = sorted(SETS.rglob("*.ind")) + sorted(LIBRARY.rglob("*.ind"))


def shipped_name(path: Path) -> str:
    """A shipped set's name: its path under indicator_sets/, or library/… for the library."""
    path = Path(path)
    if path.is_relative_to(LIBRARY):
        return "library/" + path.relative_to(LIBRARY).as_posix()
    return path.relative_to(SETS).as_posix()


def run_cli(*args, cwd=None, input=None, env=None):
    """Run indicator-eval as a real subprocess (the installed console script's module).

    Messages follow the locale: the run is in a neutral one (C.UTF-8, no INDICATOR_LANG)
    unless ``env`` says otherwise, so tests read the same words on every machine."""
    env = dict(neutral_environment(), **(env or {}))
    return subprocess.run([sys.executable, "-m", "indicator_dsl", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env,
                          input=input, timeout=120)


def neutral_environment() -> dict:
    """This process's environment without what would change indicator-eval's language or
    show tracebacks."""
    env = dict(os.environ)
    for name in ("INDICATOR_DEBUG", "INDICATOR_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        env.pop(name, None)
    env["LANG"] = "C.UTF-8"
    return env


@pytest.fixture
def cli():
    return run_cli
