// Passkey ceremonies: ask the console to begin, let the browser's authenticator answer,
// post the credential back. Options and credentials use the WebAuthn Level 3 JSON forms.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.message || "Refused (" + response.status + ")"); }
        return answer;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("signin");
    var status = document.getElementById("signin-status");
    if (!form) { return; }
    var flow = form.getAttribute("data-flow");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      status.textContent = "Waiting for your passkey…";
      var begin = {};
      if (flow === "enrol") {
        begin.invitation_code = form.elements.invitation_code.value;
        begin.display_name = form.elements.display_name.value;
      }
      post("/" + flow + "/begin", begin)
        .then(function (answer) {
          if (flow === "enrol") {
            return navigator.credentials.create({
              publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(answer.options)
            });
          }
          return navigator.credentials.get({
            publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(answer.options)
          });
        })
        .then(function (credential) {
          return post("/" + flow + "/complete", { credential: credential.toJSON() });
        })
        .then(function (answer) {
          status.textContent = "Signed in.";
          window.location.assign(answer.next);
        })
        .catch(function (error) {
          status.textContent = "Not signed in: " + error.message;
          status.setAttribute("data-failed", "true");
        });
    });
  });
})();
