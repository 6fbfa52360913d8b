// The receipt page: a Print button for browsers that can print from a page (the
// page says how to print without it: the browser's own Print command).
(function () {
  var button = document.getElementById("print-receipt");
  if (!button || typeof window.print !== "function") return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
