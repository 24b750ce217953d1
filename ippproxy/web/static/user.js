// ippproxy user web app: the live questions of the user's jobs over server-sent events
// (GET /api/v1/me/events, services/usernotices.py), answered in the page through the same
// REST API as the client (/api/v1/me/jobs/{uuid}/account and .../confirm). No build step:
// plain browser JavaScript. Text from the server (document names, messages) is only ever
// set with textContent, never parsed as HTML.
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Exact money from integer minor units (no float): money(-1234, "EUR", 2) == "-12.34 EUR".
  function money(minor, currency, exponent) {
    if (minor === null || minor === undefined) return "";
    var sign = minor < 0 ? "-" : "";
    var digits = String(Math.abs(minor));
    if (exponent > 0) {
      while (digits.length <= exponent) digits = "0" + digits;
      digits = digits.slice(0, -exponent) + "." + digits.slice(-exponent);
    }
    return sign + digits + " " + currency;
  }

  function left(deadline) {
    var s = Math.max(0, Math.floor((Date.parse(deadline) - Date.now()) / 1000));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function start() {
    var box = document.getElementById("popups");
    if (!box || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var empty = document.getElementById("popups-empty");
    var exponent = parseInt(box.dataset.exponent || "2", 10);
    var currency = box.dataset.currency || "";
    var timers = {};

    function shown() {
      if (empty) empty.hidden = box.children.length > 0;
    }

    // mine: the answer given in this page. It is the popup's outcome even when the job's
    // own state event (sent as soon as the answer released it) came in first.
    function done(uuid, text, mine) {
      var li = document.getElementById("job-" + uuid);
      if (li && li.closest("#waiting")) li.remove();
      var p = document.getElementById("popup-" + uuid);
      if (!p) return;
      if (p.classList.contains("answered")) {    // the job's progress after the answer
        if (mine) {
          p.querySelector(".progress").textContent = p.querySelector(".outcome").textContent;
          p.querySelector(".outcome").textContent = text;
        } else {
          p.querySelector(".progress").textContent = text;
        }
        return;
      }
      if (timers[uuid]) { clearInterval(timers[uuid]); delete timers[uuid]; }
      p.querySelectorAll("button").forEach(function (b) { b.remove(); });
      var c = p.querySelector(".countdown");
      if (c) c.remove();
      var out = p.querySelector(".outcome");
      out.textContent = text;
      p.classList.add("answered");
      setTimeout(function () { p.remove(); shown(); }, 30000);
    }

    function send(uuid, path, body) {
      var p = document.getElementById("popup-" + uuid);
      p.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      return fetch("/api/v1/me/jobs/" + encodeURIComponent(uuid) + "/" + path, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.json().then(function (j) { return {ok: r.ok, body: j}; });
      }).then(function (res) {
        if (res.ok) {
          done(uuid, res.body.state === "canceled" ? "Canceled: nothing charged."
               : "Answered: the job prints.", true);
        } else {
          p.querySelector(".outcome").textContent = res.body.detail || "Refused.";
          p.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        }
      }).catch(function () {
        p.querySelector(".outcome").textContent = "Not sent: the server did not answer.";
        p.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
    }

    function popup(job, title) {
      var old = document.getElementById("popup-" + job.uuid);
      if (old && !old.classList.contains("answered")) return null;   // asked already
      if (old) old.remove();
      var p = el("section", "popup");
      p.id = "popup-" + job.uuid;
      p.setAttribute("aria-labelledby", p.id + "-h");
      var h = el("h3", "", title);
      h.id = p.id + "-h";
      p.appendChild(h);
      var facts = [job.name || "(no name)", job.printer];
      if (job.pages !== null && job.pages !== undefined) facts.push(job.pages + " pages");
      if (job.colour_impressions) facts.push(job.colour_impressions + " colour");
      if (job.estimate !== null && job.estimate !== undefined) {
        facts.push(money(job.estimate, currency, exponent));
      }
      p.appendChild(el("p", "facts-line", facts.join(" · ")));
      if (job.message) p.appendChild(el("p", "reason", job.message));
      p.appendChild(el("div", "choices"));
      p.appendChild(el("p", "outcome"));
      p.querySelector(".outcome").setAttribute("role", "status");
      p.appendChild(el("p", "progress"));
      box.insertBefore(p, box.firstChild);
      shown();
      return p;
    }

    function button(p, label, cls, onclick) {
      var b = el("button", cls, label);
      b.type = "button";
      b.addEventListener("click", onclick);
      p.querySelector(".choices").appendChild(b);
      return b;
    }

    function accountNeeded(msg) {
      var job = JSON.parse(msg.data);
      var p = popup(job, "Job " + job.job_id + ": which account pays?");
      if (!p) return;
      var pin = null;   // the shared account's PIN (issue 17 §5), where one needs it
      if ((job.choices || []).some(function (a) { return a.pin; })) {
        var field = el("p", "pin-field");
        var label = el("label", "", "Account PIN (for an account that needs it)");
        pin = el("input", "");
        pin.type = "password";
        pin.id = "popup-" + job.uuid + "-pin";
        pin.inputMode = "numeric";
        pin.autocomplete = "off";
        pin.maxLength = 32;
        label.htmlFor = pin.id;
        field.appendChild(label);
        field.appendChild(pin);
        p.insertBefore(field, p.querySelector(".choices"));
      }
      (job.choices || []).forEach(function (a) {
        var name = a.code === null ? "My account" : a.name;
        var label = name + " (" + money(a.balance, a.currency, exponent) + ")" +
            (a.pin ? ", needs its PIN" : "");
        button(p, label, "choice", function () {
          var body = {account: a.code};
          if (a.pin && pin && pin.value) body.pin = pin.value;
          send(job.uuid, "account", body);
        });
      });
      button(p, "Cancel job", "danger", function () {
        fetch("/user/jobs/" + encodeURIComponent(job.uuid) + "/cancel", {
          method: "POST", credentials: "same-origin", redirect: "manual",
          headers: {"X-CSRF-Token": csrf}, body: new URLSearchParams({csrf_token: csrf})
        }).then(function () { done(job.uuid, "Canceled: nothing charged.", true); });
      });
      if (job.deadline) {
        var c = el("p", "countdown");
        c.setAttribute("aria-live", "off");
        p.insertBefore(c, p.querySelector(".choices"));
        var tick = function () { c.textContent = left(job.deadline) + " left to answer"; };
        tick();
        timers[job.uuid] = setInterval(tick, 1000);
      }
    }

    function confirmNeeded(msg) {
      var job = JSON.parse(msg.data);
      var p = popup(job, "Job " + job.job_id + ": print it?");
      if (!p) return;
      button(p, "Print", "", function () { send(job.uuid, "confirm", {print: true}); });
      button(p, "Don't print", "danger", function () {
        send(job.uuid, "confirm", {print: false});
      });
    }

    function jobState(msg) {
      var job = JSON.parse(msg.data);
      if (job.state === "pending-held") return;
      var late = job.state === "canceled" && (job.reasons || []).indexOf("account-info-needed") >= 0;
      done(job.uuid, late ? "No answer in time: canceled, nothing charged."
           : "Job " + job.job_id + " is " + job.state + ".");
    }

    function balance(msg) {
      var data = JSON.parse(msg.data);
      (data.accounts || []).forEach(function (a) {
        var dd = document.querySelector('dd[data-account="' + (a.code === null ? "" : CSS.escape(a.code)) + '"]');
        if (dd) dd.textContent = money(a.balance, a.currency, exponent);
      });
    }

    function lowCredit(msg) {
      var data = JSON.parse(msg.data);
      if (document.getElementById("low-credit")) return;
      var w = el("p", "warning", "Your balance is " + money(data.balance, data.currency, exponent)
                 + ", below " + money(data.threshold, data.currency, exponent)
                 + ": add credit before it runs out.");
      w.id = "low-credit";
      w.setAttribute("role", "alert");
      var main = document.getElementById("main");
      main.insertBefore(w, main.querySelector("section"));
    }

    var source = new EventSource(box.dataset.source);
    source.addEventListener("account-needed", accountNeeded);
    source.addEventListener("confirm-needed", confirmNeeded);
    source.addEventListener("job-state", jobState);
    source.addEventListener("balance", balance);
    source.addEventListener("low-credit", lowCredit);
    source.onopen = function () { status.textContent = "live"; };
    source.onerror = function () { status.textContent = "reconnecting…"; };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
