/* gazportal service worker: keeps the app shell so the installed portal opens without a network.
 *
 * Registered by the page as /sw.js?v=<version> (gazportal/pwa.py sw_version); the version names
 * the cache, so a new release installs a fresh shell and drops the old one.
 *  - navigations (the HTML of the pages): network first, the cached copy when offline;
 *  - /assets/* (built JS/CSS, hashed names), /profiles/* (logo, icons, manifest), favicon:
 *    cache first, filled on first use;
 *  - never touched: the websocket /_event, /_upload and every other /_* or /api path, other
 *    origins, anything but GET.
 */
const VERSION = new URL(self.location.href).searchParams.get("v") || "0";
const CACHE = "gazportal-shell-" + VERSION;
// The public pages' HTML (the same for everyone: the data comes over the websocket afterwards).
const SHELL = ["/", "/signin", "/register", "/recover", "/agreement"];

function inShell(url) {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  return SHELL.includes(path);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(SHELL.map((path) => cache.add(new Request(path, { cache: "reload" })).catch(() => null)))
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("gazportal-shell-") && k !== CACHE).map((k) => caches.delete(k))
      ))
      .then(() => self.clients.claim())
  );
});

function neverCache(url) {
  return url.origin !== self.location.origin ||
    url.pathname.startsWith("/_") ||      // /_event (websocket), /_upload, /_health ...
    url.pathname.startsWith("/api") ||
    url.pathname === "/ping" ||
    url.pathname === "/sw.js";
}

function isStatic(url) {
  return url.pathname.startsWith("/assets/") || url.pathname.startsWith("/profiles/") ||
    url.pathname === "/favicon.ico" || url.pathname === "/apple-touch-icon.png";
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && inShell(new URL(request.url))) {
      cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = (await cache.match(request, { ignoreSearch: true })) || (await cache.match("/"));
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (neverCache(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  } else if (isStatic(url)) {
    event.respondWith(cacheFirst(request));
  }
});
