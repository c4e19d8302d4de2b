// A patient's details: the form to create or edit them (PUT with If-Match, so a stale edit is refused
// with 412 and never overwrites someone else's change), the care team, and invitations to the app.

import { html } from "htm/preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { api, idempotencyKeys } from "./api.js";
import { GENDERS, dateTime, day, genderLabel } from "./format.js";
import { Empty, ErrorState, Field, FormMessage, Loading, Saved, focusFirstInvalid, useFormErrors, useResource } from "./ui.js";

const ADDRESS_PARTS = [
  ["street", "Street"],
  ["city", "City"],
  ["state", "State or region"],
  ["zip_code", "Postal code"],
];
// Which fields each kind of form edits: a patient may change only their contact details and time zone.
const FIELD_SETS = {
  create: ["first_name", "last_name", "date_of_birth", "gender", "phone", "email", "address", "time_zone"],
  edit: ["first_name", "last_name", "date_of_birth", "gender", "phone", "email", "address", "time_zone", "active"],
  self: ["phone", "email", "address", "time_zone"],
};
const REQUIRED = ["first_name", "last_name", "date_of_birth"];

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current || "UTC", ...zones])].sort();
}

function formValues(patient) {
  const p = patient || {};
  const address = p.address || {};
  return {
    first_name: p.first_name || "",
    last_name: p.last_name || "",
    date_of_birth: p.date_of_birth || "",
    gender: p.gender || "",
    phone: p.phone || "",
    email: p.email || "",
    time_zone: p.time_zone || "UTC",
    active: p.active !== false,
    ...Object.fromEntries(ADDRESS_PARTS.map(([part]) => [`address.${part}`, address[part] || ""])),
  };
}

/** The body of the request: every field for a create; for an edit only what changed (PUT changes only the keys sent). */
function changes(kind, values, original) {
  const before = formValues(original);
  const out = {};
  for (const key of FIELD_SETS[kind]) {
    if (key === "address") {
      const parts = ADDRESS_PARTS.map(([part]) => part);
      const changed = kind === "create" || parts.some((part) => values[`address.${part}`] !== before[`address.${part}`]);
      const empty = parts.every((part) => !values[`address.${part}`].trim());
      if (changed && !(kind === "create" && empty)) {
        // The address is replaced as a whole; all parts empty clears it.
        out.address = empty ? null : Object.fromEntries(parts.map((part) => [part, values[`address.${part}`].trim() || null]));
      }
      continue;
    }
    const value = typeof values[key] === "string" ? values[key].trim() : values[key];
    if (kind !== "create" && value === before[key]) continue;
    if (kind === "create" && value === "" && !REQUIRED.includes(key)) continue;
    // A blank optional field clears it (null); a blank required one is sent so the API says "can't be blank".
    out[key] = value === "" && !REQUIRED.includes(key) ? null : value;
  }
  return out;
}

