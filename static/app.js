// appfactory's own behaviour, loaded as a file so the CSP needs no inline script.
(function () {
  "use strict";
  // Forms and buttons marked data-confirm ask before they submit.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    var msg = f.getAttribute && (f.getAttribute("data-confirm") || (ev.submitter && ev.submitter.getAttribute("data-confirm")));
    if (msg && !window.confirm(msg)) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
  // htmx requests may be confirmed the same way.
  document.addEventListener("htmx:confirm", function (ev) {
    var el = ev.detail.elt;
    var msg = el && el.getAttribute("data-confirm");
    if (msg) {
      ev.preventDefault();
      if (window.confirm(msg)) { ev.detail.issueRequest(true); }
    }
  });
  // Elements with data-copy copy their text to the clipboard on click.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-copy]");
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.getAttribute("data-copy"));
      el.classList.add("copied");
    }
  });
  // A page marked data-reload-when-ready polls a status URL and reloads once ready.
  var waiter = document.querySelector("[data-ready-url]");
  if (waiter) {
    var url = waiter.getAttribute("data-ready-url");
    var tick = function () {
      fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var m = waiter.querySelector("[data-progress]");
          if (m && s.message) { m.textContent = s.message; }
          if (s.ready) { window.location.reload(); return; }
          if (s.failed) { waiter.classList.add("failed"); return; }
          setTimeout(tick, 250);
        })
        .catch(function () { setTimeout(tick, 500); });
    };
    setTimeout(tick, 150);
  }
  // A live log tail (data-log-stream) follows its container selector with
  // an EventSource; the server ends a stream with an "end" event, after
  // which the viewer stays closed until asked to reconnect.
  var maxLogLines = 1000;
  document.querySelectorAll("[data-log-stream]").forEach(function (box) {
    var out = box.querySelector("[data-log-output]");
    var status = box.querySelector("[data-log-status]");
    var select = box.querySelector("[data-log-select]");
    var restart = box.querySelector("[data-log-restart]");
    var es = null;
    var say = function (msg) { if (status) { status.textContent = msg; } };
    var open = function () {
      if (es) { es.close(); }
      out.textContent = "";
      var url = box.getAttribute("data-log-stream") + "?tail=" + encodeURIComponent(box.getAttribute("data-log-tail") || "200");
      if (select && select.value) { url += "&service=" + encodeURIComponent(select.value); }
      say("Connecting…");
      es = new EventSource(url);
      es.onopen = function () { say("Following the logs live."); };
      es.onmessage = function (ev) {
        var atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
        out.appendChild(document.createTextNode(ev.data + "\n"));
        while (out.childNodes.length > maxLogLines) { out.removeChild(out.firstChild); }
        if (atBottom) { out.scrollTop = out.scrollHeight; }
      };
      es.addEventListener("end", function () { es.close(); es = null; say("The containers are stopped: no more lines."); });
      es.onerror = function () { if (es) { es.close(); es = null; } say("Disconnected. Press Reconnect to follow again."); };
    };
    if (select) { select.addEventListener("change", open); }
    if (restart) { restart.addEventListener("click", open); }
    open();
  });
})();
