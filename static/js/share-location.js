// R-TRK-8: "Share my location with this check-in". The phone's position is asked for only when
// the visitor ticks the box (the browser asks them too), once, for this check-in: never on its
// own, never in the background. It fills the hidden fields next to the box; untick to clear.
(function () {
  "use strict";

  function fields(box) {
    var holder = box.closest("[data-share-location-holder]");
    return {
      holder: holder,
      status: holder.querySelector("[data-share-status]"),
      inputs: ["latitude", "longitude", "accuracy", "taken_at"].map(function (name) {
        return holder.querySelector('input[name="' + name + '"]');
      }),
    };
  }

  function clear(parts) {
    parts.inputs.forEach(function (input) {
      input.value = "";
    });
  }

  function changed(event) {
    var box = event.target;
    var parts = fields(box);
    clear(parts);
    if (!box.checked) {
      parts.status.textContent = "";
      return;
    }
    parts.status.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        if (!box.checked) {
          return;
        }
        var values = [
          position.coords.latitude.toFixed(6),
          position.coords.longitude.toFixed(6),
          String(Math.round(position.coords.accuracy)),
          String(Math.round(position.timestamp)),
        ];
        parts.inputs.forEach(function (input, index) {
          input.value = values[index];
        });
        parts.status.textContent =
          "Location ready (to within " + values[2] + " m): it goes with this check-in only.";
      },
      function () {
        box.checked = false;
        parts.status.textContent =
          "Your location could not be read. You can still check in without it.";
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share-location]").forEach(function (box) {
      if (!("geolocation" in navigator)) {
        box.closest("[data-share-location-holder]").hidden = true;
        return;
      }
      box.checked = false; // never carried over from an earlier page
      box.addEventListener("change", changed);
    });
  });
})();
