// One patient: a header with who they are, their latest values and open alerts, and tabs for trends,
// gauges, questionnaires, alerts and details. A patient user sees their own trends and details here too.

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { PatientAlerts } from "./alerts.js";
import { api } from "./api.js";
import { Assessments } from "./assessments.js";
import { CareTeam, Invitation, PatientDetails } from "./details.js";
import { dateTime, day, fullName, gaugeLabel, genderLabel, number } from "./format.js";
import { Gauges } from "./gauges.js";
import { Trends } from "./trends.js";
import { ErrorState, Loading, PageTitle, useResource } from "./ui.js";

const TABS = [
  ["overview", "Trends"],
  ["gauges", "Gauges"],
  ["assessments", "Questionnaires"],
  ["alerts", "Alerts"],
  ["details", "Details and care team"],
];

function usePatient(id) {
  return useResource(
    (signal) => api("GET", `/v1/patients/${id}`, { signal }).then((r) => ({ patient: r.body, etag: r.etag })),
    [id],
  );
}

export function PatientPage({ id, tab, me }) {
  const record = usePatient(id);
  // Bumped by anything that changes the patient's gauges, so the latest values and lists reload.
  const [revision, setRevision] = useState(0);
  const changed = () => setRevision((r) => r + 1);
  // Alert actions change only the header's count: the alerts tab updates its cards in place.
  const [alertsRevision, setAlertsRevision] = useState(0);

  if (record.error) {
    return html`<div class="page">
      <p class="crumbs"><a href="#/patients">Patients</a></p>
      <${PageTitle} title=${record.error.status === 404 ? "Patient not found" : record.error.status === 403 ? "No access to this patient" : "Patient"} />
      <${ErrorState} error=${record.error} onRetry=${record.reload} />
    </div>`;
  }
  if (!record.data) return html`<div class="page"><${Loading} label="Loading the patient…" /></div>`;
  const { patient, etag } = record.data;
  const current = TABS.find(([key]) => key === tab) ? tab : "overview";
  const title = TABS.find(([key]) => key === current)[1];

  return html`
    <div class="page">
      <p class="crumbs"><a href="#/patients">Patients</a></p>
      <${PatientHeader} patient=${patient} revision=${revision} alertsRevision=${alertsRevision} title=${title} />
      <nav class="tabs" aria-label="Patient sections">
        <ul>
          ${TABS.map(
            ([key, label]) => html`<li><a href=${`#/patients/${patient.id}${key === "overview" ? "" : `/${key}`}`} aria-current=${key === current ? "page" : undefined}>${label}</a></li>`,
          )}
        </ul>
      </nav>
      ${current === "overview" ? html`<${Trends} patient=${patient} revision=${revision} />` : null}
      ${current === "gauges" ? html`<${Gauges} patient=${patient} revision=${revision} onChanged=${changed} />` : null}
      ${current === "assessments" ? html`<${Assessments} patient=${patient} revision=${revision} onChanged=${changed} me=${me} />` : null}
      ${current === "alerts" ? html`<${PatientAlerts} patient=${patient} revision=${revision} onChanged=${() => setAlertsRevision((r) => r + 1)} />` : null}
      ${current === "details"
        ? html`<div class="grid-2">
            <${PatientDetails} patient=${patient} etag=${etag} kind="edit" onReload=${record.reload}
              onSaved=${(p, e) => record.setData({ patient: p, etag: e })} />
            <div class="stack">
              <${CareTeam} patientId=${patient.id} me=${me} onChanged=${record.reload} />
              <${Invitation} patient=${patient} />
            </div>
          </div>`
        : null}
    </div>`;
}

function PatientHeader({ patient, revision, alertsRevision, title }) {
  return html`
    <header class="patient-head">
      <div>
        <${PageTitle} title=${`${fullName(patient)}: ${title}`}>${fullName(patient)}</${PageTitle}>
        <p class="patient-facts">
          <span>Age ${patient.age}</span>
          <span>Born ${day(patient.date_of_birth)}</span>
          <span>${genderLabel(patient.gender)}</span>
          <span>Times in ${patient.time_zone}</span>
          ${patient.active ? null : html`<span class="badge badge-neutral">Inactive</span>`}
        </p>
      </div>
      <${OpenAlertsBadge} patient=${patient} revision=${revision} alertsRevision=${alertsRevision} />
    </header>
    <${LatestValues} patient=${patient} revision=${revision} />`;
}

