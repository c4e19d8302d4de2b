// The patient list: search as you type (a name prefix or an exact email), a status filter, and paging by
// the API's cursors (a stack of them, so "Previous" returns to exactly the page seen before).

import { html } from "htm/preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { PatientForm } from "./details.js";
import { day, genderLabel } from "./format.js";
import { Empty, ErrorState, Field, Loading, PageTitle, navigate, useResource } from "./ui.js";

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 250;

export function PatientList() {
  const [typed, setTyped] = useState("");
  const [query, setQuery] = useState({ search: "", status: "active", cursors: [null] });
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    const timer = setTimeout(() => setQuery((q) => ({ ...q, search: typed.trim(), cursors: [null] })), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [typed]);

  const cursor = query.cursors[query.cursors.length - 1];
  const list = useResource(
    (signal) =>
      api("GET", "/v1/patients", {
        query: { search: query.search, status: query.status, cursor, page_size: PAGE_SIZE },
        signal,
      }).then((r) => r.body),
    [query.search, query.status, cursor],
  );
  useLayoutEffect(() => {
    if (list.data && performance.getEntriesByName("app-interactive").length === 0) performance.mark("app-interactive");
  }, [list.data]);

  const searchErrors = (list.error && list.error.fields) || {};
  const patients = list.data ? list.data.patients : [];
  const meta = list.data ? list.data.meta : null;
  const pageNumber = query.cursors.length;

  return html`
    <div class="page">
      <div class="page-head">
        <${PageTitle} title="Patients" />
        <a class="button button-primary" href="#/patients/new">New patient</a>
      </div>
      <form class="toolbar" role="search" aria-label="Patients" onSubmit=${(e) => e.preventDefault()}>
        <${Field}
          label="Search"
          name="search"
          type="search"
          hint="First or last name (the beginning is enough), or an exact email."
          autocomplete="off"
          spellcheck="false"
          value=${typed}
          errors=${searchErrors}
          onInput=${(e) => setTyped(e.currentTarget.value)}
        />
        <${Field}
          label="Status"
          name="status"
          render=${(attrs) => html`
            <select ...${attrs} value=${query.status} onChange=${(e) => setQuery((q) => ({ ...q, status: e.currentTarget.value, cursors: [null] }))}>
              <option value="active">Active</option>
              <option value="inactive">Inactive</option>
              <option value="all">All</option>
            </select>`}
        />
      </form>
      <p class="visually-hidden" role="status" aria-live="polite">
        ${list.loading ? "" : list.data ? `${patients.length} patients shown, page ${pageNumber}` : ""}
      </p>
      ${list.error && !list.error.fields
        ? html`<${ErrorState} error=${list.error} onRetry=${list.reload} />`
        : list.loading && !list.data
          ? html`<${Loading} label="Loading patients…" />`
          : patients.length === 0
            ? html`<${Empty}>${query.search ? `No patient matches “${query.search}”.` : "No patients to show."}</${Empty}>`
            : html`
                <div class=${`table-wrap${list.loading ? " is-loading" : ""}`} aria-busy=${list.loading ? "true" : "false"}>
                  <table class="table patients">
                    <caption class="visually-hidden">Patients, ordered by last name</caption>
                    <thead>
                      <tr><th scope="col">Name</th><th scope="col">Date of birth</th><th scope="col">Gender</th><th scope="col">Time zone</th><th scope="col">Status</th></tr>
                    </thead>
                    <tbody>
                      ${patients.map(
                        (p) => html`<tr>
                          <th scope="row"><a href=${`#/patients/${p.id}`}>${p.last_name}, ${p.first_name}</a></th>
                          <td>${day(p.date_of_birth)} <span class="muted">(${p.age})</span></td>
                          <td>${genderLabel(p.gender)}</td>
                          <td>${p.time_zone}</td>
                          <td>${p.active ? html`<span class="badge badge-ok">Active</span>` : html`<span class="badge badge-neutral">Inactive</span>`}</td>
                        </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`}
      ${meta && (pageNumber > 1 || meta.has_more)
        ? html`<nav class="pager" aria-label="Pages of patients">
            <button type="button" class="button" disabled=${pageNumber === 1 || list.loading}
              onClick=${() => setQuery((q) => ({ ...q, cursors: q.cursors.slice(0, -1) }))}>Previous page</button>
            <span>Page ${pageNumber}</span>
            <button type="button" class="button" disabled=${!meta.has_more || list.loading}
              onClick=${() => setQuery((q) => ({ ...q, cursors: [...q.cursors, meta.next_cursor] }))}>Next page</button>
          </nav>`
        : null}
    </div>`;
}

export function NewPatient() {
  return html`
    <div class="page page-narrow">
      <p class="crumbs"><a href="#/patients">Patients</a></p>
      <${PageTitle} title="New patient" />
      <div class="card">
        <${PatientForm}
          kind="create"
          onSaved=${(patient) => navigate(`/patients/${patient.id}`)}
          submitLabel="Create patient"
        />
      </div>
    </div>`;
}
