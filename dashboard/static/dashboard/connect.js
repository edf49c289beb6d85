/* The add-to-group step: poll the chats this flow's bots are in until one appears, without reloading. */
(function () {
  "use strict";
  const list = document.getElementById("connect-chats");
  if (!list) return;
  const waiting = document.getElementById("chats-waiting");
  const POLL_MS = 2000;

  function render(chats) {
    list.replaceChildren(...chats.map(function (chat) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = chat.url;
      link.className = "connect-chat";
      link.textContent = chat.title;
      item.append(link);
      if (chat.discovered) {
        const badge = document.createElement("span");
        badge.className = "badge badge-off";
        badge.textContent = "discovered";
        item.append(" ", badge);
      }
      return item;
    }));
    waiting.hidden = chats.length > 0;
  }

  function poll() {
    fetch(list.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) render(data.chats); })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }
  setTimeout(poll, POLL_MS);
})();
