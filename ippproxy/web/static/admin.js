// ippproxy admin: the dashboard's live activity over server-sent events.
// No build step: plain browser JavaScript. Each event is added at the top of the
// activity list (an aria-live region, so screen readers announce it) and the figures
// above are reloaded by htmx (hx-trigger="refresh"), at most once a second.
(function () {
  "use strict";
  var MAX_ITEMS = 50;

  function text(cls, value) {
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = value;
    return span;
  }

  function item(ev) {
    var li = document.createElement("li");
    li.className = "ev ev-" + ev.kind;
    li.dataset.seq = String(ev.seq || "");
    var t = document.createElement("time");
    t.dateTime = ev.at;
    t.textContent = new Date(ev.at).toLocaleTimeString();
    li.appendChild(t);
    li.appendChild(text("kind", ev.kind));
    if (ev.queue) li.appendChild(text("queue", ev.queue));
    if (ev.job_id) li.appendChild(text("job", "job " + ev.job_id));
    if (ev.user) li.appendChild(text("user", ev.user));
    if (ev.message) li.appendChild(text("msg", ev.message));
    if (ev.dropped) li.appendChild(text("msg", ev.dropped + " events were too many to show"));
    return li;
  }

  function start() {
    var list = document.getElementById("activity");
    if (!list || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var empty = document.getElementById("activity-empty");
    var summary = document.getElementById("summary");
    var pending = null;
    var source = new EventSource(list.dataset.source);

    function refresh() {
      if (pending || !summary || !window.htmx) return;
      pending = setTimeout(function () {
        pending = null;
        window.htmx.trigger(summary, "refresh");
      }, 1000);
    }

    function receive(message) {
      var ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      if (empty) { empty.remove(); empty = null; }
      list.insertBefore(item(ev), list.firstChild);
      while (list.children.length > MAX_ITEMS) list.removeChild(list.lastChild);
      refresh();
    }

    list.dataset.kinds.split(" ").forEach(function (kind) {
      source.addEventListener(kind, receive);
    });
    source.onopen = function () { status.textContent = "live"; };
    source.onerror = function () { status.textContent = "reconnecting…"; };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// The cashier's receipt: a button that prints the page (no inline handlers).
document.addEventListener("click", function (ev) {
  "use strict";
  var target = ev.target;
  if (target instanceof Element && target.closest("[data-print]")) window.print();
});
