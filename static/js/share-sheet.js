// The share sheet's enhancements: the system share sheet (Web Share API) where the browser has
// one, and a Copy button. Without JavaScript the plain links and the selectable link remain.
(function () {
  "use strict";

  var COPIED_MS = 4000;

  function say(sheet, message) {
    var status = sheet.querySelector("[data-share-status]");
    if (!status) { return; }
    // Cleared first so that saying "Copied" twice is announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
    window.clearTimeout(status.laurelTimer);
    status.laurelTimer = window.setTimeout(function () { status.textContent = ""; }, COPIED_MS);
  }

  // Older browsers and pages outside a secure context have no async clipboard: select the link
  // and try the legacy copy command; if that fails too, the selected link is ready to copy.
  function copyBySelecting(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  function enhanceCopy(sheet) {
    var field = sheet.querySelector("[data-share-link]");
    var button = sheet.querySelector("[data-share-copy]");
    if (!field) { return; }
    field.addEventListener("focus", function () { field.select(); });
    field.addEventListener("click", function () { field.select(); });
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      function fallback() {
        say(sheet, copyBySelecting(field) ? "Copied" : "Press and hold the link to copy it");
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          say(sheet, "Copied");
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  function enhanceNative(sheet) {
    var button = sheet.querySelector("[data-share-native]");
    if (!button || typeof navigator.share !== "function") { return; }
    var data = {
      title: sheet.getAttribute("data-share-title"),
      text: sheet.getAttribute("data-share-text"),
      url: sheet.getAttribute("data-share-url")
    };
    if (typeof navigator.canShare === "function" && !navigator.canShare(data)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      // A voter who closes the system sheet rejects the promise: nothing to report.
      navigator.share(data).catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share-sheet]").forEach(function (sheet) {
      enhanceNative(sheet);
      enhanceCopy(sheet);
    });
  });
})();
