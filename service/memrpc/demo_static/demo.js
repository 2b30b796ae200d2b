// The memrpc demo page: every action is a call of the demo's JSON API
// (memrpc/demo.py), which makes the gRPC calls; the event log arrives as
// server-sent events relaying TailEvents. No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const CHANGES_THREAD = "memrpc.memories";
let events = null;           // the EventSource of the thread shown
const seen = new Set();      // ids of the events shown (a reconnect replays)

function where() {
  return { ns: $("ns").value.trim(), user: $("user").value.trim(), thread: $("thread").value.trim() };
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

// POST (with a body) or GET the demo API; shows a failure on the page and
// returns null, so that no action leaves a blank page.
async function api(path, body) {
  let response;
  try {
    response = await fetch(path, body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch (err) {
    showError(`The demo server does not answer (${err.message}): is memrpc demo still running?`);
    return null;
  }
  const found = await response.json().catch(() => ({ error: { code: String(response.status), message: response.statusText } }));
  if (!response.ok) {
    const e = found.error || {};
    showError(`${e.code || response.status}${e.reason ? " " + e.reason : ""}: ${e.message || "request failed"}`);
    return null;
  }
  showError("");
  return found;
}

function text(el, value) { el.textContent = value === undefined || value === null ? "" : String(value); }

function cell(row, value, cls) {
  const td = row.insertCell();
  text(td, value);
  if (cls) td.className = cls;
  return td;
}

function when(timestamp) { return timestamp ? new Date(timestamp).toLocaleString() : "never"; }

function renderSession(session) {
  const s = session || {};
  text($("goal"), s.goal);
  text($("scratchpad"), s.scratchpad);
  text($("turn-count"), s.turn_count || 0);
  text($("version"), s.version || 0);
  text($("expiry"), s.expire_time ? when(s.expire_time) : "");
  const summary = s.summary || {};
  text($("summary"), summary.text || "");
  text($("summary-covers"), summary.turn_count ? `${summary.turn_count} turns, events ${summary.first_event_id} to ${summary.last_event_id}` : "");
  const list = $("window");
  list.replaceChildren();
  for (const turn of s.turns || []) {
    const li = document.createElement("li");
    li.className = "turn";
    const role = document.createElement("span");
    role.className = "role";
    text(role, turn.role + ": ");
    li.append(role, document.createTextNode(turn.content));
    list.append(li);
  }
}

function kindOf(memory) { return (memory.kind || "").replace("MEMORY_KIND_", "").toLowerCase(); }

function renderRecall(matches) {
  const body = $("recalled").tBodies[0];
  body.replaceChildren();
  for (const match of matches) {
    const row = body.insertRow();
    row.className = "match " + (match.within ? "within" : "beyond");
    cell(row, Number(match.distance).toFixed(3), "distance");
    cell(row, Number(match.score).toFixed(3), "score");
    cell(row, kindOf(match.memory));
    cell(row, match.memory.text);
  }
  if (!matches.length) {
    const row = body.insertRow();
    cell(row, "no memory of this user yet: load the seed memories, or remember turns").colSpan = 4;
  }
}

function renderRemembered(result) {
  const out = $("remembered");
  if (!result) {
    out.dataset.outcome = "none";
    text(out, "not remembered (kind: not at all)");
    return;
  }
  const m = result.memory;
  out.dataset.outcome = result.outcome === "CREATE_OUTCOME_DUPLICATE" ? "duplicate" : "created";
  out.dataset.id = m.id;
  text(out, out.dataset.outcome === "duplicate"
    ? `duplicate of ${m.id} ("${m.text}") at distance ${Number(result.distance).toFixed(3)}: hit count now ${m.hit_count}`
    : `created ${m.id} (${kindOf(m)})`);
}

function renderFormed(memories) {
  const list = $("formed");
  list.replaceChildren();
  for (const m of memories) {
    if (!["MEMORY_SOURCE_FORMATION", "MEMORY_SOURCE_EXTRACTION"].includes(m.source)) continue;
    const li = document.createElement("li");
    li.className = "formed";
    text(li, `${kindOf(m)} of ${m.user_id}: ${m.text}`);
    list.append(li);
  }
}

function renderMemories(memories) {
  renderFormed(memories);
  const body = $("memories").tBodies[0];
  body.replaceChildren();
  for (const m of memories) {
    const row = body.insertRow();
    row.className = "memory";
    row.dataset.id = m.id;
    cell(row, kindOf(m));
    cell(row, m.user_id);
    cell(row, m.text);
    cell(row, m.hit_count, "hits");
    cell(row, (m.source || "").replace("MEMORY_SOURCE_", "").toLowerCase());
    cell(row, m.expire_time ? when(m.expire_time) : "never");
    cell(row, m.pinned ? "yes" : "", "pinned");
    const actions = row.insertCell();
    const pin = document.createElement("button");
    pin.className = "pin";
    text(pin, m.pinned ? "unpin" : "pin");
    pin.onclick = () => act("/api/pin", { ns: where().ns, id: m.id, pinned: !m.pinned });
    const drop = document.createElement("button");
    drop.className = "delete";
    text(drop, "delete");
    drop.onclick = () => act("/api/delete", { ns: where().ns, id: m.id });
    actions.append(pin, drop);
  }
}

function describeEvent(event) {
  if (event.json) return JSON.stringify(event.json);
  if (event.data) return atob(event.data);
  return "";
}

function addEvent(event) {
  const key = event.thread_id + "/" + event.id;
  if (seen.has(key)) return;
  seen.add(key);
  const jobs = event.thread_id === CHANGES_THREAD;
  const li = document.createElement("li");
  li.className = jobs ? "job" : "event";
  li.dataset.id = event.id;
  const type = document.createElement("span");
  type.className = "event-type";
  text(type, event.type + " ");
  li.append(type, document.createTextNode(describeEvent(event)));
  $(jobs ? "jobs" : "events").append(li);
}

function follow() {
  if (events) events.close();
  seen.clear();
  $("events").replaceChildren();
  $("jobs").replaceChildren();
  const { ns, thread } = where();
  events = new EventSource(`/api/events?ns=${encodeURIComponent(ns)}&thread=${encodeURIComponent(thread)}`);
  events.addEventListener("memrpc", (message) => addEvent(JSON.parse(message.data)));
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) {
      showError("The live event log stopped (is memrpc running?): reload the page to follow it again.");
    }
  };
}

async function refresh() {
  const { ns, thread } = where();
  const state = await api(`/api/state?ns=${encodeURIComponent(ns)}&thread=${encodeURIComponent(thread)}`);
  if (!state) return;
  renderSession(state.session);
  renderMemories(state.memories);
}

async function act(path, body) {
  if (await api(path, body)) await refresh();
}

$("turn-form").onsubmit = async (submitted) => {
  submitted.preventDefault();
  const turn = $("turn").value.trim();
  if (!turn) return;
  const found = await api("/api/turn", {
    ...where(), role: $("role").value, text: turn, kind: $("kind").value,
    distance: Number($("distance").value), mode: $("mode").value,
    window: Number($("window-size").value),
  });
  if (!found) return;
  $("turn").value = "";
  renderRecall(found.matches);
  renderRemembered(found.remembered);
  renderSession(found.session);
  await refresh();
};
$("distance").oninput = () => text($("distance-value"), $("distance").value);
$("set-goal").onclick = () => act("/api/goal", { ...where(), goal: $("goal-input").value });
$("seed").onclick = () => act("/api/seed", where());
$("reset").onclick = async () => {
  if (await api("/api/reset", { ns: where().ns })) { follow(); await refresh(); }
};
$("new-thread").onclick = () => {
  $("thread").value = "thread-" + Date.now().toString(36);
  follow();
  refresh();
};
for (const id of ["ns", "thread"]) $(id).onchange = () => { follow(); refresh(); };

follow();
refresh();
setInterval(refresh, 5000);  // hit counts, expiries, what the jobs formed
