/* Rows of a list field (watchlist, phrases, active hours): add a blank row or remove one without a reload.
   Without this script the form still works: it always renders one blank row, and emptying a row removes it. */
(function () {
  "use strict";

  function blankCopy(row) {
    const copy = row.cloneNode(true);
    copy.querySelectorAll("input, textarea").forEach(function (input) {
      input.value = "";
      input.removeAttribute("id");
    });
    return copy;
  }

  document.querySelectorAll("[data-rows]").forEach(function (rows) {
    rows.querySelectorAll(".rows-add, .rows-remove").forEach(function (button) { button.hidden = false; });
    rows.addEventListener("click", function (event) {
      const items = rows.querySelectorAll(".rows-item");
      if (event.target.classList.contains("rows-add")) {
        const copy = blankCopy(items[items.length - 1]);
        event.target.before(copy);
        copy.querySelector("input, textarea").focus();
      } else if (event.target.classList.contains("rows-remove")) {
        const item = event.target.closest(".rows-item");
        if (items.length > 1) item.remove();
        else item.querySelectorAll("input, textarea").forEach(function (input) { input.value = ""; });
      }
    });
  });
})();
