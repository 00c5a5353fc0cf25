"""The sets the web app offers: those of the chosen folder, the standard library's,
and sets uploaded in the browser (kept in memory only).

A set is looked up by its id — ``f/<path in the folder>``, ``lib/<path in the
library>`` or ``u/<digest>`` — in tables built from the folder's listing, never by
joining a requested path onto a folder, so no request can reach a file outside
the folder or the library.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple

import attrs

from ..api import IndicatorSet, check_text
from ..errors import ERROR, Diagnostic, IndicatorError, SetError
from ..modules import library_dir, shipped_sets
from ..parser import parse_recovering, read_source

MAX_SETS = 2000  # sets listed from one folder
MAX_UPLOADED_SETS = 50  # uploaded sets kept in memory (oldest forgotten first)
_SKIPPED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
                 ".mypy_cache", ".pytest_cache", ".tox", "site-packages"}


@attrs.define(eq=False)
class SetEntry:
    id: str  # f/…, lib/… or u/…
    kind: str  # "folder", "library" or "upload"
    label: str  # the path shown in lists
    path: Optional[Path]  # the file, for folder and library sets
    text: Optional[str] = None  # the uploaded text
    loaded: Optional[Tuple] = None  # (stamp, IndicatorSet or SetError)

    @property
    def folder(self) -> Optional[Path]:
        return self.path.parent if self.path is not None else None

    def sibling(self, suffix: str) -> Optional[Path]:
        """``NAME<suffix>`` beside the set (its facts or golden cases), if it exists."""
        if self.path is None:
            return None
        candidate = self.path.with_name(self.path.stem + suffix)
        return candidate if candidate.is_file() else None


class Catalog:
    def __init__(self, target: Optional[Path] = None):
        self.lock = threading.RLock()
        self.root: Optional[Path] = None
        self.only: Optional[Path] = None
        if target is not None:
            target = Path(target).resolve()
            if target.is_file():
                self.root, self.only = target.parent, target
            else:
                self.root = target
        self.uploads: "OrderedDict[str, SetEntry]" = OrderedDict()
        self._folder: Optional[Dict[str, SetEntry]] = None
        self._library: Optional[Dict[str, SetEntry]] = None

    # --- listings
    def folder_sets(self) -> Dict[str, SetEntry]:
        with self.lock:
            if self._folder is None:
                self._folder = {}
                for path in self._scan():
                    rel = path.relative_to(self.root).as_posix()
                    entry = SetEntry(f"f/{rel}", "folder", rel, path)
                    self._folder[entry.id] = entry
            return self._folder

    def refresh(self) -> None:
        """Forget the folder's listing (new files appear on the next look)."""
        with self.lock:
            old = self._folder or {}
            self._folder = None
            for entry_id, entry in self.folder_sets().items():
                if entry_id in old:
                    entry.loaded = old[entry_id].loaded

    def _scan(self) -> List[Path]:
        if self.root is None:
            return []
        if self.only is not None:
            return [self.only]
        root = self.root
        found: List[Path] = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            for name in sorted(files):
                if not name.endswith(".ind"):
                    continue
                path = Path(folder) / name
                # A link leading out of the folder is not the folder's.
                try:
                    if not path.resolve().is_relative_to(root) or not path.is_file():
                        continue
                except OSError:
                    continue
                found.append(path)
                if len(found) >= MAX_SETS:
                    return found
        return found

    def library_sets(self) -> Dict[str, SetEntry]:
        with self.lock:
            if self._library is None:
                base = library_dir()
                self._library = {}
                for path in shipped_sets():
                    rel = path.relative_to(base).as_posix()
                    entry = SetEntry(f"lib/{rel}", "library", rel, path)
                    self._library[entry.id] = entry
            return self._library

    def get(self, set_id: str) -> Optional[SetEntry]:
        if set_id.startswith("f/"):
            return self.folder_sets().get(set_id)
        if set_id.startswith("lib/"):
            return self.library_sets().get(set_id)
        if set_id.startswith("u/"):
            with self.lock:
                entry = self.uploads.get(set_id)
                if entry is not None:
                    self.uploads.move_to_end(set_id)
                return entry
        return None

    # --- uploads
    def add_upload(self, name: str, data: bytes) -> SetEntry:
        """Keep an uploaded ``.ind`` in memory. Raises SetError when it cannot be used."""
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SetError(Diagnostic(ERROR, f"not valid UTF-8 (byte {exc.start})", file=name,
                                      hint="save the file as UTF-8",
                                      message_cn="文件不是有效的 UTF-8 文本",
                                      hint_cn="请另存为 UTF-8 编码")) from None
        if "\x00" in text:
            raise SetError(Diagnostic(ERROR, "the file contains NUL characters", file=name,
                                      message_cn="文件中有 NUL 字符"))
        _check_upload_imports(text, name)
        digest = hashlib.sha256(name.encode("utf-8") + b"\0" + data).hexdigest()[:20]
        entry = SetEntry(f"u/{digest}", "upload", name, None, text=text)
        with self.lock:
            self.uploads[entry.id] = entry
            self.uploads.move_to_end(entry.id)
            while len(self.uploads) > MAX_UPLOADED_SETS:
                self.uploads.popitem(last=False)
        return entry

    # --- loading
    def load(self, entry: SetEntry) -> IndicatorSet:
        """The set, parsed, checked and compiled; reloaded when its files change.
        Raises SetError (every problem of the file) or FileAccessError."""
        with self.lock:
            stamp = _stamp(entry)
            if entry.loaded is not None and entry.loaded[0] == stamp:
                result = entry.loaded[1]
            else:
                result = _load(entry)
                stamp = _stamp(entry, result) if not isinstance(result, Exception) else stamp
                entry.loaded = (stamp, result)
            if isinstance(result, Exception):
                raise result
            return result


