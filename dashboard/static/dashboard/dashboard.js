/* Shared helpers for the dashboard's pages: JSON requests with the session's CSRF token. */
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function requestJSON(url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (opts.body !== undefined && typeof opts.body !== "string") {
      opts.body = JSON.stringify(opts.body);
      opts.headers["Content-Type"] = "application/json";
    }
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, opts);
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  /* "field: message" lines from a DRF error body ({"field": ["msg"]} or {"detail": "msg"}). */
  function errorLines(data, status) {
    if (!data) return ["The request failed (HTTP " + status + ")."];
    if (typeof data.detail === "string") return [data.detail];
    const lines = [];
    Object.keys(data).forEach(function (field) {
      const value = Array.isArray(data[field]) ? data[field].join(" ") : JSON.stringify(data[field]);
      lines.push(field === "non_field_errors" ? value : field + ": " + value);
    });
    return lines.length ? lines : ["The request failed (HTTP " + status + ")."];
  }

  window.Piyasa = { requestJSON: requestJSON, errorLines: errorLines };
})();
