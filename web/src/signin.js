// Sign-in: staff paste the token an administrator issued; a patient redeems the invitation code their
// care team gave them (POST /v1/invitations/redeem), which returns their token.

import { html } from "htm/preact";
import { useLayoutEffect, useState } from "preact/hooks";
import { ApiError, api, whoAmI } from "./api.js";
import { Field, PageTitle } from "./ui.js";

export function SignIn({ notice, onSignedIn }) {
  useLayoutEffect(() => {
    if (performance.getEntriesByName("app-interactive").length === 0) performance.mark("app-interactive");
  }, []);
  return html`
    <main id="main" class="signin" tabindex="-1">
      <div class="signin-brand" aria-hidden="true">
        <svg viewBox="0 0 32 32" width="40" height="40"><rect width="32" height="32" rx="7" fill="currentColor" /><path d="M5 17h6l3-7 4 13 3-6h6" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" /></svg>
      </div>
      <${PageTitle} title="Sign in" />
      <p class="lede">Patients, their care teams and what they report.</p>
      ${notice ? html`<p class="notice notice-info" role="status">${notice}</p>` : null}
      <div class="signin-cards">
        <${TokenForm} onSignedIn=${onSignedIn} />
        <${InvitationForm} onSignedIn=${onSignedIn} />
      </div>
      <p class="fineprint">Your sign-in lasts until you sign out or close this tab. Nothing is kept on this device after that.</p>
    </main>`;
}

function TokenForm({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError({ token: ["can't be blank"] });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(value, await whoAmI(value));
    } catch (failure) {
      setBusy(false);
      if (failure instanceof ApiError && failure.status === 401) {
        setError({ token: ["was not accepted. Check it, or ask your administrator for a new one."] });
      } else setError({ message: failure.message });
    }
  }

  return html`
    <form class="card" onSubmit=${submit} novalidate aria-labelledby="signin-staff">
      <h2 id="signin-staff">Staff</h2>
      ${error && error.message ? html`<p class="notice notice-error" role="alert">${error.message}</p>` : null}
      <${Field}
        label="Access token"
        name="token"
        type="password"
        autocomplete="off"
        spellcheck="false"
        hint="Paste the token your administrator issued to you."
        errors=${error || {}}
        value=${token}
        onInput=${(e) => setToken(e.currentTarget.value)}
      />
      <button class="button button-primary" type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>`;
}

function InvitationForm({ onSignedIn }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    const value = code.trim();
    if (!value) {
      setError({ code: ["can't be blank"] });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { body } = await api("POST", "/v1/invitations/redeem", { token: null, body: { code: value } });
      onSignedIn(body.token, { name: null, clinic_id: null, ...body.user });
    } catch (failure) {
      setBusy(false);
      if (failure.routeAbsent) setError({ message: "This server does not accept invitation codes yet." });
      else if (failure.status === 404) {
        setError({ code: ["is not valid: it may have expired or been used already. Ask your care team for a new one."] });
      } else setError(failure.fields || { message: failure.message });
    }
  }

  return html`
    <form class="card" onSubmit=${submit} novalidate aria-labelledby="signin-patient">
      <h2 id="signin-patient">Patients</h2>
      ${error && error.message ? html`<p class="notice notice-error" role="alert">${error.message}</p>` : null}
      <${Field}
        label="Invitation code"
        name="code"
        autocomplete="one-time-code"
        spellcheck="false"
        hint="The code from your care team. It works once."
        errors=${error || {}}
        value=${code}
        onInput=${(e) => setCode(e.currentTarget.value)}
      />
      <button class="button" type="submit" disabled=${busy}>${busy ? "Checking…" : "Use invitation"}</button>
    </form>`;
}
