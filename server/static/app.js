// quarry's page: ask a question; lead with the answering sentence, its citation and confidence, then
// the passage holding it (its context) and the other passages, each cited as file:lines and shown in
// its document on demand. Plain DOM, no dependencies, works offline. Document text only ever becomes
// text nodes (Markdown tables become table cells holding text nodes): nothing is parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "quarry-api-key";
const DEFAULT_K = "5";
const titles = new Map();  // source -> title (null: none), from GET /documents?source=...

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY);
  if (key) h["X-API-Key"] = key;
  return h;
}

function lines(span) {
  return span.start_line === span.end_line ? `${span.start_line}` : `${span.start_line}-${span.end_line}`;
}

function cite(span) {
  let where = `${span.source}:${lines(span)}`;
  if (span.page != null) {
    // a span that runs on over a PDF's page break (a form-feed line) names both pages
    const last = span.page + ((span.text || "").match(/\f/g) || []).length;
    where += last === span.page ? `, page ${span.page}` : `, pages ${span.page}-${last}`;
  }
  if (span.section) where += `, section "${span.section}"`;
  return where;
}

const oneLine = (text) => text.split(/\s+/).filter(Boolean).join(" ");

// An answer that runs on over the list or code block it introduces ("To install it:" and a fenced block): its
// first line, and the lines after it as they are (dedented); null for a sentence, shown as one line.
const BLOCK_LINE = /^[ \t]*(?:```|~~~|[*+•-][ \t]|\d{1,3}[.)][ \t])|\n[ \t]*\n/m;
function blockParts(text) {
  const i = text.search(/\r\n|\n|\r/);
  if (i < 0 || !BLOCK_LINE.test(text.slice(i))) return null;
  const lines = text.slice(i).replace(/^(\r\n|\n|\r)/, "").split(/\r\n|\n|\r/);
  const cut = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return [text.slice(0, i).trim(), lines.map((l) => l.slice(cut).trimEnd()).join("\n").replace(/^\n+|\n+$/g, "")];
}

// A PDF's page break (a form-feed line) read as the line break it stands for; the citation names the pages.
const pagesJoined = (text) => text.replace(/\n\f\n/g, "\n");

// Append `text` (which starts at document offset `base`) to `el`, wrapping the part of it inside the
// answer in <mark class="answer">. Text nodes only.
function appendMarked(el, text, base, answer) {
  const i0 = answer ? Math.max(0, answer.start_char - base) : 0;
  const i1 = answer ? Math.min(text.length, answer.end_char - base) : 0;
  if (!answer || i0 >= i1) { el.append(pagesJoined(text)); return; }
  const mark = document.createElement("mark");
  mark.className = "answer";
  mark.textContent = pagesJoined(text.slice(i0, i1));
  el.append(pagesJoined(text.slice(0, i0)), mark, pagesJoined(text.slice(i1)));
}

// --- Markdown tables: a run of two or more lines holding "|" that has a separator row (|---|:--:|)
// or whose lines all start with "|" (a passage may begin inside a table) is drawn as a <table>.

const SEPARATOR = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const isSeparator = (line) => line.includes("-") && line.includes("|") && SEPARATOR.test(line);

// The lines of `text` with their offsets: [{line, start, end}] (end: past the line's break, if any).
function splitLines(text) {
  const out = [];
  const re = /\r\n|\n|\r/g;
  let start = 0, m;
  while ((m = re.exec(text)) !== null) {
    out.push({ line: text.slice(start, m.index), start, end: m.index + m[0].length });
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push({ line: text.slice(start), start, end: text.length });
  return out;
}

// Cells of one table row: [{text, start}] (start: offset in the row's line), trimmed, outer pipes dropped.
function splitCells(line) {
  const space = (c) => c === " " || c === "\t";
  let i = 0, end = line.length;
  while (i < end && space(line[i])) i++;
  if (line[i] === "|") i++;
  while (end > i && space(line[end - 1])) end--;
  if (end > i && line[end - 1] === "|" && line[end - 2] !== "\\") end--;
  const cells = [];
  let start = i;
  for (let j = i; j <= end; j++) {
    if (j === end || (line[j] === "|" && line[j - 1] !== "\\")) {
      let s = start, e = j;
      while (s < e && space(line[s])) s++;
      while (e > s && space(line[e - 1])) e--;
      cells.push({ text: line.slice(s, e), start: s });
      start = j + 1;
    }
  }
  return cells;
}

function alignments(separator) {
  return splitCells(separator).map(({ text }) => {
    const l = text.startsWith(":"), r = text.endsWith(":");
    return l && r ? "align-center" : r ? "align-right" : "";
  });
}

// Segments of `text`: {kind: "text", start, end} or {kind: "table", rows: [lines]}, in order.
function segments(text) {
  const ls = splitLines(text);
  const out = [];
  let textStart = 0, i = 0;
  while (i < ls.length) {
    let j = i;
    while (j < ls.length && ls[j].line.includes("|")) j++;
    const run = ls.slice(i, j);
    const table = run.length >= 2 && (run.some((l) => isSeparator(l.line)) ||
                                      run.every((l) => l.line.trimStart().startsWith("|")));
    if (table) {
      if (run[0].start > textStart) out.push({ kind: "text", start: textStart, end: run[0].start });
      out.push({ kind: "table", rows: run });
      textStart = run[run.length - 1].end;
      i = j;
    } else {
      i = Math.max(j, i + 1);
    }
  }
  if (textStart < text.length) out.push({ kind: "text", start: textStart, end: text.length });
  return out;
}

function drawTable(rows, base, answer) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const table = document.createElement("table");
  table.className = "md-table";
  const sep = rows.findIndex((r) => isSeparator(r.line));
  const aligns = sep >= 0 ? alignments(rows[sep].line) : [];
  const head = document.createElement("thead"), body = document.createElement("tbody");
  rows.forEach((r, n) => {
    if (n === sep) return;
    const tr = document.createElement("tr");
    const lo = base + r.start, hi = base + r.start + r.line.length;
    if (answer && answer.start_char < hi && answer.end_char > lo) tr.className = "answer-row";
    splitCells(r.line).forEach((c, k) => {
      const cell = document.createElement(n < sep ? "th" : "td");
      if (aligns[k]) cell.className = aligns[k];
      appendMarked(cell, c.text, lo + c.start, answer);
      tr.append(cell);
    });
    (n < sep ? head : body).append(tr);
  });
  if (head.childElementCount) table.append(head);
  table.append(body);
  wrap.append(table);
  return wrap;
}

// `text` (at document offset `base`) into `el`: its Markdown tables as tables, the rest as text,
// the answer's characters marked.
function renderText(el, text, base, answer) {
  el.textContent = "";
  for (const seg of segments(text)) {
    if (seg.kind === "table") {
      el.append(drawTable(seg.rows, base, answer));
    } else {
      let t = text.slice(seg.start, seg.end);
      if (seg.end < text.length) t = t.replace(/(\r\n|\n|\r)$/, "");  // the table starts on a line of its own
      appendMarked(el, t, base + seg.start, answer);
    }
  }
}

async function fetchJSON(url, options) {
  const res = await fetch(url, options);
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    const err = new Error((body && body.detail) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// A span that shows the document's title once it is known (filled in by `loadTitles`).
function titleSpan(source) {
  const s = document.createElement("span");
  s.className = "doc-title";
  s.dataset.source = source;
  const t = titles.get(source);
  if (t) s.textContent = t;
  return s;
}

async function loadTitles(sources) {
  const missing = [...new Set(sources)].filter((s) => !titles.has(s));
  if (missing.length) {
    const q = new URLSearchParams();
    missing.forEach((s) => q.append("source", s));
    try {
      const body = await fetchJSON(`/documents?${q}`, { headers: headers() });
      for (const d of body.documents) titles.set(d.source, d.title || null);
    } catch (e) {
      return;  // titles are a nicety: the citations stand without them
    }
  }
  document.querySelectorAll(".doc-title[data-source]").forEach((el) => {
    el.textContent = titles.get(el.dataset.source) || "";
  });
}

// A citation that opens to show the passage inside the text around it (fetched once, on first open).
function citation(span, answer, extra) {
  const details = document.createElement("details");
  details.className = "cite-details";
  const summary = document.createElement("summary");
  const code = document.createElement("code");
  code.className = "cite";
  code.textContent = cite(span);
  summary.append(code, " ", titleSpan(span.source));
  if (extra) {
    const s = document.createElement("span");
    s.className = "muted";
    s.textContent = `  ${extra}`;
    summary.append(s);
  }
  const box = document.createElement("div");
  box.className = "context";
  box.textContent = "Loading the text around it…";
  details.append(summary, box);
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    const q = new URLSearchParams({ source: span.source, start_char: span.start_char, end_char: span.end_char });
    try {
      const c = await fetchJSON(`/context?${q}`, { headers: headers() });
      box.textContent = "";
      if (c.context_start > 0) box.append(Object.assign(document.createElement("span"), { className: "gap", textContent: "… " }));
      box.append(c.before);
      const mid = document.createElement("span");
      mid.className = "in-passage";
      appendMarked(mid, c.text, c.start_char, answer);
      box.append(mid, c.after);
      if (c.context_end < c.document_chars) box.append(Object.assign(document.createElement("span"), { className: "gap", textContent: " …" }));
      box.scrollTop = Math.max(0, mid.offsetTop - 48);  // the cited text in view (.context is its offsetParent)
    } catch (e) {
      loaded = false;
      box.textContent = `Cannot show the context: ${e.message}`;
    }
  });
  return details;
}

// --- copying the citation: the Clipboard API, else a selected textarea and execCommand("copy")

function copyFallback(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  area.remove();
  return ok;
}

async function copyCitation() {
  const text = $("copy-cite").dataset.citation || "";
  let ok = false;
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) { ok = false; }
  }
  if (!ok) ok = copyFallback(text);
  $("copy-status").textContent = ok ? "Copied" : `Copy this: ${text}`;
}

function citationText(a) {
  const title = titles.get(a.source);
  return `“${oneLine(a.text)}” (${cite(a)}${title ? `, “${title}”` : ""})`;
}

function renderAnswer(a, passages) {
  const section = $("answer");
  section.classList.toggle("low", !!a.low_confidence);
  const flag = $("answer-flag");
  flag.hidden = !a.low_confidence;
  flag.textContent = a.low_confidence
    ? `Low-confidence answer (${a.score.toFixed(2)}): answers this unsure were more often wrong than right. ` +
      "Check it against its passage."
    : "";
  const sentence = $("answer-sentence");
  sentence.textContent = "";
  const parts = blockParts(a.text);
  if (/^\s*\|.*\|\s*$/.test(a.text) && !/[\r\n]/.test(a.text.trim())) {  // a table row: its cells
    splitCells(a.text).forEach((c) => {
      sentence.append(Object.assign(document.createElement("span"), { className: "cell", textContent: c.text }));
    });
  } else if (parts) {  // a lead-in and its block: the block keeps its lines
    const [lead, block] = parts;
    const pre = Object.assign(document.createElement("pre"), { className: "answer-block", textContent: block });
    sentence.append(oneLine(lead), pre);
  } else {
    sentence.textContent = oneLine(a.text);
  }
  $("answer-cite").textContent = cite(a);
  const doc = $("answer-doc");
  doc.dataset.source = a.source;
  doc.textContent = titles.get(a.source) || "";
  const conf = $("answer-confidence");
  conf.textContent = `${a.low_confidence ? "low confidence" : "confidence"} ${a.score.toFixed(2)}`;
  conf.classList.toggle("low", !!a.low_confidence);
  $("copy-cite").dataset.citation = citationText(a);
  $("copy-status").textContent = "";
  const p = passages[a.passage];
  const context = $("answer-context");
  const citeBox = $("answer-context-cite");
  citeBox.textContent = "";
  if (p) {
    renderText(context, p.text, p.start_char, a);
    citeBox.append(citation(p, a, `the passage · chars ${p.start_char}-${p.end_char} · score ${p.score.toFixed(3)}`));
  } else {
    renderText(context, a.text, a.start_char, a);
  }
}

function render(result) {
  const a = result.answer;
  const passages = result.passages || [];
  $("answer").hidden = !a;
  $("no-answer").hidden = !!a;
  if (a) renderAnswer(a, passages);
  const list = $("passage-list");
  list.textContent = "";
  const others = passages.filter((p, i) => !(a && i === a.passage));  // the answer's passage is shown above
  others.forEach((p) => {
    const li = document.createElement("li");
    li.className = "passage";
    const text = document.createElement("div");
    text.className = "passage-text";
    const mine = a && a.source === p.source ? a : null;
    renderText(text, p.text, p.start_char, mine);
    li.append(text, citation(p, mine, `chars ${p.start_char}-${p.end_char} · score ${p.score.toFixed(3)}`));
    list.append(li);
  });
  $("passages-title").textContent = a ? "Other passages" : "Closest passages, for reference";
  $("passages").hidden = others.length === 0;
  loadTitles(passages.map((p) => p.source).concat(a ? [a.source] : [])).then(() => {
    if (a) $("copy-cite").dataset.citation = citationText(a);
  });
}

// The question in the address (?q=...&k=...), so that a link to it can be shared and reloaded.
function remember(question, k) {
  const q = new URLSearchParams({ q: question });
  if (k !== DEFAULT_K) q.set("k", k);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

async function ask(event) {
  if (event) event.preventDefault();
  const question = $("question").value;
  if (!question.trim()) { showError("Type a question first."); return; }
  showError("");
  remember(question, $("k").value);
  $("ask").disabled = true;
  $("status").textContent = "Searching the documents…";
  const t0 = performance.now();
  try {
    const result = await fetchJSON("/ask", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ question, k: Number($("k").value) }),
    });
    render(result);
    $("status").textContent = `${result.passages.length} passages in ${Math.round(performance.now() - t0)} ms`;
  } catch (e) {
    $("status").textContent = "";
    if (e.status === 401) $("key-box").hidden = false;
    showError(e.message);
  } finally {
    $("ask").disabled = false;
  }
}

async function corpus() {
  try {
    const h = await fetchJSON("/health");
    $("corpus").textContent = `${h.documents} documents, ${h.chunks} passages indexed · model ${h.model}`;
  } catch (e) {
    $("corpus").textContent = `The server is not ready: ${e.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", ask);
  $("copy-cite").addEventListener("click", copyCitation);
  $("key-save").addEventListener("click", () => {
    sessionStorage.setItem(KEY, $("api-key").value);
    $("key-box").hidden = true;
    $("ask-form").requestSubmit();
  });
  corpus();
  const params = new URLSearchParams(location.search);
  const q = params.get("q");
  if (q && q.trim()) {  // a shared link: ask its question at once
    $("question").value = q;
    const k = params.get("k");
    if (k && [...$("k").options].some((o) => o.value === k)) $("k").value = k;
    ask(null);
  }
});
