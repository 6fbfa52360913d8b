/* Kiosk tablets: back to the first screen after a while without a touch, and full
   screen from the first tap. Only an enhancement: without JavaScript the pages
   carry a meta refresh that does the reset. */
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-reset-url");
  var seconds = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var root = document.documentElement;
  document.addEventListener("pointerdown", function () {
    if (!document.fullscreenElement && root.requestFullscreen) {
      root.requestFullscreen().catch(function () {});
    }
  }, { once: true });
  if (!url || !seconds) return;
  var timer = 0;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.replace(url); }, seconds * 1000);
  }
  ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();
})();
