// The sign-out board: keeps each "in 12 min" / "23 min late" countdown ticking between the
// htmx refreshes. The server's clock is the truth: the offset to it is taken from the live
// region's data-now each time htmx swaps it in.
(function () {
  "use strict";
  var offset = 0;

  function readServerClock() {
    var live = document.getElementById("board-live");
    if (live && live.dataset.now) {
      offset = Date.parse(live.dataset.now) - Date.now();
    }
  }

  function text(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    if (seconds >= 60) { return "in " + minutes + " min"; }
    if (seconds > -60) { return "due now"; }
    return minutes + " min late";
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.dataset.countdownTo) - now) / 1000);
      el.textContent = text(seconds);
    });
  }

  document.addEventListener("DOMContentLoaded", readServerClock);
  document.body.addEventListener("htmx:afterSwap", readServerClock);
  setInterval(tick, 1000);
})();
