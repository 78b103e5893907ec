// "My visit" as an app (issue 13): registers the service worker that keeps the offline page
// (the office's number, 999 and the reply words) for when the phone has no data.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  window.addEventListener("load", function () {
    var holder = document.querySelector("[data-service-worker]");
    if (holder) {
      navigator.serviceWorker
        .register(holder.dataset.serviceWorker, { scope: holder.dataset.scope })
        .catch(function () {
          // No offline page on this phone; My visit works as before.
        });
    }
  });
})();
