// Alerts: the inbox (urgent first, as the API orders them), one patient's alerts, acknowledge and
// resolve with a note, and the clinic's own alert rules on gauges.

import { html } from "htm/preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { api, idempotencyKeys, session } from "./api.js";
import { DEFAULT_SCALES, dateTime, fullName, gaugeLabel, plural } from "./format.js";
import { Empty, ErrorState, Field, FormMessage, Loading, PageTitle, Saved, focusFirstInvalid, useFormErrors, useResource } from "./ui.js";

const BUILT_IN_RULES = {
  self_harm_risk: ["Self-harm risk", "PHQ-9 item 9 answered 1 or more"],
  severe_score: ["Severe score", "PHQ-9 total 20 or more, or GAD-7 total 15 or more"],
  worsening: ["Worsening", "PHQ-9 total 5 or more points, or GAD-7 total 4 or more, above the previous one"],
};
const PRIORITY_LABELS = { urgent: "Urgent", high: "High", normal: "Normal" };
const STATUS_LABELS = { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" };
const OPERATORS = { ">=": "at or above", "<=": "at or below" };

function describeRule(rule, rules) {
  if (BUILT_IN_RULES[rule]) return BUILT_IN_RULES[rule];
  const id = Number(String(rule).replace("alert_rule:", ""));
  const found = (rules || []).find((r) => r.id === id);
  if (!found) return [`Clinic rule ${id}`, "A rule of this clinic on gauges"];
  const sign = { ">=": "≥", "<=": "≤" }[found.operator] || found.operator;
  return [`${gaugeLabel(found.gauge_type)} ${sign} ${found.threshold}`, ruleSentence(found)];
}

function ruleSentence(r) {
  const days = r.consecutive_days === 1 ? "on a day" : `on each of ${r.consecutive_days} consecutive days`;
  return `Daily mean of ${gaugeLabel(r.gauge_type).toLowerCase()} ${OPERATORS[r.operator] || r.operator} ${r.threshold} ${days}`;
}

// Names of the alerts' patients, read once per sign-in (a new token starts afresh).
let patientCache = { token: null, byId: new Map() };
function patientNamed(id) {
  const token = session.token();
  if (patientCache.token !== token) patientCache = { token, byId: new Map() };
  if (!patientCache.byId.has(id)) {
    const promise = api("GET", `/v1/patients/${id}`).then((r) => r.body);
    promise.catch(() => patientCache.byId.delete(id));
    patientCache.byId.set(id, promise);
  }
  return patientCache.byId.get(id);
}

function useRules() {
  return useResource(() => api("GET", "/v1/alert_rules").then((r) => r.body.alert_rules), []);
}

/** The list of alerts at `path`, page after page, with filters; used by the inbox and a patient's tab. */
function useAlerts(path, filters, revision, withPatients) {
  const key = JSON.stringify(filters);
  // The cursors seen belong to one set of filters: other filters start again from the first page.
  const [paging, setPaging] = useState({ key, cursors: [null] });
  const pages = paging.key === key ? paging.cursors : [null];
  const list = useResource(
    async (signal) => {
      const alerts = [];
      let meta = null;
      for (const cursor of pages) {
        const { body } = await api("GET", path, { signal, query: { ...filters, cursor, page_size: 25 } });
        alerts.push(...body.alerts);
        meta = body.meta;
      }
      const patients = {};
      if (withPatients) {
        const ids = [...new Set(alerts.map((a) => a.patient_id))];
        const found = await Promise.allSettled(ids.map(patientNamed));
        ids.forEach((id, i) => {
          if (found[i].status === "fulfilled") patients[id] = found[i].value;
        });
      }
      return { alerts, meta, patients };
    },
    [path, key, JSON.stringify(pages), revision],
  );
  const more = () => setPaging({ key, cursors: [...pages, list.data.meta.next_cursor] });
  return { ...list, more };
}

export function Inbox({ me }) {
  const [status, setStatus] = useState("open");
  const [priority, setPriority] = useState("");
  const rules = useRules();
  // An acknowledged or resolved alert changes in place; the list is read again when the filters change.
  const list = useAlerts("/v1/alerts", { status, priority }, 0, true);

  return html`
    <div class="page">
      <div class="page-head">
        <${PageTitle} title="Alerts" />
        <p class="muted">Urgent first, then oldest first.</p>
      </div>
      <form class="toolbar" aria-label="Alert filters" onSubmit=${(e) => e.preventDefault()}>
        <${Field} label="Status" name="status" render=${(attrs) => html`
          <select ...${attrs} value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
            <option value="open">Open and acknowledged</option><option value="resolved">Resolved</option><option value="all">All</option>
          </select>`} />
        <${Field} label="Priority" name="priority" render=${(attrs) => html`
          <select ...${attrs} value=${priority} onChange=${(e) => setPriority(e.currentTarget.value)}>
            <option value="">All priorities</option><option value="urgent">Urgent</option><option value="high">High</option><option value="normal">Normal</option>
          </select>`} />
      </form>
      <${AlertList} list=${list} rules=${rules.data} me=${me} showPatient=${true}
        emptyText=${status === "resolved" ? "No resolved alerts." : "No open alerts. All clear."} />
    </div>`;
}

export function PatientAlerts({ patient, revision, onChanged }) {
  const [status, setStatus] = useState("open");
  const rules = useRules();
  const list = useAlerts(`/v1/patients/${patient.id}/alerts`, { status }, revision, false);
  return html`
    <section class="card" aria-labelledby="patient-alerts-heading">
      <div class="card-head">
        <h2 id="patient-alerts-heading">Alerts</h2>
        <${Field} label="Status" name="alert_status" render=${(attrs) => html`
          <select ...${attrs} value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
            <option value="open">Open and acknowledged</option><option value="resolved">Resolved</option><option value="all">All</option>
          </select>`} />
      </div>
      <${AlertList} list=${list} rules=${rules.data} patient=${patient} onChanged=${onChanged}
        emptyText=${status === "resolved" ? "No resolved alerts." : "No open alerts for this patient."} />
    </section>`;
}

function AlertList({ list, rules, me, patient, showPatient, onChanged, emptyText }) {
  if (list.error) return html`<${ErrorState} error=${list.error} onRetry=${list.reload} unavailable="Alerts are not available on this server yet." />`;
  if (!list.data) return html`<${Loading} label="Loading alerts…" />`;
  if (list.data.alerts.length === 0) return html`<${Empty}>${emptyText}</${Empty}>`;
  return html`
    <ul class=${`alerts${list.loading ? " is-loading" : ""}`} aria-busy=${list.loading ? "true" : "false"}>
      ${list.data.alerts.map(
        (alert) => html`<li key=${alert.id}>
          <${AlertCard} alert=${alert} rules=${rules} me=${me} showPatient=${showPatient}
            patient=${patient || list.data.patients[alert.patient_id]} onChanged=${onChanged} />
        </li>`,
      )}
    </ul>
    ${list.data.meta && list.data.meta.has_more
      ? html`<div class="pager"><button type="button" class="button" disabled=${list.loading} onClick=${list.more}>Show more alerts</button></div>`
      : null}`;
}

function AlertCard({ alert: initial, rules, me, patient, showPatient, onChanged }) {
  const [alert, setAlert] = useState(initial);
  const [resolving, setResolving] = useState(false);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const errors = useFormErrors();
  const form = useRef(null);
  const zone = (patient && patient.time_zone) || "UTC";
  const [title, description] = describeRule(alert.rule, rules);
  const who = (id) => (id == null ? "" : me && me.id === id ? "you" : `user ${id}`);
  const headingId = `alert-${alert.id}-title`;

  async function act(action, body) {
    setBusy(true);
    errors.clear();
    try {
      const result = await api("POST", `/v1/alerts/${alert.id}/${action}`, body ? { body } : {});
      setAlert(result.body);
      setResolving(false);
      setDone(action === "resolve" ? "Alert resolved." : "Alert acknowledged.");
      if (onChanged) onChanged(result.body);
    } catch (error) {
      if (error.status === 409) {
        // Resolved by someone else meanwhile: say so here, and offer nothing more to do on it.
        setDone(null);
        setResolving(false);
        setAlert((a) => ({ ...a, status: "resolved" }));
        errors.fromError(error);
      } else {
        errors.fromError(error, ["resolution_note"]);
        focusFirstInvalid(form.current);
      }
    } finally {
      setBusy(false);
    }
  }

  return html`
    <article class=${`alert alert-${alert.priority} alert-status-${alert.status}`} aria-labelledby=${headingId} data-alert-id=${alert.id}>
      <div class="alert-head">
        <span class=${`badge badge-${alert.priority === "urgent" ? "urgent" : alert.priority === "high" ? "high" : "neutral"}`}>${PRIORITY_LABELS[alert.priority] || alert.priority}</span>
        <h3 id=${headingId}>${title}</h3>
        <span class=${`badge badge-status-${alert.status}`}>${STATUS_LABELS[alert.status] || alert.status}</span>
      </div>
      ${showPatient
        ? html`<p class="alert-patient">${patient
            ? html`<a href=${`#/patients/${alert.patient_id}/alerts`}>${fullName(patient)}</a>`
            : html`<a href=${`#/patients/${alert.patient_id}/alerts`}>Patient ${alert.patient_id}</a>`}</p>`
        : null}
      <p class="alert-description">${description}.</p>
      <dl class="alert-facts">
        <div><dt>Opened</dt><dd>${dateTime(alert.opened_at, zone)}</dd></div>
        ${alert.occurrences > 1 ? html`<div><dt>Triggered</dt><dd>${plural(alert.occurrences, "time")}, last ${dateTime(alert.last_triggered_at, zone)}</dd></div>` : null}
        ${alert.trigger ? html`<div><dt>From</dt><dd>${alert.trigger.type === "assessment" ? "questionnaire" : "gauge"} ${alert.trigger.id}</dd></div>` : null}
        ${alert.acknowledged_at ? html`<div><dt>Acknowledged</dt><dd>${dateTime(alert.acknowledged_at, zone)} by ${who(alert.acknowledged_by)}</dd></div>` : null}
        ${alert.resolved_at ? html`<div><dt>Resolved</dt><dd>${dateTime(alert.resolved_at, zone)} by ${who(alert.resolved_by)}</dd></div>` : null}
      </dl>
      ${alert.resolution_note ? html`<p class="alert-note"><span class="muted">Note:</span> ${alert.resolution_note}</p>` : null}
      <${Saved}>${done}</${Saved}>
      ${!resolving ? html`<${FormMessage} errors=${errors} onRetry=${null} />` : null}
      ${alert.status !== "resolved" && !resolving
        ? html`<div class="alert-actions">
            ${alert.status === "open"
              ? html`<button type="button" class="button" disabled=${busy} onClick=${() => act("acknowledge")} aria-describedby=${headingId}>Acknowledge</button>`
              : null}
            <button type="button" class="button" disabled=${busy} onClick=${() => setResolving(true)} aria-describedby=${headingId}>Resolve…</button>
          </div>`
        : null}
      ${resolving
        ? html`<form ref=${form} class="form resolve" onSubmit=${(e) => { e.preventDefault(); act("resolve", { resolution_note: note }); }} novalidate>
            <${FormMessage} errors=${errors} />
            <${Field} label="Resolution note" name="resolution_note" type="textarea" rows="3" errors=${errors.fields} value=${note}
              onInput=${(e) => setNote(e.currentTarget.value)} hint="What was done, for the record. Required." autofocus />
            <div class="form-actions">
              <button type="submit" class="button button-primary" disabled=${busy}>Resolve alert</button>
              <button type="button" class="button button-quiet" onClick=${() => { setResolving(false); errors.clear(); }}>Cancel</button>
            </div>
          </form>`
        : null}
    </article>`;
}

export function AlertRules({ me }) {
  const rules = useRules();
  const [status, setStatus] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [failure, setFailure] = useState(null);
  const manages = me.role === "admin" || me.role === "staff";

  async function remove(rule) {
    setFailure(null);
    try {
      await api("DELETE", `/v1/alert_rules/${rule.id}`);
      setStatus("Rule deleted. Alerts it opened stay open.");
      setConfirming(null);
      rules.reload();
    } catch (error) {
      setFailure(error);
    }
  }

  return html`
    <div class="page">
      <div class="page-head"><${PageTitle} title="Alert rules" /></div>
      <div class="grid-aside">
        <section class="card" aria-labelledby="rules-heading">
          <div class="card-head"><h2 id="rules-heading">Rules of this clinic</h2></div>
          <p class="muted">Always on as well: ${Object.values(BUILT_IN_RULES).map(([name]) => name.toLowerCase()).join(", ")} (questionnaires).</p>
          <${Saved}>${status}</${Saved}>
          ${failure ? html`<${ErrorState} error=${failure} />` : null}
          ${rules.error
            ? html`<${ErrorState} error=${rules.error} onRetry=${rules.reload} unavailable="Alert rules are not available on this server yet." />`
            : !rules.data
              ? html`<${Loading} label="Loading rules…" />`
              : rules.data.length === 0
                ? html`<${Empty}>No clinic rules yet.</${Empty}>`
                : html`<ul class="rules">
                    ${rules.data.map(
                      (r) => html`<li key=${r.id}>
                        <span class=${`badge badge-${r.priority === "urgent" ? "urgent" : r.priority === "high" ? "high" : "neutral"}`}>${PRIORITY_LABELS[r.priority]}</span>
                        <span class="rule-text">${ruleSentence(r)}</span>
                        ${manages
                          ? confirming === r.id
                            ? html`<span class="confirm"><button type="button" class="button button-danger" onClick=${() => remove(r)}>Delete</button>
                                <button type="button" class="button button-quiet" onClick=${() => setConfirming(null)}>Keep</button></span>`
                            : html`<button type="button" class="button button-quiet" onClick=${() => setConfirming(r.id)} aria-label=${`Delete rule: ${ruleSentence(r)}`}>Delete…</button>`
                          : null}
                      </li>`,
                    )}
                  </ul>`}
        </section>
        ${manages && !(rules.error && rules.error.routeAbsent) ? html`<${NewRule} onCreated=${() => { setStatus("Rule created."); rules.reload(); }} />` : null}
      </div>
    </div>`;
}

function NewRule({ onCreated }) {
  const blank = { gauge_type: "anxiety", operator: ">=", threshold: "", consecutive_days: "3", priority: "high" };
  const [values, setValues] = useState(blank);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors();
  const form = useRef(null);
  const keys = useMemo(idempotencyKeys, []);
  const set = (key) => (e) => {
    const value = e.currentTarget.value;
    setValues((v) => ({ ...v, [key]: value }));
  };
  const num = (text) => (/^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : text.trim() || null);

  async function submit(event) {
    event.preventDefault();
    const body = { alert_rule: { ...values, threshold: num(values.threshold), consecutive_days: num(values.consecutive_days) } };
    setBusy(true);
    errors.clear();
    try {
      await api("POST", "/v1/alert_rules", { body, headers: { "Idempotency-Key": keys.forBody(body) } });
      keys.done();
      setValues(blank);
      onCreated();
    } catch (error) {
      errors.fromError(error, ["gauge_type", "operator", "threshold", "consecutive_days", "priority"]);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  const select = (key, label, options) =>
    html`<${Field} label=${label} name=${key} errors=${errors.fields} render=${(attrs) => html`
      <select ...${attrs} value=${values[key]} onChange=${set(key)}>${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`} />`;

  return html`
    <section class="card" aria-labelledby="new-rule-heading">
      <div class="card-head"><h2 id="new-rule-heading">New rule</h2></div>
      <form ref=${form} class="form" onSubmit=${submit} novalidate>
        <${FormMessage} errors=${errors} />
        ${select("gauge_type", "Gauge type", Object.keys(DEFAULT_SCALES).map((t) => [t, gaugeLabel(t)]))}
        <div class="form-row">
          ${select("operator", "When the daily mean is", Object.entries(OPERATORS))}
          <${Field} label="Threshold" name="threshold" inputmode="decimal" errors=${errors.fields} value=${values.threshold} onInput=${set("threshold")} />
        </div>
        <div class="form-row">
          <${Field} label="Consecutive days" name="consecutive_days" inputmode="numeric" errors=${errors.fields} value=${values.consecutive_days}
            onInput=${set("consecutive_days")} hint="1 to 14." />
          ${select("priority", "Priority", Object.entries(PRIORITY_LABELS))}
        </div>
        <div class="form-actions"><button type="submit" class="button button-primary" disabled=${busy}>Create rule</button></div>
      </form>
    </section>`;
}
