// The app's only client of the /v1 API: the session token, JSON in and out, and every error turned into
// an ApiError that a screen can show (its message, the fields of a 422, whether a retry may help).

const TOKEN_KEY = "patients.token";
const USER_KEY = "patients.user"; // who the token belongs to (GET /v1/me), so a reload need not ask again
const unauthorizedListeners = new Set();

// The token lives in sessionStorage only: it goes when the tab closes, never into a URL or localStorage.
// Beside it, the signed-in user's id, name and role (no patient data).
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  user() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY));
    } catch {
      return null;
    }
  },
  signIn(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (user) sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
  onUnauthorized(listener) {
    unauthorizedListeners.add(listener);
    return () => unauthorizedListeners.delete(listener);
  },
};

const DEFAULT_MESSAGES = {
  0: "The server could not be reached. Check your connection, then retry.",
  401: "Your session has ended. Please sign in again.",
  403: "You are not authorized to perform this action.",
  404: "Not found.",
  409: "This was changed at the same time by someone else. Reload and try again.",
  412: "This record has been changed since you opened it.",
  413: "That is too much data to send at once.",
  422: "Some fields need your attention.",
  429: "Too many requests just now. Wait a moment, then retry.",
  503: "The service is temporarily unavailable. Please retry.",
};

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    const errors = body && body.errors;
    super(typeof errors === "string" ? errors : DEFAULT_MESSAGES[status] || `Unexpected response from the server (${status}).`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /** The 422 field map ({"value": ["must be between 1 and 10"]}), or null. */
  get fields() {
    const errors = this.body && this.body.errors;
    return errors && typeof errors === "object" && !Array.isArray(errors) ? errors : null;
  }

  /** The API has no such route (yet): the gateway's own 404, not a resource's "X not found". */
  get routeAbsent() {
    return this.status === 404 && this.body && this.body.errors === "Not found";
  }

  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * One request to the API. Resolves to {body, etag, status}; rejects with ApiError (or an AbortError).
 * A 401 also ends the session and tells the app, which shows the sign-in screen.
 */
export async function api(method, path, { query, body, headers = {}, signal, token } = {}) {
  const sent = { Accept: "application/json", ...headers };
  const userToken = token === undefined ? session.token() : token;
  if (userToken) sent["X-User-Token"] = userToken;
  const init = { method, headers: sent, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path + queryString(query), init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && userToken && token === undefined) {
      session.signOut();
      for (const listener of unauthorizedListeners) listener();
    }
    throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  }
  return { body: data, etag: response.headers.get("ETag"), status: response.status };
}

/**
 * An Idempotency-Key per submission: a retry of the same body (after a 503 or a lost connection) reuses
 * the key, so the API stores it once; a changed body gets a new key.
 */
export function idempotencyKeys() {
  let last = null;
  return {
    forBody(body) {
      const text = JSON.stringify(body);
      if (!last || last.text !== text) last = { text, key: crypto.randomUUID() };
      return last.key;
    },
    done() {
      last = null;
    },
  };
}

/**
 * The signed-in user. Without /v1/me (an API older than the patient role), a token that may list
 * patients is staff of unknown role; the API still decides what each request may do. `verify` checks
 * that with one request (a token just pasted); a tab reloaded with its token skips it, as the page's
 * own first request answers 401 for a token that stopped working.
 */
export async function whoAmI(token, { verify = true } = {}) {
  try {
    return (await api("GET", "/v1/me", { token })).body.user;
  } catch (error) {
    if (!(error instanceof ApiError) || !error.routeAbsent) throw error;
  }
  if (!verify) return STAFF_OF_UNKNOWN_ROLE;
  try {
    await api("GET", "/v1/patients", { token, query: { page_size: 1 } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      throw new ApiError(403, {
        errors: "This token may not open the patient list, and this server cannot tell which patient it belongs to.",
      });
    }
    throw error;
  }
  return STAFF_OF_UNKNOWN_ROLE;
}

const STAFF_OF_UNKNOWN_ROLE = Object.freeze({ id: null, name: null, role: "staff", clinic_id: null, patient_id: null });
