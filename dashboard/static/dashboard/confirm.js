/* Buttons with a data-confirm question (deletes) ask before they submit. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
