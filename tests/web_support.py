"""A real uvicorn serving the web app in a background thread, for the web tests."""

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "indicator_sets"
SEED = SETS / "yunnan" / "kunming-dongchuan" / "2020" / "spring-festival.ind"
SEED_FACTS = SEED.with_name("spring-festival.facts.yaml")
SEED_ID = "f/yunnan/kunming-dongchuan/2020/spring-festival.ind"


class Server:
    """``with Server(folder) as url:`` — the app on a free port of 127.0.0.1."""

    def __init__(self, target=SETS, host="127.0.0.1"):
        self.target = target
        self.host = host

    def __enter__(self):
        import uvicorn

        from indicator_dsl.web import bind, create_app

        app = create_app(self.target, self.host)
        sock = bind(self.host, 0)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web app did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        return self.url

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(15)


def request(url, data=None, headers=None, method=None):
    """(status, headers, body bytes) — HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def state_for(path=None, name=None, data=None, edits=None, na=None):
    source = None
    if path is not None or data is not None:
        raw = data if data is not None else Path(path).read_bytes()
        source = {"name": name or Path(path).name, "b64": base64.b64encode(raw).decode()}
    return {"source": source, "edits": edits or {}, "na": na or {}}


def post_state(base, set_id, what, state, origin=True):
    url = f"{base}/s/{set_id}/{what}"
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = base
    return request(url, json.dumps({"state": state}).encode("utf-8"), headers, "POST")


def multipart(field, filename, content, boundary="----indicatorTestBoundary"):
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode("utf-8") + content + f"\r\n--{boundary}--\r\n".encode("utf-8")
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
