// quarry's page: ask a question, show the answering sentence inside its passage, cite every passage
// as file:lines and show it in context on demand. Plain DOM, no dependencies, works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "quarry-api-key";

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
  if (span.page != null) where += `, page ${span.page}`;
  if (span.section) where += `, section "${span.section}"`;
  return where;
}

// Append `text` (which starts at document offset `base`) to `el`, wrapping the answer's characters
// in <mark class="answer"> when the answer lies inside it. Text nodes only: nothing is parsed as HTML.
function appendMarked(el, text, base, answer) {
  if (answer && answer.start_char >= base && answer.end_char <= base + text.length) {
    const i0 = answer.start_char - base, i1 = answer.end_char - base;
    el.append(text.slice(0, i0));
    const mark = document.createElement("mark");
    mark.className = "answer";
    mark.textContent = text.slice(i0, i1);
    el.append(mark, text.slice(i1));
  } else {
    el.append(text);
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

// A citation that opens to show the passage inside the text around it (fetched once, on first open).
function citation(span, answer, extra) {
  const details = document.createElement("details");
  details.className = "cite-details";
  const summary = document.createElement("summary");
  const code = document.createElement("code");
  code.className = "cite";
  code.textContent = cite(span);
  summary.append(code);
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

function render(result) {
  const a = result.answer;
  const passages = result.passages || [];
  $("answer").hidden = !a;
  $("no-answer").hidden = !!a;
  if (a) {
    const p = passages[a.passage];
    const box = $("answer-passage");
    box.textContent = "";
    if (p) appendMarked(box, p.text, p.start_char, a); else appendMarked(box, a.text, a.start_char, a);
    const citeLine = $("answer-cite");
    citeLine.textContent = "";
    citeLine.append(citation(a, a, `confidence ${a.score.toFixed(2)} · chars ${a.start_char}-${a.end_char}`));
  }
  const list = $("passage-list");
  list.textContent = "";
  passages.forEach((p) => {
    const li = document.createElement("li");
    li.className = "passage";
    const text = document.createElement("div");
    text.className = "passage-text";
    appendMarked(text, p.text, p.start_char, a && a.source === p.source ? a : null);
    li.append(text, citation(p, a && a.source === p.source ? a : null,
                             `chars ${p.start_char}-${p.end_char} · score ${p.score.toFixed(3)}`));
    list.append(li);
  });
  $("passages-title").textContent = a ? "Passages" : "Closest passages, for reference";
  $("passages").hidden = passages.length === 0;
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value;
  if (!question.trim()) { showError("Type a question first."); return; }
  showError("");
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
  $("key-save").addEventListener("click", () => {
    sessionStorage.setItem(KEY, $("api-key").value);
    $("key-box").hidden = true;
    $("ask-form").requestSubmit();
  });
  corpus();
});
