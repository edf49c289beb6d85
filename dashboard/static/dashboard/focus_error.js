/* Edit pages re-rendered with errors: bring the first field with an inline error into view and focus it. */
(function () {
  "use strict";
  const field = document.querySelector(".field.has-error");
  if (!field) return;
  field.scrollIntoView({ block: "center" });
  const input = field.querySelector("input, select, textarea");
  if (input) input.focus({ preventScroll: true });
})();