def _stamp(entry: SetEntry, scorer: Optional[IndicatorSet] = None):
    """What changes when the set or a file it imports changes."""
    if entry.path is None:
        return "upload"
    files = [entry.path]
    loaded = scorer or (entry.loaded[1] if entry.loaded and
                        not isinstance(entry.loaded[1], Exception) else None)
    if loaded is not None:
        files += [Path(found) for _written, found, _how in loaded.checked.imports]
    out = []
    for path in files:
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def _load(entry: SetEntry):
    try:
        if entry.kind == "upload":
            checked = check_text(entry.text, entry.label)
            _check_found_imports(checked, entry.label)
        else:
            checked = check_text(read_source(entry.path), str(entry.path))
        if checked.errors:
            return SetError(checked.diagnostics)
        return IndicatorSet(checked)
    except IndicatorError as exc:
        return exc
    except RecursionError:
        return SetError(Diagnostic(ERROR, "the set is nested too deeply", file=entry.label,
                                   message_cn="指标体系嵌套层数太多"))


def _check_upload_imports(text: str, name: str) -> None:
    """An uploaded set has no folder: it may import and extend only files of the
    standard library, named by a plain relative path. Checked before anything is
    read, so an upload cannot make the server open any other file."""
    tree, _syntax = parse_recovering(text, name)
    if tree is None:
        return  # the syntax errors are reported when it is loaded
    statements = list(tree.imports) + ([tree.extends] if tree.extends is not None else [])
    base = library_dir().resolve()
    for statement in statements:
        written = statement.path
        pure = PurePosixPath(written.replace("\\", "/"))
        candidate = (base / written).resolve()
        if pure.is_absolute() or ".." in pure.parts or ":" in written \
                or not candidate.is_relative_to(base) or not candidate.is_file():
            span = statement.span
            raise SetError(Diagnostic(
                ERROR, f"上传的指标体系只能引用标准库中的文件，找不到或不允许：{written!r}",
                file=name, line=span.line if span else None,
                column=span.column if span else None,
                hint="标准库文件如 national-rules.ind、national/2020/self-evaluation.ind；"
                     "引用本地文件的指标体系请放在启动时指定的文件夹中打开", code="module"))


def _check_found_imports(checked, name: str) -> None:
    base = library_dir().resolve()
    for written, found, _how in checked.imports:
        if not Path(found).resolve().is_relative_to(base):
            raise SetError(Diagnostic(ERROR, f"上传的指标体系只能引用标准库中的文件：{written!r}",
                                      file=name, code="module"))
