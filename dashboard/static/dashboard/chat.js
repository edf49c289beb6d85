/* Live chat view: polls the messages API every 2 s and appends new messages, and the event timeline every 5 s;
   sandbox chats post as a member. */
(function () {
  "use strict";

  const POLL_MS = 2000;
  const EVENTS_POLL_MS = 5000;
  const OVERLAP_MS = 5000; // a message may commit a moment after a later-created one: re-ask, drop known ids
  const list = document.getElementById("messages");
  const form = document.getElementById("post-form");
  const seen = new Set();
  let newest = null;
  let replyTo = null;
  const threadScript = document.getElementById("thread-names"); // only a forum's page has it
  const threadNames = threadScript ? JSON.parse(threadScript.textContent) : null;

  function threadName(threadId) {
    if (threadId === null) return "General";
    return threadNames[String(threadId)] || "thread " + threadId;
  }

  function track(item) {
    seen.add(item.dataset.messageId);
    const created = new Date(item.dataset.created);
    if (!newest || created > newest) newest = created;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function quoteFor(replyId) {
    const original = list.querySelector('[data-message-id="' + replyId + '"]');
    if (!original) return null;
    const text = original.querySelector(".text").textContent;
    const snippet = text.length > 90 ? text.slice(0, 89) + "…" : text;
    const quote = element("blockquote", "quote", "↪ " + original.dataset.speaker + ": " + snippet);
    quote.dataset.replyTo = replyId;
    return quote;
  }

  function render(message) {
    const item = element("li", "msg " + (message.bot ? "msg-bot" : "msg-member"));
    item.dataset.messageId = String(message.id);
    item.dataset.telegramId = message.telegram_message_id === null ? "" : String(message.telegram_message_id);
    item.dataset.created = message.created_at;
    item.dataset.speaker = message.speaker;
    const head = element("div", "msg-head");
    if (threadNames) {
      head.appendChild(element("span", "thread", threadName(message.thread_id)));
      head.appendChild(document.createTextNode(" "));
    }
    head.appendChild(element("strong", "speaker", message.speaker));
    head.appendChild(document.createTextNode(" "));
    const time = element("time", "", new Date(message.created_at).toLocaleTimeString());
    time.setAttribute("datetime", message.created_at);
    head.appendChild(time);
    if (form && message.telegram_message_id !== null) {
      head.appendChild(document.createTextNode(" "));
      head.appendChild(element("button", "link reply-button", "Reply")).type = "button";
    }
    item.appendChild(head);
    const quote = message.reply_to ? quoteFor(message.reply_to) : null;
    if (quote) item.appendChild(quote);
    item.appendChild(element("p", "text", message.text));
    return item;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function append(messages) {
    const stick = nearBottom();
    messages.forEach(function (message) {
      if (seen.has(String(message.id))) return;
      const item = render(message);
      list.appendChild(item);
      track(item);
    });
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function pollUrl() {
    let url = list.dataset.pollUrl + "&limit=200";
    if (newest) url += "&since=" + encodeURIComponent(new Date(newest.getTime() - OVERLAP_MS).toISOString());
    return url;
  }

  async function poll() {
    const status = document.getElementById("live-status");
    const result = await window.Piyasa.requestJSON(pollUrl()).catch(function () {
      return { ok: false, status: 0, data: null };
    });
    if (!result.ok) {
      status.textContent = "Live updates paused: HTTP " + result.status + " (retrying).";
      status.classList.add("error-text");
      return;
    }
    status.textContent = "Live: new messages appear as they arrive.";
    status.classList.remove("error-text");
    append(result.data.results || []);
  }

  function setReplyTo(item) {
    replyTo = item ? Number(item.dataset.telegramId) : null;
    const target = document.getElementById("reply-target");
    target.hidden = !item;
    if (item) target.querySelector("strong").textContent = item.dataset.speaker;
  }

  function showErrors(lines) {
    const box = document.getElementById("post-errors");
    box.replaceChildren.apply(box, lines.map(function (line) { return element("p", "", line); }));
    box.hidden = lines.length === 0;
  }

  async function submit(event) {
    event.preventDefault();
    const text = form.querySelector("[name=text]");
    const body = { sender_name: form.querySelector("[name=sender_name]").value, text: text.value };
    if (replyTo) body.reply_to_message_id = replyTo;
    const result = await window.Piyasa.requestJSON(list.dataset.postUrl, { method: "POST", body: body });
    if (!result.ok) {
      showErrors(window.Piyasa.errorLines(result.data, result.status));
      return;
    }
    showErrors([]);
    text.value = "";
    setReplyTo(null);
    const turn = result.data.turn_id;
    document.getElementById("post-status").textContent = turn ? "Sent; a bot is answering (turn " + turn + ")." : "Sent.";
    poll();
  }

  list.querySelectorAll("[data-message-id]").forEach(track);
  list.scrollTop = list.scrollHeight;
  if (form) {
    form.addEventListener("submit", submit);
    list.addEventListener("click", function (event) {
      if (event.target.classList.contains("reply-button")) setReplyTo(event.target.closest("[data-message-id]"));
    });
    document.getElementById("reply-cancel").addEventListener("click", function () { setReplyTo(null); });
    document.querySelectorAll(".mention-button").forEach(function (button) {
      button.addEventListener("click", function () {
        const text = form.querySelector("[name=text]");
        text.value = "@" + button.dataset.username + " " + text.value;
        text.focus();
      });
    });
  }
  window.setInterval(poll, POLL_MS);

  // The market events' timeline: the server renders it (escaped by its template); swapped in when it changed.
  const timeline = document.getElementById("event-timeline-live");
  let shownEvents = null;
  async function pollEvents() {
    const response = await fetch(timeline.dataset.url, { credentials: "same-origin" }).catch(function () {
      return null;
    });
    if (!response || !response.ok) return;
    const html = await response.text();
    if (html === shownEvents) return;
    shownEvents = html;
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("event-timeline");
    if (fresh) timeline.replaceChildren(document.importNode(fresh, true));
  }
  if (timeline) window.setInterval(pollEvents, EVENTS_POLL_MS);
})();
