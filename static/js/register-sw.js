// Registers the kiosk's service worker, which only shows an offline page when the network is gone (sw.js).
"use strict";
(function () {
  const script = document.currentScript;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(script.dataset.worker, { scope: script.dataset.scope }).catch(() => {});
  }
})();
