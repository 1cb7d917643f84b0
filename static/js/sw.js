// The kiosk's service worker. It keeps ONLY a page that says "Please ask at the desk" and the stylesheets, and
// shows that page when a screen cannot be loaded. It never stores any other response: no form, no visitor, no host
// search, no status (SECURITY.md R26).
"use strict";

const CACHE = "velkommen-offline-v1";
const OFFLINE = "/kiosk/offline";
const KEEP = [OFFLINE, "/static/css/kiosk.css", "/kiosk/brand.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(KEEP)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  } else if (request.method === "GET" && url.origin === self.location.origin && KEEP.includes(url.pathname)) {
    // The network first, so a changed stylesheet shows at once; the stored copy only when the network is gone.
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
  // Everything else goes to the network untouched, and nothing is ever put in the cache here.
});
