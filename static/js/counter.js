// Issue 19: every text box with a limit shows how many characters are left, so nobody meets the
// limit by surprise when saving. The limit itself is checked by the server; this only informs.
(function () {
  "use strict";
  var format = new Intl.NumberFormat("en-GB");

  function attach(box) {
    if (box.dataset.counter === "on") {
      return;
    }
    var limit = parseInt(box.getAttribute("maxlength"), 10);
    if (!limit) {
      return;
    }
    box.dataset.counter = "on";
    var counter = document.createElement("div");
    counter.className = "form-text text-end char-counter";
    counter.setAttribute("aria-live", "polite");
    counter.id = (box.id || box.name) + "-counter";
    box.insertAdjacentElement("afterend", counter);
    var described = box.getAttribute("aria-describedby");
    box.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var used = box.value.length;
      counter.textContent = format.format(used) + " of " + format.format(limit) + " characters";
      counter.classList.toggle("text-danger", used >= limit);
    }
    box.addEventListener("input", update);
    update();
  }

  function attachAll(root) {
    root.querySelectorAll("textarea[maxlength]").forEach(attach);
  }

  document.addEventListener("DOMContentLoaded", function () {
    attachAll(document);
  });
  document.addEventListener("htmx:load", function (event) {
    attachAll(event.target);
  });
})();