function OpenAlertsBadge({ patient, revision, alertsRevision }) {
  const alerts = useResource(
    (signal) => api("GET", `/v1/patients/${patient.id}/alerts`, { signal, query: { page_size: 100 } }).then((r) => r.body.alerts),
    [patient.id, revision, alertsRevision],
  );
  if (!alerts.data || alerts.data.length === 0) return null;
  const urgent = alerts.data.filter((a) => a.priority === "urgent").length;
  return html`<a class=${`alert-pill${urgent ? " alert-pill-urgent" : ""}`} href=${`#/patients/${patient.id}/alerts`}>
    ${urgent ? `${urgent} urgent · ` : ""}${alerts.data.length} open alert${alerts.data.length === 1 ? "" : "s"}
  </a>`;
}

const ARROWS = { up: "▲", down: "▼", same: "●" };

export function LatestValues({ patient, revision }) {
  const latest = useResource(
    (signal) => api("GET", `/v1/patients/${patient.id}/gauges/latest`, { signal }).then((r) => r.body.latest),
    [patient.id, revision],
  );
  if (latest.error) {
    // An API without the route: the header simply has no latest values.
    return latest.error.routeAbsent ? null : html`<${ErrorState} error=${latest.error} onRetry=${latest.reload} />`;
  }
  if (!latest.data || latest.data.length === 0) return null;
  return html`
    <section class="latest" aria-label="Latest values">
      <ul>
        ${latest.data.map((g) => {
          const direction = g.change == null ? null : g.change > 0 ? "up" : g.change < 0 ? "down" : "same";
          const changeText =
            direction === null
              ? "first value"
              : direction === "same"
                ? `unchanged since ${dateTime(g.previous_recorded_at, patient.time_zone)}`
                : `${direction} ${number(Math.abs(g.change))} from ${number(g.previous_value)}`;
          return html`<li class="latest-item" data-gauge-type=${g.gauge_type}>
            <span class="latest-type">${gaugeLabel(g.gauge_type)}</span>
            <span class="latest-value">${number(g.value)}<span class="latest-scale"> / ${g.scale_max}</span></span>
            <span class=${`latest-change${direction ? ` change-${direction}` : ""}`}>
              ${direction ? html`<span aria-hidden="true">${ARROWS[direction]} </span>` : null}${changeText}
            </span>
            <span class="latest-when">${dateTime(g.recorded_at, patient.time_zone)}</span>
          </li>`;
        })}
      </ul>
    </section>`;
}

/** A patient user's own trends: the same charts their clinicians see. */
export function OwnTrends({ me }) {
  const record = usePatient(me.patient_id);
  if (record.error) return html`<div class="page"><${PageTitle} title="My trends" /><${ErrorState} error=${record.error} onRetry=${record.reload} /></div>`;
  if (!record.data) return html`<div class="page"><${Loading} /></div>`;
  const { patient } = record.data;
  return html`<div class="page">
    <${PageTitle} title="My trends" />
    <${LatestValues} patient=${patient} revision=${0} />
    <${Trends} patient=${patient} revision=${0} />
  </div>`;
}

/** A patient user's own details; they may change their contact details and time zone only. */
export function OwnDetails({ me }) {
  const record = usePatient(me.patient_id);
  if (record.error) return html`<div class="page"><${PageTitle} title="My details" /><${ErrorState} error=${record.error} onRetry=${record.reload} /></div>`;
  if (!record.data) return html`<div class="page"><${Loading} /></div>`;
  const { patient, etag } = record.data;
  return html`<div class="page page-narrow">
    <${PageTitle} title="My details" />
    <${PatientDetails} patient=${patient} etag=${etag} kind="self" onReload=${record.reload}
      onSaved=${(p, e) => record.setData({ patient: p, etag: e })} />
  </div>`;
}
