{% comment %}
Renkei's tracking script, served by renkei.tracking.views.script (GET /t/renkei.js).
Hand-written, no dependencies, no build step; the Django comments are left out when it is
served, and so are indentation and blank lines (keep every string on one line), so the
script stays under 4 KB. One variable comes from the server: whether to
honour Do Not Track / Global Privacy Control (CaptureSettings.honour_do_not_track).

What it does (docs/tracking.md explains it to users):
- a first-party visitor id: cookie _rk_vid on the page's own domain (1 year, SameSite=Lax,
  Secure on https), mirrored in localStorage; adopted from ?_rkv= when a page on another
  domain sent the visitor here;
- a page view on load and on each history.pushState / popstate (single-page apps);
- events are queued and sent to /t/collect with navigator.sendBeacon (text/plain: no CORS
  preflight) when 5 are waiting, 2 s after the first, and when the page is hidden or left
  (visibilitychange / pagehide), so nothing is lost on unload; fetch(keepalive) when the
  beacon is refused. Each event has a random id, so a batch sent twice counts once;
- ?_rk=<identity token> (a tracked link) goes with the next batch, once; _rk and _rkv are
  removed from the address bar so a copied link does not carry them;
- fills input[name=_rk_vid] and input[name=_rk_url] in every form[data-renkei-form], on
  load and again just before a submission;
- adds _rkv=<visitor id> to links to the Renkei host (hosted form pages) so the visitor
  stays the same there;
- window.renkei = {visitorId(), track(type, properties)}; a custom event is sent on its own
  at once, so a malformed one (refused by the server) never takes page views with it.
{% endcomment %}(() => {
  "use strict";
  const w = window, d = document, n = navigator, L = location, H = history;
  if (w.renkei) return;
  const src = (d.currentScript && d.currentScript.src) || "";
  const base = src.replace(/\/t\/renkei\.js(\?.*)?$/, "");
  const honourDnt = {{ honour_do_not_track|yesno:"true,false" }};
  if (!base || (honourDnt && (n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl))) {
    w.renkei = { visitorId: () => "", track: () => {} };
    return;
  }
  const host = new URL(base).host, ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const uuid = () => "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  const attempt = (f) => { try { return f(); } catch (e) { return null; } };
  const params = new URLSearchParams(L.search);
  const cookie = (d.cookie.match(/(?:^|;\s*)_rk_vid=([^;]+)/) || [])[1];
  const vid = [params.get("_rkv"), cookie, attempt(() => localStorage.getItem("_rk_vid"))]
    .find((v) => v && ID.test(v)) || uuid();
  d.cookie = "_rk_vid=" + vid + ";path=/;max-age=31536000;SameSite=Lax" + (L.protocol === "https:" ? ";Secure" : "");
  attempt(() => localStorage.setItem("_rk_vid", vid));
  let identity = params.get("_rk") || "", queue = [], timer = 0, last = "";

  const clean = (url) => attempt(() => {
    const u = new URL(url);
    u.searchParams.delete("_rk");
    u.searchParams.delete("_rkv");
    return u.href.slice(0, 2000);
  }) || "";
  if (params.has("_rk") || params.has("_rkv")) attempt(() => H.replaceState(H.state, "", clean(L.href)));
  const referrer = /^https?:/.test(d.referrer) ? clean(d.referrer) : "";
  const now = () => new Date().toISOString();

  const send = (body) => {
    const url = base + "/t/collect";
    if (attempt(() => n.sendBeacon(url, body))) return;
    attempt(() => fetch(url, { method: "POST", body, keepalive: true, mode: "no-cors", credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).catch(() => {}));
  };
  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    while (queue.length) {
      const body = { visitor_id: vid, events: queue.splice(0, 20) };
      if (identity) body.identity = identity;
      identity = "";
      send(JSON.stringify(body));
    }
  };
  const pageView = () => {
    const url = clean(L.href);
    if (!url || url === last) return;
    queue.push({ id: uuid(), type: "page_view", url, title: d.title.slice(0, 500), referrer: last || referrer, occurred_at: now() });
    last = url;
    if (queue.length >= 5) flush();
    else if (!timer) timer = setTimeout(flush, 2000);
  };
  const fillForms = () => d.querySelectorAll("form[data-renkei-form]").forEach((form) => {
    const v = form.querySelector("input[name=_rk_vid]"), u = form.querySelector("input[name=_rk_url]");
    if (v) v.value = vid;
    if (u) u.value = clean(L.href);
  });
  const decorate = (a) => {
    if (a.host === host && a.host !== L.host && /^https?:$/.test(a.protocol)) {
      const u = new URL(a.href);
      u.searchParams.set("_rkv", vid);
      a.href = u.href;
    }
  };
  const onClick = (e) => {
    const a = e.target && e.target.closest && e.target.closest("a[href]");
    if (a) decorate(a);
  };

  const pushState = H.pushState;
  H.pushState = function () {
    const result = pushState.apply(this, arguments);
    setTimeout(pageView, 100);
    return result;
  };
  w.addEventListener("popstate", () => setTimeout(pageView, 100));
  d.addEventListener("visibilitychange", () => d.visibilityState === "hidden" && flush());
  w.addEventListener("pagehide", flush);
  d.addEventListener("submit", fillForms, true);
  d.addEventListener("click", onClick, true);
  d.addEventListener("auxclick", onClick, true);
  w.renkei = {
    visitorId: () => vid,
    track(type, properties) {
      if (!/^[a-z][a-z0-9_.:-]{0,63}$/.test(type)) return;
      send(JSON.stringify({ visitor_id: vid, events: [{ id: uuid(), type, url: clean(L.href), occurred_at: now(), properties: properties || {} }] }));
    },
  };
  const start = () => {
    fillForms();
    d.querySelectorAll("a[href]").forEach(decorate);
  };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
  pageView();
})();
