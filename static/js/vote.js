// Progressive enhancement for the vote box: vote without a page reload, show times in the
// voter's own time zone, and count down to the next vote. Without JavaScript the form posts
// and the server redirects to the page, which renders the same box once.
(function () {
  "use strict";

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function remaining(ms) {
    var minutes = Math.max(0, Math.ceil(ms / 60000));
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours >= 24) {
      var days = Math.floor(hours / 24);
      return plural(days, "day") + (hours % 24 ? ", " + plural(hours % 24, "hour") : "");
    }
    if (hours) { return plural(hours, "hour") + (minutes ? ", " + plural(minutes, "minute") : ""); }
    return plural(Math.max(minutes, 1), "minute");
  }

  // The page's language, so that a date in an English sentence is written in English, in the
  // voter's own time zone (toLocaleString's default) rather than the award's.
  function language() { return document.documentElement.lang || "en"; }

  function localize(box) {
    box.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) { return; }
      el.textContent = when.toLocaleString(language(), {
        weekday: "long", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
        timeZoneName: "short"
      });
    });
  }

  function tick(box) {
    var due = false;
    box.querySelectorAll("[data-countdown]").forEach(function (el) {
      var ms = new Date(el.getAttribute("data-countdown")) - new Date();
      if (ms <= 0) { due = true; } else { el.textContent = remaining(ms); }
    });
    if (due) { window.location.reload(); }
  }

  // The answer to a vote is a few bytes of JSON: the page carries the markup for the common
  // outcomes in <template> elements, and the server sends markup only for the rare ones.
  function fill(box, data) {
    if (data.html) { box.innerHTML = data.html; return true; }
    var template = document.getElementById("vote-template-" + data.outcome);
    if (!template || !data.next_vote_at) { return false; }
    box.innerHTML = template.innerHTML;
    box.querySelectorAll("time[data-local-time]").forEach(function (el) {
      el.setAttribute("datetime", data.next_vote_at);
    });
    box.querySelectorAll("[data-countdown]").forEach(function (el) {
      el.setAttribute("data-countdown", data.next_vote_at);
    });
    return true;
  }

  // After a counted vote the nominee's count goes up by one at once; the standings are
  // recomputed a few seconds after a vote, so the rank line is then read again from the page
  // itself, worded and filtered by the server as on any visit (hidden standings stay hidden).
  var COUNT = /(\d{1,3}(?:,\d{3})+|\d+)(\s+)votes?\b/;
  var STANDING_REFRESH_MS = [4000, 12000];

  function bumpCount(standing) {
    var none = standing.querySelector("[data-no-votes]");
    if (none) {  // "No votes yet — be the first": this vote was the first
      none.textContent = new Intl.NumberFormat(language()).format(1) + " vote";
      none.removeAttribute("data-no-votes");
      none.classList.remove("muted");
      return;
    }
    var walker = document.createTreeWalker(standing, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var match = COUNT.exec(node.nodeValue);
      if (!match) { continue; }
      var count = parseInt(match[1].replace(/,/g, ""), 10) + 1;
      var words = new Intl.NumberFormat(language()).format(count) + match[2] +
        (count === 1 ? "vote" : "votes");
      node.nodeValue = node.nodeValue.slice(0, match.index) + words +
        node.nodeValue.slice(match.index + match[0].length);
      return;
    }
  }

  function shownCount(standing) {
    if (standing.querySelector("[data-no-votes]")) { return 0; }
    var match = COUNT.exec(standing.textContent);
    return match ? parseInt(match[1].replace(/,/g, ""), 10) : null;
  }

  function refreshStanding(standing) {
    fetch(window.location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("nominee-standing");
        if (!fresh) { return; }
        var before = shownCount(standing), after = shownCount(fresh);
        // Standings not yet recomputed would take this voter's vote back: wait for the next read.
        if (before !== null && after !== null && after < before) { return; }
        standing.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});  // the count shown stays; the next visit shows the standings
  }

  function counted() {
    var standing = document.getElementById("nominee-standing");
    if (!standing) { return; }
    bumpCount(standing);
    STANDING_REFRESH_MS.forEach(function (delay) {
      setTimeout(function () { refreshStanding(standing); }, delay);
    });
  }

  // The browser check (an ALTCHA proof of work bound to this form's one-time token) starts as
  // soon as the page is ready, so that by the time the voter clicks it is usually done. Its
  // answer goes into the form's "altcha" field; if it fails or takes too long the vote is sent
  // without it, as the no-JavaScript form is.
  var CHECK_PATIENCE_MS = 20000;

  function startCheck(form) {
    var widget = form.querySelector("altcha-widget");
    var check = { done: !widget, waiting: [] };
    if (!widget) { return check; }
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "altcha";
    form.appendChild(field);
    function finish(payload) {
      if (check.done) { return; }
      if (payload) { field.value = payload; }
      check.done = true;
      check.waiting.splice(0).forEach(function (resolve) { resolve(); });
    }
    widget.addEventListener("statechange", function (event) {
      var state = event.detail && event.detail.state;
      if (state === "verified") { finish(event.detail.payload); }
      else if (state === "error" || state === "expired") { finish(null); }
    });
    function run() {
      try { widget.verify(); } catch (error) { finish(null); }
    }
    var registry = window.$altcha;
    var worker = document.querySelector("script[data-altcha-worker]");
    if (!registry || !worker || typeof Worker === "undefined") { finish(null); return check; }
    var algorithm = worker.getAttribute("data-altcha-algorithm");
    if (!registry.algorithms.has(algorithm)) {
      var url = worker.getAttribute("data-altcha-worker");
      registry.algorithms.set(algorithm, function () { return new Worker(url); });
    }
    if (typeof widget.verify === "function") { run(); } else { widget.addEventListener("load", run); }
    return check;
  }

  function checked(check) {
    if (check.done) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      check.waiting.push(resolve);
      setTimeout(resolve, CHECK_PATIENCE_MS);
    });
  }

  function enhance(box) {
    localize(box);
    tick(box);
    var form = box.querySelector("form[data-vote-form]");
    if (!form) { return; }
    var check = startCheck(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      // The vote is sent once the browser check is done, however soon the click comes: one
      // click counts, and the voter sees it is under way.
      button.textContent = "Voting…";
      checked(check).then(function () {
        return fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { "Accept": "application/json" },
          credentials: "same-origin"
        });
      }).then(function (response) {
        return response.json().then(function (data) { return data; }, function () { return null; })
          .then(function (data) {
            if (!data || !fill(box, data)) { form.submit(); return; }
            enhance(box);
            if (data.counted) { counted(); }
            var focus = box.querySelector(".outcome");
            if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
          });
      }).catch(function () {
        // Offline or interrupted: fall back to the plain form post, which reports its outcome.
        form.submit();
      });
    });
  }

  // The reminder's time zone: the device's own, added to the list when the list lacks it.
  function preselectZone() {
    var select = document.querySelector("select[data-browser-zone]");
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    if (!select || !zone) { return; }
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (!known) {
      var option = document.createElement("option");
      option.value = zone;
      option.textContent = zone.split("/").pop().replace(/_/g, " ") + " (this device)";
      select.insertBefore(option, select.firstChild);
    }
    select.value = zone;
  }

  document.addEventListener("DOMContentLoaded", function () {
    preselectZone();
    var box = document.getElementById("vote-box");
    if (!box) { return; }
    enhance(box);
    setInterval(function () { tick(box); }, 30000);
  });
})();
