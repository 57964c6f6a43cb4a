// Passkeys (WebAuthn) for the account page and the second sign-in step. A form marked
// data-passkey="register" or "sign-in" asks the server for options (data-options-url), hands
// them to the browser's authenticator, and posts what it signed to the form's action as JSON.
// Served as a file (no inline script) so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";

  async function post(url, form, body) {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      throw new Error(data.detail || "Something went wrong. Try again.");
    }
    return data;
  }

  function supported() {
    return Boolean(
      window.PublicKeyCredential &&
        PublicKeyCredential.parseCreationOptionsFromJSON &&
        PublicKeyCredential.parseRequestOptionsFromJSON
    );
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    const status = form.querySelector("[data-passkey-status]");
    if (!supported()) {
      status.textContent = "This browser cannot use passkeys.";
      form.querySelector("button[type=submit]").disabled = true;
      return;
    }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      status.textContent = "Waiting for your passkey…";
      try {
        const options = await post(form.dataset.optionsUrl, form);
        let credential;
        if (form.dataset.passkey === "register") {
          credential = await navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
          });
        } else {
          credential = await navigator.credentials.get({
            publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
          });
        }
        const name = form.querySelector("input[name=name]");
        const result = await post(form.action, form, {
          credential: credential.toJSON(),
          name: name ? name.value : "",
        });
        window.location.assign(result.redirect);
      } catch (error) {
        status.textContent =
          error && error.name === "NotAllowedError"
            ? "The passkey request was cancelled or timed out. Try again."
            : error.message;
      }
    });
  });
})();
