// Copy buttons: a <button data-copy-target="ID"> copies the text of the readonly field with that
// id and says "Copied" in the status line of its .copy-field, which screen readers announce.
// Without JavaScript the buttons stay hidden and the text can be selected and copied by hand.
(function () {
  "use strict";

  var SHOWN_MS = 4000;

  function say(button, message) {
    var field = button.closest(".copy-field");
    var status = field && field.querySelector("[data-copy-status]");
    if (!status) { return; }
    // Emptied first, so that a second "Copied" is announced again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
    window.clearTimeout(status.laurelTimer);
    status.laurelTimer = window.setTimeout(function () { status.textContent = ""; }, SHOWN_MS);
  }

  // Pages outside a secure context and older browsers have no async clipboard, and a browser
  // may refuse it: select the text and try the legacy command. Even if that fails too, the
  // text stays selected, ready for the device's own Copy.
  function copyBySelecting(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    function fallback() {
      say(button, copyBySelecting(field) ? "Copied" : "Selected: use your device's Copy to copy it");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say(button, "Copied");
      }, fallback);
    } else {
      fallback();
    }
  }

  function ready() {
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
    document.querySelectorAll(".copy-field input, .copy-field textarea").forEach(function (field) {
      field.addEventListener("focus", function () { field.select(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
