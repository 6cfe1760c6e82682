// Two-factor sign-in (awards/two_factor.py): once a passkey is made, the page asks for it.
(function () {
  "use strict";
  document.addEventListener("otp_webauthn.register_complete", function () {
    window.location.reload();
  });
})();
