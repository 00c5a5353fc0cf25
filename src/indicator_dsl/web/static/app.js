// The facts form: keeps what was entered in localStorage, asks the server to score
// it (debounced), and shows what the server says. No rule logic lives here: every
// score, justification and message comes from the server's evaluation.
// User text is only ever set with textContent, never as HTML.
(function () {
  "use strict";

  var body = document.body;
  var SET = body.dataset.set;
  var BASE = body.dataset.base;
  if (!SET || !BASE) return;
  var KEY = "indicator-dsl:v1:" + SET;
  var PREV = KEY + ":previous";

  function $(id) { return document.getElementById(id); }
  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function emptyState() { return { source: null, edits: {}, na: {} }; }
  function normalize(s) {
    if (!s || typeof s !== "object") return emptyState();
    var out = emptyState();
    if (s.source && typeof s.source.name === "string" && typeof s.source.b64 === "string") {
      out.source = { name: s.source.name, b64: s.source.b64 };
    }
    if (s.edits && typeof s.edits === "object") out.edits = s.edits;
    if (s.na && typeof s.na === "object") out.na = s.na;
    return out;
  }
  function readStored(key) {
    try { return normalize(JSON.parse(window.localStorage.getItem(key))); }
    catch (e) { return emptyState(); }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); return true; }
    catch (e) { return false; }
  }
  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), chunks = [], size = 0x8000;
    for (var i = 0; i < bytes.length; i += size) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + size)));
    }
    return window.btoa(chunks.join(""));
  }
  function post(path, state) {
    return fetch(BASE + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ state: state })
    });
  }

  // --- a project of a many-project upload: open its facts in the form
  var openButton = $("open-in-form");
  if (openButton) {
    openButton.addEventListener("click", function () {
      fetch(openButton.dataset.factsUrl, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); })
        .then(function (buffer) {
          store(PREV, readStored(KEY));
          store(KEY, { source: { name: openButton.dataset.name, b64: toBase64(buffer) },
                       edits: {}, na: {} });
          window.location.href = BASE;
        })
        .catch(function (e) { window.alert("无法打开这个项目的事实：" + e.message); });
    });
  }
  if (!$("tree")) return;

  // --- state
  var state = readStored(KEY);
  var storageFull = false;
  function save() { storageFull = !store(KEY, state); }
  function remember() { store(PREV, state); $("undo").hidden = false; }
  if (window.localStorage && window.localStorage.getItem(PREV)) $("undo").hidden = false;

  // --- evaluation
  var seq = 0, timer = null, last = null;
  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(evaluateNow, delay === undefined ? 350 : delay);
  }
  function busy(on) { $("busy").hidden = !on; }
  function evaluateNow() {
    var mine = ++seq;
    busy(true);
    post("/evaluate", state).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== seq) return; // a newer request is on its way
      busy(false);
      if (data.source_error) { showSourceError(data.source_error); return; }
      if (data.set_error || data.error) {
        showSourceError(data.set_error || [{ text: data.error }]);
        return;
      }
      render(data);
    }).catch(function (e) {
      if (mine !== seq) return;
      busy(false);
      showSourceError([{ text: "无法连接评分服务（" + e.message + "）：请确认 indicator-eval serve 仍在运行" }]);
    });
  }

  // Try a new state (an upload, the example): adopt it only if the server can read it,
  // so a broken file never replaces what was entered.
  function tryState(candidate) {
    var mine = ++seq;
    busy(true);
    return post("/evaluate", candidate).then(function (r) { return r.json(); }).then(function (data) {
      busy(false);
      if (data.source_error || data.error || data.set_error) {
        showSourceError(data.source_error || data.set_error || [{ text: data.error }]);
        if (mine === seq) schedule(0);
        return false;
      }
      remember();
      state = candidate;
      save();
      hideSourceError();
      if (mine === seq) render(data);
      return true;
    });
  }

  function showSourceError(messages) {
    var box = $("source-error");
    box.textContent = "";
    box.appendChild(make("p", "alert-title", "无法读取上传的文件，原有的事实未被替换："));
    messages.forEach(function (m) { box.appendChild(make("pre", "diag", m.text || m.message)); });
    box.hidden = false;
  }
  function hideSourceError() { $("source-error").hidden = true; $("source-error").textContent = ""; }

  // --- fields
  var fields = new Map(); // path -> {wrap, input, unit, error, spec}
  var counter = 0;
  function container(place) {
    var sel = '[data-fields="' + (window.CSS && CSS.escape ? CSS.escape(place || "") : (place || "")) + '"]';
    return document.querySelector(sel);
  }
  function kindText(f) {
    var parts = [f.kind_cn];
    if (f.range) parts.push("范围 " + f.range);
    if (f.list) parts.push("可填多个，用；分隔");
    return parts.join("，");
  }
  function option(select, value, text) {
    var o = make("option", null, text);
    o.value = value;
    select.appendChild(o);
    return o;
  }
  function build(f) {
    var id = "field-" + (++counter);
    var wrap = make("div", "field kind-" + f.kind + (f.info ? " info" : ""));
    wrap.dataset.path = f.path;
    var label = make("label", null, f.label);
    label.htmlFor = id;
    if (!f.info) label.appendChild(make("span", "kind", kindText(f)));
    wrap.appendChild(label);
    var control = make("div", "control");
    var input, unit = null;
    if (f.kind === "bool" || f.kind === "level") {
      input = make("select");
      option(input, "", "（未填）");
      if (f.kind === "bool") { option(input, "true", "是"); option(input, "false", "否"); }
      else f.levels.forEach(function (lv) { option(input, lv, lv); });
    } else {
      input = make("input");
      input.type = "text";
      input.autocomplete = "off";
      if (f.kind === "count") input.inputMode = "numeric";
      else if (f.kind === "number" || f.kind === "percent" || f.kind === "money") input.inputMode = "decimal";
      if (f.list) input.placeholder = "如 95；90";
    }
    input.id = id;
    input.name = f.path;
    input.dataset.path = f.path;
    control.appendChild(input);
    if (f.kind === "percent") control.appendChild(make("span", "suffix", "%"));
    if (f.kind === "money") {
      unit = make("select", "unit");
      unit.setAttribute("aria-label", f.label + " 的单位");
      f.units.forEach(function (u) { option(unit, u, u); });
      unit.value = f.unit || "元";
      control.appendChild(unit);
    }
    wrap.appendChild(control);
    var readers = make("div", "readers");
    wrap.appendChild(readers);
    var error = make("div", "error");
    error.setAttribute("role", "alert");
    wrap.appendChild(error);
    var item = { wrap: wrap, input: input, unit: unit, error: error, readers: readers, spec: f };
    function edited() {
      state.edits[f.path] = { text: input.value, unit: unit ? unit.value : null };
      save();
      schedule();
    }
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", edited);
    if (unit) unit.addEventListener("change", edited);
    return item;
  }
  function setValue(item, f) {
    var edit = state.edits[f.path];
    var text = edit ? edit.text : f.text;
    var input = item.input;
    if (input.tagName === "SELECT" && text !== "" &&
        !Array.prototype.some.call(input.options, function (o) { return o.value === text; })) {
      option(input, text, text + "（不是可选值）");
    }
    input.value = text;
    if (item.unit) item.unit.value = (edit && edit.unit) || f.unit || "元";
  }
  function renderFields(list) {
    var seen = new Set();
    list.forEach(function (f) {
      seen.add(f.path);
      var item = fields.get(f.path);
      var place = container(f.place);
      if (!place) return;
      if (!item) {
        item = build(f);
        fields.set(f.path, item);
        place.appendChild(item.wrap);
      }
      if (document.activeElement !== item.input && document.activeElement !== item.unit) {
        setValue(item, f);
      }
      var others = f.readers.filter(function (r) { return r !== f.place; });
      item.readers.textContent = (f.readers.length > 1 || others.length) ?
        "用于 " + f.readers.join("、") : "";
    });
    fields.forEach(function (item, path) {
      if (!seen.has(path)) { item.wrap.remove(); fields.delete(path); }
    });
  }

  // --- the results
  function render(data) {
    last = data;
    $("total").textContent = data.total === null ? "—" : data.total;
    $("grade").textContent = data.grade || "—";
    var c = data.counts;
    $("counts").textContent = "评分指标 " + c.leaves + " 项：已评分 " + c.scored + "，不适用 " +
      c.not_applicable + "，无法评分 " + c.failed;
    var note = $("total-note");
    note.hidden = !data.total_note;
    note.textContent = data.total_note ? "总分含不适用指标折算：" + data.total_note : "";

    var src = $("source-line");
    var edited = data.edited && (Object.keys(state.edits).length || Object.keys(state.na).length);
    if (data.source) src.textContent = "当前事实：来自文件 " + data.source + (edited ? "，并有修改" : "（未修改）");
    else src.textContent = edited ? "当前事实：手工填写" : "尚未填写事实";
    if (storageFull) src.textContent += "（浏览器存储空间已满：刷新后填写的内容可能丢失）";

    renderFields(data.fields);

    Object.keys(data.indicators).forEach(function (code) {
      var r = data.indicators[code];
      var section = $("ind-" + code);
      if (!section) return;
      section.classList.remove("scored", "not_applicable", "error", "lost", "full", "pending");
      section.classList.add(r.pending ? "pending" : r.status);
      if (r.status === "scored") section.classList.add(r.lost !== "0" ? "lost" : "full");
      var score = section.querySelector('[data-score="' + code + '"]');
      score.textContent = r.status === "scored" ? "得 " + r.score + " 分" :
        r.status === "not_applicable" ? "不适用" : r.pending ? "待填写" : "无法评分";
      var explanation = section.querySelector('[data-explanation="' + code + '"]');
      if (explanation) explanation.textContent = r.pending ? "" : (r.explanation || "");
      var flags = section.querySelector('[data-flags="' + code + '"]');
      if (flags) {
        flags.textContent = "";
        r.warnings.forEach(function (w) { flags.appendChild(make("li", null, w)); });
        flags.hidden = !r.warnings.length;
      }
      var leafError = section.querySelector('[data-leaf-error="' + code + '"]');
      if (leafError) {
        var e = data.leaf_errors[code];
        leafError.hidden = !e;
        leafError.textContent = e ? e.message + (e.hint ? "（提示：" + e.hint + "）" : "") : "";
      }
      var box = section.querySelector('[data-na="' + code + '"]');
      var marked = Object.prototype.hasOwnProperty.call(data.na, code);
      if (box && document.activeElement !== box) box.checked = marked;
      section.classList.toggle("is-na", marked);
      var reason = section.querySelector('[data-na-reason="' + code + '"]');
      if (reason) {
        reason.hidden = !(marked && data.na[code]);
        reason.textContent = marked && data.na[code] ? "不适用理由：" + data.na[code] : "";
      }
    });

    fields.forEach(function (item, path) {
      var messages = data.field_errors[path] || [];
      item.wrap.classList.toggle("invalid", messages.length > 0);
      item.input.setAttribute("aria-invalid", messages.length ? "true" : "false");
      item.error.textContent = "";
      messages.forEach(function (m) {
        var line = make("p", "message", m.message);
        item.error.appendChild(line);
        if (m.hint) item.error.appendChild(make("p", "hint", "提示：" + m.hint));
      });
    });

    var missing = $("missing");
    missing.textContent = "";
    data.missing.forEach(function (m) {
      var li = make("li");
      var link = make("a", "missing-link", m.label);
      link.href = "#";
      link.dataset.path = m.path;
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        var item = fields.get(m.path);
        if (item) { item.wrap.scrollIntoView({ block: "center" }); item.input.focus(); }
      });
      li.appendChild(link);
      li.appendChild(make("span", "meta", " " + m.codes.join("、") + "，" + m.stake + " 分"));
      missing.appendChild(li);
    });
    $("missing-count").textContent = data.missing.length ? "（" + data.missing.length + " 项）" : "（无）";

    var problems = $("problems");
    problems.textContent = "";
    data.problems.forEach(function (p) {
      var li = make("li", p.severity);
      li.appendChild(make("pre", "diag", p.text));
      problems.appendChild(li);
    });
    $("problem-count").textContent = "（" + data.problems.length + "）";
    $("problems-box").hidden = !data.problems.length;
  }

  // --- controls
  document.querySelectorAll("[data-na]").forEach(function (box) {
    box.addEventListener("change", function () {
      state.na[box.dataset.na] = box.checked;
      save();
      schedule(0);
    });
  });

  var maxFacts = parseInt(body.dataset.maxFacts, 10) || 5000000;
  $("facts-file").addEventListener("change", function (ev) {
    var file = ev.target.files && ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    if (file.size > maxFacts) {
      showSourceError([{ text: "文件 " + file.name + " 超过 " + Math.floor(maxFacts / 1000000) + " MB 的上限，未上传" }]);
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      tryState({ source: { name: file.name, b64: toBase64(reader.result) }, edits: {}, na: {} });
    };
    reader.onerror = function () { showSourceError([{ text: "无法读取文件 " + file.name }]); };
    reader.readAsArrayBuffer(file);
  });

  var example = $("load-example");
  if (example) {
    example.addEventListener("click", function () {
      fetch(BASE + "/example-facts", { credentials: "same-origin" }).then(function (r) {
        var name = decodeURIComponent(((r.headers.get("Content-Disposition") || "").split("''")[1] || "facts.yaml"));
        return r.arrayBuffer().then(function (b) { return [name, b]; });
      }).then(function (got) {
        tryState({ source: { name: got[0], b64: toBase64(got[1]) }, edits: {}, na: {} });
      });
    });
  }

  $("clear-facts").addEventListener("click", function () {
    remember();
    state = emptyState();
    save();
    fields.forEach(function (item) { item.wrap.remove(); });
    fields.clear();
    schedule(0);
  });

  $("undo").addEventListener("click", function () {
    var previous = readStored(PREV);
    store(PREV, state);
    state = previous;
    save();
    fields.forEach(function (item) { item.wrap.remove(); });
    fields.clear();
    hideSourceError();
    schedule(0);
  });

  function filename(header, fallback) {
    var m = /filename\*=UTF-8''([^;]+)/.exec(header || "");
    return m ? decodeURIComponent(m[1]) : fallback;
  }
  function download(path, fallback) {
    var box = $("download-error");
    box.hidden = true;
    box.textContent = "";
    window.clearTimeout(timer);
    post(path, state).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return { error: "下载失败（" + r.status + "）" }; })
          .then(function (d) {
            box.appendChild(make("p", null, d.error || "下载失败"));
            (d.problems || []).slice(0, 10).forEach(function (p) { box.appendChild(make("pre", "diag", p.text)); });
            box.hidden = false;
          });
      }
      return r.blob().then(function (blob) {
        var a = make("a");
        a.href = URL.createObjectURL(blob);
        a.download = filename(r.headers.get("Content-Disposition"), fallback);
        document.body.appendChild(a);
        a.click();
        window.setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
      });
    }).catch(function (e) {
      box.textContent = "下载失败：" + e.message;
      box.hidden = false;
    });
  }
  document.querySelectorAll("[data-report]").forEach(function (b) {
    b.addEventListener("click", function () {
      download("/report." + b.dataset.report, "评分表." + b.dataset.report);
    });
  });
  document.querySelectorAll("[data-facts]").forEach(function (b) {
    b.addEventListener("click", function () {
      download("/facts." + b.dataset.facts, "事实." + b.dataset.facts);
    });
  });

  window.addEventListener("storage", function (ev) {
    if (ev.key === KEY) { state = readStored(KEY); schedule(0); }
  });

  schedule(0);
})();