export function PatientForm({ kind = "edit", patient, etag, onSaved, onReload, submitLabel = "Save changes" }) {
  const [values, setValues] = useState(() => formValues(patient));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);
  const [saved, setSaved] = useState(null);
  const errors = useFormErrors();
  const form = useRef(null);
  const keys = useMemo(idempotencyKeys, []);
  const zones = useMemo(() => timeZones(values.time_zone), []);
  const shown = FIELD_SETS[kind];
  const set = (key) => (event) => {
    const target = event.currentTarget;
    setValues((v) => ({ ...v, [key]: target.type === "checkbox" ? target.checked : target.value }));
    setSaved(null);
  };

  async function submit(event) {
    if (event) event.preventDefault();
    const body = changes(kind, values, patient);
    if (kind !== "create" && Object.keys(body).length === 0) {
      setSaved("There are no changes to save.");
      return;
    }
    setBusy(true);
    setStale(false);
    errors.clear();
    try {
      const result =
        kind === "create"
          ? await api("POST", "/v1/patients", { body: { patient: body }, headers: { "Idempotency-Key": keys.forBody(body) } })
          : await api("PUT", `/v1/patients/${patient.id}`, { body: { patient: body }, headers: { "If-Match": etag } });
      keys.done();
      setSaved(kind === "create" ? null : "Changes saved.");
      setValues(formValues(result.body));
      onSaved(result.body, result.etag);
    } catch (error) {
      if (error.status === 412) setStale(true);
      else errors.fromError(error, fieldNames(shown));
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  const field = (key, label, extra = {}) =>
    html`<${Field} label=${label} name=${key} errors=${errors.fields} value=${values[key]} onInput=${set(key)} ...${extra} />`;

  return html`
    <form ref=${form} class="form" onSubmit=${submit} novalidate>
      ${stale
        ? html`<div class="notice notice-warning" role="alert" tabindex="-1">
            <p class="notice-title">Not saved: someone else changed this patient</p>
            <p>These details were changed by another user after you opened them, so your changes were not applied.
              Reload to see the current details, then make your change again.</p>
            <button type="button" class="button" onClick=${() => { setStale(false); onReload(); }}>Reload current details</button>
          </div>`
        : null}
      <${FormMessage} errors=${errors} onRetry=${submit} />
      <${Saved}>${saved}</${Saved}>
      ${shown.includes("first_name")
        ? html`<div class="form-row">
            ${field("first_name", "First name", { autocomplete: "off" })}
            ${field("last_name", "Last name", { autocomplete: "off" })}
          </div>
          <div class="form-row">
            ${field("date_of_birth", "Date of birth", { type: "date" })}
            <${Field} label="Gender" name="gender" errors=${errors.fields} render=${(attrs) => html`
              <select ...${attrs} value=${values.gender} onChange=${set("gender")}>
                <option value="">Not recorded</option>
                ${GENDERS.map(([key, label]) => html`<option value=${key}>${label}</option>`)}
              </select>`} />
          </div>`
        : null}
      <div class="form-row">
        ${field("phone", "Phone", { type: "tel", autocomplete: "off" })}
        ${field("email", "Email", { type: "email", autocomplete: "off" })}
      </div>
      <fieldset class="fieldset">
        <legend>Address</legend>
        <div class="form-row form-row-4">
          ${ADDRESS_PARTS.map(([part, label]) => field(`address.${part}`, label, { autocomplete: "off" }))}
        </div>
      </fieldset>
      <div class="form-row">
        <${Field} label="Time zone" name="time_zone" errors=${errors.fields}
          hint="Decides which calendar day each gauge belongs to." render=${(attrs) => html`
          <select ...${attrs} value=${values.time_zone} onChange=${set("time_zone")}>
            ${zones.map((zone) => html`<option value=${zone}>${zone}</option>`)}
          </select>`} />
        ${shown.includes("active")
          ? html`<div class="field field-check">
              <input id="patient-active" type="checkbox" checked=${values.active} onChange=${set("active")} aria-describedby="patient-active-hint" />
              <label for="patient-active">Active patient</label>
              <p class="hint" id="patient-active-hint">Inactive patients leave the default list; their records stay.</p>
            </div>`
          : null}
      </div>
      <div class="form-actions">
        <button class="button button-primary" type="submit" disabled=${busy}>${busy ? "Saving…" : submitLabel}</button>
      </div>
    </form>`;
}

function fieldNames(shown) {
  return [...shown.filter((k) => k !== "address"), ...ADDRESS_PARTS.map(([part]) => `address.${part}`)];
}

/** Read-only details, with an Edit button for those who may edit. */
export function PatientDetails({ patient, etag, kind, onSaved, onReload }) {
  const [editing, setEditing] = useState(false);
  if (editing) {
    return html`
      <section class="card" aria-labelledby="details-heading">
        <div class="card-head"><h2 id="details-heading">Edit details</h2>
          <button type="button" class="button button-quiet" onClick=${() => setEditing(false)}>Cancel</button></div>
        <${PatientForm} kind=${kind} patient=${patient} etag=${etag} onReload=${onReload}
          onSaved=${(p, e) => { onSaved(p, e); setEditing(false); }} />
      </section>`;
  }
  const address = patient.address;
  const rows = [
    ["Name", `${patient.first_name} ${patient.last_name}`],
    ["Date of birth", `${day(patient.date_of_birth, { dateStyle: "long" })} (age ${patient.age})`],
    ["Gender", genderLabel(patient.gender)],
    ["Phone", patient.phone],
    ["Email", patient.email],
    ["Address", address && [address.street, address.city, [address.state, address.zip_code].filter(Boolean).join(" ")].filter(Boolean).join(", ")],
    ["Time zone", patient.time_zone],
    ["Status", patient.active ? "Active" : "Inactive"],
    ["Record created", dateTime(patient.created_at, patient.time_zone)],
    ["Last changed", dateTime(patient.updated_at, patient.time_zone)],
  ];
  return html`
    <section class="card" aria-labelledby="details-heading">
      <div class="card-head"><h2 id="details-heading">Details</h2>
        <button type="button" class="button" onClick=${() => setEditing(true)}>Edit details</button></div>
      <dl class="details">
        ${rows.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value || html`<span class="muted">Not recorded</span>`}</dd></div>`)}
      </dl>
    </section>`;
}

const MEMBER_ROLES = { provider: "Provider", supervisor: "Supervisor", admin: "Administrator" };

export function CareTeam({ patientId, me, onChanged }) {
  const team = useResource((signal) => api("GET", `/v1/patients/${patientId}/care_team`, { signal }).then((r) => r.body.care_team), [patientId]);
  const [userId, setUserId] = useState("");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(null);
  const errors = useFormErrors();
  const manages = ["admin", "supervisor", "staff"].includes(me.role);

  async function change(method, path, body, done) {
    setBusy(true);
    errors.clear();
    setSaved(null);
    try {
      const result = await api(method, path, body === undefined ? {} : { body });
      if (result.body && result.body.care_team) team.setData(result.body.care_team);
      else team.reload();
      setSaved(done);
      onChanged();
      return true;
    } catch (error) {
      errors.fromError(error, ["user_id"]);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function add(event, id = userId) {
    if (event) event.preventDefault();
    const value = typeof id === "number" ? id : /^\d+$/.test(id.trim()) ? Number(id.trim()) : id.trim();
    if (await change("POST", `/v1/patients/${patientId}/care_team`, { user_id: value }, "Care team member added.")) setUserId("");
  }

  const members = team.data || [];
  const isMember = me.id != null && members.some((m) => m.user_id === me.id);
  return html`
    <section class="card" aria-labelledby="team-heading">
      <div class="card-head"><h2 id="team-heading">Care team</h2></div>
      <${Saved}>${saved}</${Saved}>
      ${errors.message && !errors.fields.user_id ? html`<${FormMessage} errors=${errors} />` : null}
      ${team.error
        ? html`<${ErrorState} error=${team.error} onRetry=${team.reload} />`
        : team.loading && !team.data
          ? html`<${Loading} label="Loading the care team…" />`
          : members.length === 0
            ? html`<${Empty}>No one is on this patient's care team yet.</${Empty}>`
            : html`<ul class="team">
                ${members.map(
                  (m) => html`<li>
                    <span class="team-name">${m.name}</span>
                    <span class="badge badge-neutral">${MEMBER_ROLES[m.role] || m.role}</span>
                    <span class="muted">user ${m.user_id}</span>
                    ${manages
                      ? html`<button type="button" class="button button-quiet" disabled=${busy} aria-label=${`Remove ${m.name} from the care team`}
                          onClick=${() => change("DELETE", `/v1/patients/${patientId}/care_team/${m.user_id}`, undefined, `${m.name} removed from the care team.`)}>Remove</button>`
                      : null}
                  </li>`,
                )}
              </ul>`}
      ${manages
        ? html`<form class="inline-form" onSubmit=${add} novalidate>
            <${Field} label="User id" name="user_id" inputmode="numeric" errors=${errors.fields}
              hint="A provider or supervisor of this clinic." value=${userId} onInput=${(e) => setUserId(e.currentTarget.value)} />
            <button type="submit" class="button" disabled=${busy}>Add to care team</button>
            ${me.role === "supervisor" && !isMember && me.id != null
              ? html`<button type="button" class="button button-quiet" disabled=${busy} onClick=${() => add(null, me.id)}>Add myself</button>`
              : null}
          </form>`
        : null}
    </section>`;
}

export function Invitation({ patient }) {
  const [hours, setHours] = useState("72");
  const [invitation, setInvitation] = useState(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const errors = useFormErrors();
  const keys = useMemo(idempotencyKeys, []);

  async function create(event) {
    event.preventDefault();
    const body = { invitation: { expires_in_hours: Number(hours) } };
    setBusy(true);
    errors.clear();
    try {
      const result = await api("POST", `/v1/patients/${patient.id}/invitations`, { body, headers: { "Idempotency-Key": keys.forBody(body) } });
      keys.done();
      setInvitation(result.body.invitation);
    } catch (error) {
      if (error.routeAbsent) errors.fromError({ message: "Invitations to the patient app are not available on this server yet." });
      else errors.fromError(error, ["invitation.expires_in_hours"]);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    await navigator.clipboard.writeText(invitation.code);
    setCopied(true);
  }

  return html`
    <section class="card" aria-labelledby="invite-heading">
      <div class="card-head"><h2 id="invite-heading">Patient app</h2></div>
      <p class="muted">An invitation code lets ${patient.first_name} sign in to record their own check-ins and questionnaires. It works once.</p>
      <${FormMessage} errors=${errors} />
      ${invitation
        ? html`<div class="invitation" role="status">
            <label for="invitation-code">Invitation code (shown only now)</label>
            <div class="copy-row">
              <input id="invitation-code" readonly value=${invitation.code} />
              <button type="button" class="button" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
            </div>
            <p class="hint">Valid until ${dateTime(invitation.expires_at, patient.time_zone)}.</p>
          </div>`
        : html`<form class="inline-form" onSubmit=${create} novalidate>
            <${Field} label="Valid for" name="invitation.expires_in_hours" errors=${errors.fields} render=${(attrs) => html`
              <select ...${attrs} value=${hours} onChange=${(e) => setHours(e.currentTarget.value)}>
                <option value="24">1 day</option><option value="72">3 days</option><option value="168">7 days</option>
              </select>`} />
            <button type="submit" class="button" disabled=${busy || !patient.active}>Create invitation code</button>
            ${patient.active ? null : html`<p class="hint">Inactive patients cannot be invited.</p>`}
          </form>`}
    </section>`;
}
