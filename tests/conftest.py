import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
