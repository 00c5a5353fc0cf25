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


def run_cli(*args, cwd=None, input=None):
    """Run indicator-eval as a real subprocess (the installed console script's module)."""
    env = dict(os.environ)
    env.pop("INDICATOR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "indicator_dsl", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env,
                          input=input, timeout=120)


@pytest.fixture
def cli():
    return run_cli
