// The shell: who is signed in (GET /v1/me), what their role may open, the header and the hash routes.

import { html } from "htm/preact";
import { useCallback, useEffect, useLayoutEffect, useState } from "preact/hooks";
import { AlertRules, Inbox } from "./alerts.js";
import { session, whoAmI } from "./api.js";
import { CheckIn } from "./checkin.js";
import { NewPatient, PatientList } from "./patients.js";
import { OwnDetails, OwnTrends, PatientPage } from "./patient.js";
import { SignIn } from "./signin.js";
import { ErrorState, Loading, PageTitle, navigate, useRoute } from "./ui.js";

export const STAFF_ROLES = ["admin", "supervisor", "provider", "staff"];
const ROLE_LABELS = { admin: "Administrator", supervisor: "Supervisor", provider: "Provider", staff: "Staff", patient: "Patient" };

export function App() {
  const [token, setToken] = useState(session.token());
  const [me, setMe] = useState(() => (session.token() ? session.user() : null));
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  const route = useRoute();

  useEffect(
    () =>
      session.onUnauthorized(() => {
        setMe(null);
        setToken(null);
        setNotice("Your session has ended. Please sign in again.");
      }),
    [],
  );

  const resolveMe = useCallback(() => {
    if (!token || me) return;
    setFailure(null);
    whoAmI(token, { verify: false }).then((user) => {
      session.signIn(token, user);
      setMe(user);
    }, (error) => {
      if (error.status === 401 || error.status === 403) {
        session.signOut();
        setToken(null);
        setNotice(error.status === 401 ? "Your session has ended. Please sign in again." : error.message);
      } else setFailure(error);
    });
  }, [token, me]);
  // Layout effects start requests right after the first render instead of after the next paint.
  useLayoutEffect(resolveMe, [resolveMe]);

  const signedIn = useCallback((newToken, user) => {
    session.signIn(newToken, user);
    setNotice(null);
    setMe(user);
    setToken(newToken);
  }, []);

  const signOut = useCallback(() => {
    session.signOut();
    setMe(null);
    setToken(null);
    setNotice("You have signed out.");
    navigate("/");
  }, []);

  if (!token) return html`<${SignIn} notice=${notice} onSignedIn=${signedIn} />`;
  if (!me) {
    return html`<main id="main" class="page page-narrow">
      ${failure ? html`<${ErrorState} error=${failure} onRetry=${resolveMe} />` : html`<${Loading} label="Signing in…" />`}
    </main>`;
  }
  return html`<${Shell} me=${me} route=${route} onSignOut=${signOut}>${page(me, route)}</${Shell}>`;
}

function page(me, route) {
  const [first, second, third] = route;
  if (me.role === "patient") {
    if (!first || first === "checkin") return html`<${CheckIn} me=${me} />`;
    if (first === "trends") return html`<${OwnTrends} me=${me} />`;
    if (first === "me") return html`<${OwnDetails} me=${me} />`;
    return html`<${NotFound} />`;
  }
  if (!first || first === "patients") {
    if (!second) return html`<${PatientList} />`;
    if (second === "new") return html`<${NewPatient} />`;
    return html`<${PatientPage} key=${second} id=${second} tab=${third || "overview"} me=${me} />`;
  }
  if (first === "alerts") return html`<${Inbox} me=${me} />`;
  if (first === "alert-rules") return html`<${AlertRules} me=${me} />`;
  return html`<${NotFound} />`;
}

function NotFound() {
  return html`<div class="page"><${PageTitle} title="Page not found" /><p>There is no page at this address. <a href="#/">Go to the start page</a>.</p></div>`;
}

function Shell({ me, route, onSignOut, children }) {
  const links =
    me.role === "patient"
      ? [
          ["#/checkin", "Check-in", !route[0] || route[0] === "checkin"],
          ["#/trends", "My trends", route[0] === "trends"],
          ["#/me", "My details", route[0] === "me"],
        ]
      : [
          ["#/patients", "Patients", !route[0] || route[0] === "patients"],
          ["#/alerts", "Alerts", route[0] === "alerts"],
          ["#/alert-rules", "Alert rules", route[0] === "alert-rules"],
        ];
  return html`
    <a class="skip-link" href="#main" onClick=${skipToMain}>Skip to main content</a>
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="#/">
          <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true"><rect width="32" height="32" rx="7" fill="currentColor" /><path d="M5 17h6l3-7 4 13 3-6h6" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" /></svg>
          <span>Patients</span>
        </a>
        <nav aria-label="Main">
          <ul>
            ${links.map(([href, label, current]) => html`<li><a href=${href} aria-current=${current ? "page" : undefined}>${label}</a></li>`)}
          </ul>
        </nav>
        <div class="user">
          ${me.name ? html`<span class="user-name">${me.name}</span>` : null}
          <span class="user-role">${ROLE_LABELS[me.role] || me.role}</span>
          <button type="button" class="button button-quiet" onClick=${onSignOut}>Sign out</button>
        </div>
      </div>
    </header>
    <main id="main" tabindex="-1">${children}</main>`;
}

function skipToMain(event) {
  // The hash router owns location.hash, so the skip link moves focus itself.
  event.preventDefault();
  document.getElementById("main").focus();
}
