// llmspell console: progressive enhancement only. Every page works without this file; it adds
// filtering as you type, "try it" results without a reload, and the live feeds (SSE, polling).
"use strict";

(function () {
  const base = document.querySelector('meta[name="console-base"]').content;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const page = document.body.dataset.page;

  function catalog() {
    const form = document.getElementById("catalog-filters");
    const search = document.getElementById("search");
    const rows = Array.from(document.querySelectorAll("#catalog tbody tr"));
    for (const row of rows) {  // the name and description, as the server's search reads them
      row.dataset.text = (row.cells[0].textContent + " " + row.cells[3].textContent).toLowerCase();
    }
    const shown = document.getElementById("shown");
    function apply() {
      const q = search.value.trim().toLowerCase();
      const kind = (form.querySelector('input[name="kind"]:checked') || {}).value || "";
      let n = 0;
      for (const row of rows) {
        const hit = (!kind || row.dataset.kind === kind) && (!q || row.dataset.text.includes(q));
        row.hidden = !hit;
        if (hit) n += 1;
      }
      shown.textContent = n + " shown";
    }
    const schemas = JSON.parse(document.getElementById("schemas").textContent);
    for (const details of document.querySelectorAll("#catalog details.schema")) {
      details.addEventListener("toggle", () => {
        const body = details.querySelector(".schema-body");
        if (!details.open || body.dataset.filled) return;
        body.dataset.filled = "1";
        const { input, output } = schemas[Number(details.dataset.index)];
        body.replaceChildren();
        for (const [label, schema] of [["input", input], ["output", output]]) {
          if (!schema) continue;
          const caption = document.createElement("p");
          caption.className = "small muted";
          caption.textContent = label;
          const pre = document.createElement("pre");
          pre.textContent = JSON.stringify(schema, null, 2);
          body.append(caption, pre);
        }
      });
    }
    search.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
    apply();
  }

  function tryIt() {
    const form = document.getElementById("try-form");
    const slot = document.getElementById("result-slot");
    const progress = document.getElementById("progress");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = document.getElementById("run");
      button.disabled = true;
      progress.textContent = "running…";
      // Progress of this component's calls, from the gateway's event stream, while it runs.
      const events = new EventSource(base + "/events?pattern=" + encodeURIComponent("call.*"));
      // A workflow's steps are calls of their own: each one shows as it starts and ends.
      const show = (ev) => {
        try {
          const data = JSON.parse(ev.data);
          if (data.caller !== form.dataset.caller) return;  // someone else's call
          const took = data.duration_ms !== undefined ? " (" + data.duration_ms + " ms)" : "";
          progress.textContent = ev.type + " " + (data.component || "") + took;
        } catch (_) { /* not JSON */ }
      };
      for (const topic of ["call.started", "call.finished", "call.failed"]) {
        events.addEventListener(topic, show);
      }
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "X-CSRF-Token": csrf, "X-Console-Fragment": "1" },
          credentials: "same-origin",
        });
        slot.innerHTML = await response.text();
        progress.textContent = response.ok ? "done" : "failed (" + response.status + ")";
      } catch (err) {
        progress.textContent = "failed: " + err;
      } finally {
        events.close();
        button.disabled = false;
      }
    });
  }

  function upstreams() {
    async function refresh() {
      try {
        const response = await fetch(base + "/upstreams?fragment=1", { credentials: "same-origin" });
        if (!response.ok) return;
        const holder = document.createElement("table");
        holder.innerHTML = await response.text();
        const fresh = holder.querySelector("tbody");
        document.getElementById("upstream-rows").replaceWith(fresh);
        document.getElementById("overall").textContent = fresh.dataset.status;
      } catch (_) { /* the gateway is restarting; try again */ }
    }
    setInterval(refresh, 2000);
  }

  function activity() {
    const rows = document.getElementById("activity-rows");
    const filter = document.getElementById("activity-filter");
    const all = document.getElementById("activity-all");
    const state = document.getElementById("feed-state");
    document.getElementById("activity-form").addEventListener("submit", (e) => e.preventDefault());
    const matches = (row) => {
      const q = filter.value.trim().toLowerCase();
      const kindOk = all.checked || row.dataset.topic.startsWith("call.");
      return kindOk && (!q || row.textContent.toLowerCase().includes(q));
    };
    const applyAll = () => { for (const row of rows.children) row.hidden = !matches(row); };
    filter.addEventListener("input", applyAll);
    all.addEventListener("change", applyAll);
    const source = new EventSource(base + "/events?pattern=*");
    source.onopen = () => { state.textContent = "live"; };
    source.onerror = () => { state.textContent = "reconnecting…"; };
    const add = (ev) => {
      let data = {};
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      const row = document.createElement("tr");
      row.dataset.topic = ev.type;
      const outcome = ev.type === "call.failed"
        ? "failed: " + ((data.error && data.error.code) || "")
        : ev.type === "call.finished" ? (data.is_error ? "error" : "ok") : "";
      const cells = [
        new Date().toLocaleTimeString(),
        ev.type,
        data.component || data.name || data.server || "",
        data.caller || "",
        data.duration_ms !== undefined ? data.duration_ms + " ms" : "",
        outcome,
      ];
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = String(text);
        row.appendChild(cell);
      }
      row.hidden = !matches(row);
      rows.prepend(row);
      while (rows.children.length > 500) rows.lastElementChild.remove();
    };
    source.onmessage = add;
    // SSE names each event by its topic and EventSource has no wildcard: listen to each one.
    for (const topic of JSON.parse(rows.dataset.topics)) source.addEventListener(topic, add);
  }

  function metrics() {
    const samples = [];  // [time (s), snapshot], the last 5 minutes
    const WINDOW = 300;
    const total = (snap, key) => Object.values(snap).reduce((sum, c) => sum + c[key], 0);
    function quantile(buckets, q) {
      const all = buckets.length ? buckets[buckets.length - 1][1] : 0;
      if (all <= 0) return null;
      for (const [le, count] of buckets) if (count >= q * all) return le;
      return null;
    }
    function draw(svg, values) {
      const max = Math.max(...values, 1e-9);
      const step = 300 / Math.max(values.length - 1, 1);
      const points = values.map((v, i) => (i * step).toFixed(1) + "," + (58 - (v / max) * 56).toFixed(1));
      svg.innerHTML = '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="' + points.join(" ") + '"/>';
    }
    async function sample() {
      let snap;
      try {
        const response = await fetch(base + "/metrics?format=json", { credentials: "same-origin" });
        if (!response.ok) return;
        snap = await response.json();
      } catch (_) { return; }
      const now = performance.now() / 1000;
      samples.push([now, snap]);
      while (samples.length > 2 && now - samples[0][0] > WINDOW) samples.shift();
      if (samples.length < 2) return;
      const rates = [], errors = [];
      for (let i = 1; i < samples.length; i++) {
        const [t0, a] = samples[i - 1], [t1, b] = samples[i];
        const calls = total(b, "calls") - total(a, "calls");
        rates.push(calls / (t1 - t0));
        errors.push(calls > 0 ? (total(b, "errors") - total(a, "errors")) / calls : 0);
      }
      document.getElementById("charts").hidden = false;
      draw(document.getElementById("chart-rate"), rates);
      draw(document.getElementById("chart-errors"), errors);
      document.getElementById("rate-now").textContent = rates[rates.length - 1].toFixed(2) + "/s";
      document.getElementById("errors-now").textContent = (100 * errors[errors.length - 1]).toFixed(1) + "%";
      const first = samples[0][1];
      for (const row of document.querySelectorAll("#metrics tbody tr[data-name]")) {
        const now = snap[row.dataset.name], then = first[row.dataset.name];
        if (!now) continue;
        const buckets = now.buckets.map(([le, n], i) => [le, n - (then ? then.buckets[i][1] : 0)]);
        const ms = (v) => (v === null ? "> 60 s" : "≤ " + (v * 1000).toFixed(1) + " ms");
        const p50 = quantile(buckets, 0.5);
        row.querySelector(".recent").textContent =
          buckets.length && buckets[buckets.length - 1][1] > 0 ? ms(p50) + " / " + ms(quantile(buckets, 0.99)) : "no calls";
      }
    }
    sample();
    setInterval(sample, 5000);
  }

  ({ catalog, try: tryIt, upstreams, activity, metrics })[page]?.();
})();
