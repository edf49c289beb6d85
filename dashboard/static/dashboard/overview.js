/* Overview: polls the JSON metrics summary every 5 s and updates the tiles, the health panel and the charts. */
(function () {
  "use strict";

  const POLL_MS = 5000;
  const config = document.getElementById("summary-config");
  const charts = {};

  function get(object, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? undefined : value[key];
    }, object);
  }

  function total(values) {
    return Object.values(values || {}).reduce(function (sum, value) { return sum + (value || 0); }, 0);
  }

  function withTotals(summary) {
    const llmRequests = summary.llm.requests || {};
    const telegramRequests = summary.telegram.requests || {};
    return Object.assign({}, summary, {
      llm_tokens_total: total(summary.llm.tokens),
      rate_limited_total: (telegramRequests.rate_limited || 0) + (llmRequests.rate_limited || 0),
      errors_total: ((summary.turns || {}).failed || 0) + (llmRequests.error || 0),
      queue_depth: total(summary.queues),
      turns_in_flight: total(summary.turns_pending),
    });
  }

  function format(value, kind) {
    if (value === null || value === undefined) return "–";
    if (kind === "usd") return "$" + Number(value).toFixed(4);
    return typeof value === "number" ? value.toLocaleString() : String(value);
  }

  function renderTiles(summary) {
    document.querySelectorAll("[data-field]").forEach(function (element) {
      element.textContent = format(get(summary, element.dataset.field), element.dataset.format);
    });
  }

  function renderHealth(health) {
    document.querySelectorAll("[data-health]").forEach(function (item) {
      const status = health[item.dataset.health] || "unknown";
      const level = status === "ok" || status.indexOf("ok ") === 0 ? "ok" : status.split(":")[0];
      item.className = "health-" + level;
      item.querySelector(".detail").textContent = status;
    });
  }

  const CHARTS = {
    "chart-activity": [
      ["Bot messages", "bot_messages", "#2563eb"],
      ["Member messages", "member_messages", "#16a34a"],
      ["Failed turns", "failed_turns", "#dc2626"],
    ],
    "chart-latency": [
      ["Average", "llm_latency_ms_avg", "#7c3aed"],
      ["Slowest", "llm_latency_ms_max", "#f59e0b"],
    ],
    "chart-tokens": [
      ["Prompt", "tokens_prompt", "#0891b2"],
      ["Completion", "tokens_completion", "#db2777"],
    ],
  };

  function renderCharts(series) {
    Object.keys(CHARTS).forEach(function (id) {
      const lines = CHARTS[id];
      const data = [series.minutes].concat(lines.map(function (line) { return series[line[1]]; }));
      if (charts[id]) {
        charts[id].setData(data);
        return;
      }
      const element = document.getElementById(id);
      const options = {
        width: Math.max(280, element.clientWidth),
        height: 200,
        series: [{}].concat(lines.map(function (line) {
          return { label: line[0], stroke: line[2], width: 2, spanGaps: false };
        })),
        axes: [{}, { size: 56 }],
      };
      charts[id] = new uPlot(options, data, element);
    });
  }

  function showAge(text, failed) {
    const age = document.getElementById("summary-age");
    age.textContent = text;
    age.classList.toggle("error-text", Boolean(failed));
  }

  async function refresh() {
    const result = await window.Piyasa.requestJSON(config.dataset.url).catch(function () {
      return { ok: false, status: 0, data: null };
    });
    if (!result.ok) {
      showAge("summary unavailable (HTTP " + result.status + ")", true);
      return;
    }
    const summary = withTotals(result.data);
    renderTiles(summary);
    renderHealth(summary.health || {});
    renderCharts(summary.series);
    showAge("updated " + new Date().toLocaleTimeString(), false);
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      const element = document.getElementById(id);
      charts[id].setSize({ width: Math.max(280, element.clientWidth), height: 200 });
    });
  });

  refresh();
  window.setInterval(refresh, POLL_MS);
})();
