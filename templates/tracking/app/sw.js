// "My visit" as an app (issue 13; docs/escalation.md "My visit on the home screen").
// Served by tracking.views.my_visit_service_worker at {{ scope }}sw.js, so its scope is My
// visit only. It caches ONE page, the offline page (the office's number, 999, the reply
// words: no child's details), and the static files that page uses. Nothing else is ever put
// in the cache: My visit itself and every other page always come from the network, and only
// when the network fails does a page fall back to the offline page.
"use strict";

const CACHE = "homeward-my-visit-{{ version }}";
const OFFLINE = "{{ offline_url }}";
const PRECACHE = {{ precache|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("homeward-my-visit-") && key !== CACHE)
            .map((key) => caches.delete(key))
        )
      )
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && PRECACHE.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});
