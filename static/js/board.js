// The sign-out board (tracking/board.html).
//
// - Keeps each "in 12 min" / "23 min late" countdown, and "last ran 40 s ago", ticking between
//   refreshes. The server's clock is the truth: the offset to it is taken from the live
//   region's data-now each time htmx swaps it in.
// - R-ESC-12: raises the alarm. The server draws the banner and the title; this keeps the
//   title in step after each swap and, when a row turns overdue or climbs a step (a key in
//   data-alarms not seen before), plays the alarm and shows a browser notification, once the
//   office has switched them on with the button (browsers allow sound and notifications only
//   after a click). The choice is kept in this browser (localStorage).
(function () {
  "use strict";
  var offset = 0;
  var seen = null; // the alarm keys already shown: null until the first read
  var STORE = "homeward.boardAlarm";
  var switchButton, statusLine, sound;

  function live() { return document.getElementById("board-live"); }

  function readServerClock() {
    var region = live();
    if (region && region.dataset.now) {
      offset = Date.parse(region.dataset.now) - Date.now();
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
      // Seconds since 1970 on the board's rows; an ISO time elsewhere.
      var at = Number(el.dataset.countdownTo);
      var to = isNaN(at) ? Date.parse(el.dataset.countdownTo) : at * 1000;
      el.textContent = text(Math.round((to - now) / 1000));
    });
    document.querySelectorAll("[data-seconds-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.secondsSince);
      if (!isNaN(since)) {
        el.textContent = Math.max(0, Math.round((now - since) / 1000)) + " s";
      }
    });
  }

  // --- The alarm (R-ESC-12) -----------------------------------------------------------------

  function switchedOn() {
    try { return window.localStorage.getItem(STORE) === "on"; } catch (e) { return false; }
  }

  function remember(on) {
    try { window.localStorage.setItem(STORE, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  function say(words) {
    if (statusLine) { statusLine.textContent = words; }
  }

  function showSwitch() {
    if (!switchButton) { return; }
    var on = switchedOn();
    switchButton.setAttribute("aria-pressed", on ? "true" : "false");
    switchButton.textContent = on
      ? "Turn off the alarm sound and notifications"
      : "Turn on the alarm sound and notifications";
    switchButton.classList.toggle("btn-danger", on);
    switchButton.classList.toggle("btn-outline-danger", !on);
  }

  function play() {
    if (!sound) { return; }
    sound.currentTime = 0;
    var playing = sound.play();
    if (playing && playing.catch) {
      playing.catch(function () {
        say("The browser blocked the alarm sound: press the button to turn it on again.");
        remember(false);
        showSwitch();
      });
    }
  }

  function notify(words) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      new Notification("Homeward: visit overdue", { body: words, tag: "homeward-board" });
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  function ring(region) {
    if (switchButton) {
      switchButton.dataset.rings = String(Number(switchButton.dataset.rings || "0") + 1);
    }
    var banner = document.getElementById("board-alarm");
    if (banner) { banner.classList.add("board-alarm-new"); }
    if (!switchedOn()) { return; }
    play();
    notify(region.dataset.alarmText || "A visit is overdue: look at the sign-out board.");
  }

  function readAlarms() {
    var region = live();
    if (!region) { return; }
    if (region.dataset.title) { document.title = region.dataset.title; }
    var keys = (region.dataset.alarms || "").split(" ").filter(Boolean);
    if (seen !== null && keys.some(function (key) { return seen.indexOf(key) === -1; })) {
      ring(region);
    }
    seen = keys;
  }

  function toggle() {
    var on = !switchedOn();
    remember(on);
    showSwitch();
    if (!on) {
      say("The alarm sound is off: the title and the banner still change when a visit is overdue.");
      return;
    }
    say("The alarm sound is on: this is what you will hear when a visit is overdue.");
    play(); // the click is the gesture that allows the sound from now on
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().then(function (answer) {
        if (answer !== "granted") {
          say("The alarm sound is on. Notifications are blocked by this browser: only the sound, the title and the banner will tell you.");
        }
      });
    }
  }

  function start() {
    switchButton = document.getElementById("board-alarm-switch");
    statusLine = document.getElementById("board-alarm-status");
    if (switchButton) {
      sound = new Audio(switchButton.dataset.sound);
      sound.preload = "auto";
      switchButton.addEventListener("click", toggle);
      showSwitch();
      if (switchedOn()) {
        say("The alarm sound is on in this browser.");
      }
    }
    readServerClock();
    readAlarms();
  }

  // A row's "More actions" menu: its content is fetched the first time it is opened.
  // Its URL: the live region's data-menu pattern, with the row's id in place of data-menu-id.
  function openMenu(event) {
    var menu = event.target;
    var region = live();
    if (!menu.matches || !menu.matches("details.br-more") || !menu.open || !region) { return; }
    if (menu.dataset.loaded || !window.htmx) { return; }
    menu.dataset.loaded = "1";
    var url = region.dataset.menu.replace(region.dataset.menuId, menu.id.replace("more-", ""));
    window.htmx.ajax("GET", url, { target: menu, swap: "beforeend" });
  }

  document.addEventListener("toggle", openMenu, true); // toggle does not bubble: capture it
  document.addEventListener("DOMContentLoaded", start);
  document.body.addEventListener("htmx:afterSwap", function () {
    readServerClock();
    readAlarms();
    tick();
  });
  setInterval(tick, 1000);
})();
