"""Language-server responsiveness against `check` alone.

Run:  .venv/bin/python benchmarks/bench_lsp.py [--rounds N]

Prints, in one run, for seed 001 (32 leaves) and for a set extending the national frame:
  * the baseline: api.check_text, what `indicator-eval check` does per file;
  * the server's analysis of one keystroke (check, the file's own parse, compiled plans):
    its time and the ratio to the baseline;
  * round trips over stdio to a running `indicator-eval lsp`: the diagnostics after a change,
    a hover and a completion, each as the editor waits for it (median of the rounds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import queue
import time
from pathlib import Path

from indicator_dsl.api import check_text
from indicator_dsl.lsp import analyse

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "indicator_sets/yunnan/kunming-dongchuan/2020/spring-festival.ind",
        ROOT / "indicator_sets/hubei/wuhan-wuchang/2019/festival-visits.ind"]


def _median(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _Server:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "indicator_dsl", "lsp"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        cwd=ROOT)
        self.inbox = queue.Queue()
        self.ident = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, message):
        body = json.dumps(dict(message, jsonrpc="2.0")).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def wait(self, test):
        while True:
            message = self.inbox.get(timeout=60)
            if "method" in message and "id" in message:
                self.send({"id": message["id"], "result": None})
            elif test(message):
                return message

    def request(self, method, params):
        self.ident += 1
        ident = self.ident
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m)

    def notify(self, method, params):
        self.send({"method": method, "params": params})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    server = _Server()
    server.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {}})
    server.notify("initialized", {})
    for path in SETS:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        check_text(text, str(path))  # warm the parser
        base = _median(lambda: check_text(text, str(path)), args.rounds)
        full = _median(lambda: analyse(text, str(path)), args.rounds)
        print(f"{name}")
        print(f"  check_text (baseline)         {base * 1000:8.1f} ms")
        print(f"  analysis of one keystroke     {full * 1000:8.1f} ms   ratio {full / base:.2f}")
        uri = path.as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "indicator", "version": 1, "text": text}})
        server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        changes, hovers, completions = [], [], []
        marker = text.index("weight")
        line = text.count("\n", 0, marker)
        character = marker - (text.rfind("\n", 0, marker) + 1)
        for version in range(2, 2 + args.rounds):
            edited = text + f"\n# {version}\n"
            start = time.perf_counter()
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": edited}]})
            server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                        and m["params"].get("version") == version)
            changes.append(time.perf_counter() - start)
            position = {"textDocument": {"uri": uri},
                        "position": {"line": line, "character": character}}
            start = time.perf_counter()
            server.request("textDocument/hover", position)
            hovers.append(time.perf_counter() - start)
            start = time.perf_counter()
            server.request("textDocument/completion", position)
            completions.append(time.perf_counter() - start)
        print(f"  diagnostics after a change    {statistics.median(changes) * 1000:8.1f} ms"
              "   (includes the 150 ms pause the server waits for more typing)")
        print(f"  hover round trip              {statistics.median(hovers) * 1000:8.1f} ms")
        print(f"  completion round trip         {statistics.median(completions) * 1000:8.1f} ms")
    server.request("shutdown", None)
    server.notify("exit", None)
    server.process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
