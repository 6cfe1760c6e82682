// Copy buttons: a <button data-copy-target="ID"> copies the text of the element with that id
// (a readonly textarea or input) and says so. Without JavaScript the button stays hidden and
// the text can be selected and copied by hand.
(function () {
  "use strict";

  function status(button, text) {
    var region = button.parentNode.querySelector("[data-copy-status]");
    if (region) { region.textContent = text; }
  }

  function copyByHand(field) {
    field.focus();
    field.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    var text = "value" in field ? field.value : field.textContent;
    var done = function () { status(button, "Copied."); };
    var failed = function () {
      if (copyByHand(field)) { done(); } else { status(button, "Selected: press Ctrl+C or ⌘C to copy."); }
    };
    if (field.select) { field.select(); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, failed);
    } else {
      failed();
    }
  }

  function ready() {
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
