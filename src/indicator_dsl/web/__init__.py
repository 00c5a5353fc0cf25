"""``indicator-eval serve``: a local web app to fill in a project's facts and watch
every score, justification, subtotal, the total and the grade as they are entered.

Starlette on uvicorn; jinja2 pages; the script and style sheet are served by the
package (no build step, nothing fetched from elsewhere: it works offline). See
docs/web.md.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Optional

from ..errors import ERROR, Diagnostic, IndicatorError

MISSING_HINT = ("the web app needs starlette, uvicorn and python-multipart; install them "
                "with: pip install starlette uvicorn python-multipart (they come with "
                "pip install indicator-dsl)")


class WebUnavailable(IndicatorError):
    exit_code = 2


class PortError(IndicatorError):
    exit_code = 5


def require_web() -> None:
    """Raise WebUnavailable, saying what to install, when a web dependency is missing."""
    missing = []
    import importlib.util

    for module, package in (("starlette", "starlette"), ("uvicorn", "uvicorn"),
                            ("python_multipart", "python-multipart")):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if module == "python_multipart" and not found:
            found = importlib.util.find_spec("multipart") is not None
        if not found:
            missing.append(package)
    if missing:
        raise WebUnavailable(Diagnostic(
            ERROR, f"cannot start the web app: {', '.join(missing)} not installed",
            hint=MISSING_HINT, message_cn=f"无法启动评分网页：没有安装 {'、'.join(missing)}",
            hint_cn="评分网页需要 starlette、uvicorn 和 python-multipart；请用 "
                    "pip install starlette uvicorn python-multipart 安装（安装 indicator-dsl "
                    "时会一并安装）"))


def create_app(target: Optional[Path] = None, host: str = "127.0.0.1"):
    require_web()
    from .app import create_app as build

    return build(target, host)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or PortError saying why not (port in use …)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        in_use = exc.errno in (98, 48, 10048)
        hint = f"try another port: --port {port + 1}" if in_use else "check --host"
        hint_cn = f"请换一个端口：--port {port + 1}" if in_use else "请检查 --host"
        raise PortError(Diagnostic(ERROR, f"cannot listen on {host}:{port}: "
                                   f"{exc.strerror or exc}", hint=hint,
                                   message_cn=f"无法在 {host}:{port} 上监听："
                                              f"{exc.strerror or exc}",
                                   hint_cn=hint_cn)) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(target: Optional[Path] = None, host: str = "127.0.0.1", port: int = 8000,
          out=None) -> int:
    """Run the app until interrupted; prints the address first."""
    out = out or sys.stdout
    require_web()
    if target is not None and not Path(target).exists():
        from ..errors import FileAccessError

        raise FileAccessError(Diagnostic(ERROR, "no such file or folder", file=str(target),
                                         hint="give a folder of .ind files or one .ind file",
                                         message_cn="没有这个文件或文件夹",
                                         hint_cn="请给出放有 .ind 文件的文件夹，或一个 .ind 文件"))
    import uvicorn

    app = create_app(target, host)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    print(f"indicator-eval: 评分网页已启动：{url_for(host, actual)}  （按 Ctrl+C 停止）",
          file=out, flush=True)
    if host in ("0.0.0.0", "::"):
        print("indicator-eval: 注意：已在所有网络地址上监听，同一网络中的其他电脑也能访问",
              file=out, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0
