// Building blocks every screen shares: loading, empty and error states, form fields that show the API's
// 422 messages next to them, and the hooks that load data and track the hash route.

import { html } from "htm/preact";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

let nextId = 0;
export function useId(prefix = "f") {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

/**
 * Loads data when deps change; keeps the last data while reloading (no flicker when paging). A layout
 * effect: the request starts as soon as the screen is rendered, not a frame later.
 */
export function useResource(load, deps) {
  const [state, setState] = useState({ loading: true, data: undefined, error: null });
  const [version, setVersion] = useState(0);
  useLayoutEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    load(controller.signal).then(
      (data) => controller.signal.aborted || setState({ loading: false, data, error: null }),
      (error) => {
        if (controller.signal.aborted || error.name === "AbortError") return;
        setState({ loading: false, data: undefined, error });
      },
    );
    return () => controller.abort();
  }, [...deps, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  // A screen that just received the new data (the answer to its own PUT) shows it without a reload.
  const setData = useCallback((data) => setState({ loading: false, data, error: null }), []);
  return { ...state, reload, setData };
}

/** The hash route as path segments: "#/patients/12/gauges" is ["patients", "12", "gauges"]. */
export function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean);
}

export function navigate(path) {
  location.hash = `#${path}`;
}

// A freshly loaded page starts at the top, where the skip link is the first stop; later pages take focus.
let pageLoaded = false;

/** Sets the document title and, on moving to another page, focuses its heading so a screen reader hears it. */
export function PageTitle({ title, children }) {
  const ref = useRef(null);
  useEffect(() => {
    document.title = `${title} · Patients`;
    if (pageLoaded && ref.current && document.activeElement === document.body) ref.current.focus({ preventScroll: true });
    pageLoaded = true;
  }, [title]);
  return html`<h1 tabindex="-1" ref=${ref}>${children || title}</h1>`;
}

export function Loading({ label = "Loading…" }) {
  return html`<p class="state state-loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</p>`;
}

export function Empty({ children }) {
  return html`<p class="state state-empty">${children}</p>`;
}

const ERROR_TITLES = {
  0: "Connection problem",
  403: "Not allowed",
  404: "Not found",
  429: "Busy",
  503: "Temporarily unavailable",
};

/** An error a screen cannot handle itself (403/404, 5xx, offline); a retry button when one may help. */
export function ErrorState({ error, onRetry, unavailable }) {
  if (error && error.routeAbsent) return html`<${Unavailable} message=${unavailable} />`;
  const status = error && error.status;
  const title = ERROR_TITLES[status] || (status >= 500 ? "Something went wrong" : "Could not load");
  return html`
    <div class="notice notice-error" role="alert">
      <p class="notice-title">${title}</p>
      <p>${error ? error.message : "Unknown error."}</p>
      ${onRetry && (!error || error.retryable)
        ? html`<button type="button" class="button" onClick=${onRetry}>Retry</button>`
        : null}
    </div>`;
}

/** A feature whose API route this server does not have (an older deployment): say so plainly. */
export function Unavailable({ message = "This feature is not available on this server yet." }) {
  return html`<p class="state state-empty">${message}</p>`;
}

/**
 * Field errors of a 422. `known` are the keys the form shows beside a field; any other (a wrapper key, a
 * whole address, "patient": ["is inactive"]) joins the message at the top, so no message is ever dropped.
 */
export function useFormErrors() {
  const [state, setState] = useState({ fields: {}, message: null });
  const fromError = useCallback((error, known = []) => {
    const fields = (error && error.fields) || {};
    const other = Object.entries(fields)
      .filter(([key]) => !known.includes(key))
      .map(([key, messages]) => `${key.replace(/[._]/g, " ")} ${messages.join(", ")}`);
    const message = error
      ? error.fields
        ? ["Please correct the fields marked below.", ...other].join(" ")
        : error.message
      : null;
    setState({ fields, message, status: error ? error.status : null, retryable: error ? error.retryable : false });
  }, []);
  const clear = useCallback(() => setState({ fields: {}, message: null }), []);
  return { ...state, fromError, clear };
}

export function FormMessage({ errors, onRetry }) {
  if (!errors.message) return null;
  return html`
    <div class="notice notice-error" role="alert" tabindex="-1">
      <p>${errors.message}</p>
      ${errors.retryable && onRetry ? html`<button type="button" class="button" onClick=${onRetry}>Retry</button>` : null}
    </div>`;
}

export function Saved({ children }) {
  return children ? html`<p class="notice notice-ok" role="status">${children}</p>` : html`<p role="status" class="visually-hidden"></p>`;
}

/**
 * A labelled control with its hint and the API's messages for it, wired with aria-describedby. `render`
 * draws a control other than an input (a select), given the attributes that tie it to the label.
 */
export function Field({ label, name, errors = {}, hint, type = "text", render, ...rest }) {
  const id = useId(name);
  const messages = errors[name] || [];
  const describedBy = [hint ? `${id}-hint` : null, messages.length ? `${id}-error` : null].filter(Boolean).join(" ");
  const attrs = { id, name, "aria-invalid": messages.length ? "true" : undefined, "aria-describedby": describedBy || undefined };
  let control;
  if (render) control = render(attrs);
  else if (type === "textarea") control = html`<textarea ...${attrs} ...${rest}></textarea>`;
  else control = html`<input type=${type} ...${attrs} ...${rest} />`;
  return html`
    <div class=${`field${messages.length ? " field-invalid" : ""}`}>
      <label for=${id}>${label}</label>
      ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
      ${control}
      ${messages.length
        ? html`<p class="field-error" id=${`${id}-error`}>${messages.map((m) => `${label} ${m}`).join("; ")}</p>`
        : null}
    </div>`;
}

/** Moves focus to the first invalid field after a 422, so keyboard users land where the problem is. */
export function focusFirstInvalid(form) {
  requestAnimationFrame(() => {
    const target = form && (form.querySelector("[aria-invalid=true]") || form.querySelector(".notice-error"));
    if (target) target.focus();
  });
}

export function Badge({ tone = "neutral", children, label }) {
  return html`<span class=${`badge badge-${tone}`} aria-label=${label}>${children}</span>`;
}
