// Gauges of one patient: the form to record one (the API's 422 messages beside its fields) and the raw
// list, newest first, with paging by cursor and a confirmed delete for a gauge recorded by mistake.

import { html } from "htm/preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { api, idempotencyKeys } from "./api.js";
import { DEFAULT_SCALES, dateTime, gaugeLabel, number, zonedToUtc } from "./format.js";
import { Empty, ErrorState, Field, FormMessage, Loading, Saved, focusFirstInvalid, useFormErrors, useResource } from "./ui.js";

const PAGE_SIZE = 25;
const OTHER = "__other";

export function Gauges({ patient, revision, onChanged }) {
  return html`
    <div class="grid-aside">
      <${GaugeList} patient=${patient} revision=${revision} onChanged=${onChanged} />
      <${RecordGauge} patient=${patient} onRecorded=${onChanged} />
    </div>`;
}

export function RecordGauge({ patient, onRecorded }) {
  const blank = { type: "mood", other: "", value: "", scale_min: "", scale_max: "", when: "", notes: "" };
  const [values, setValues] = useState(blank);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(null);
  const errors = useFormErrors();
  const form = useRef(null);
  const keys = useMemo(idempotencyKeys, []);
  const custom = values.type === OTHER;
  const scale = DEFAULT_SCALES[values.type];
  const set = (key) => (event) => {
    const value = event.currentTarget.value;
    setValues((v) => ({ ...v, [key]: value }));
    setSaved(null);
  };

  function body() {
    const gauge = { gauge_type: custom ? values.other.trim() : values.type, value: numeric(values.value) };
    if (custom || values.scale_min !== "") gauge.scale_min = numeric(values.scale_min);
    if (custom || values.scale_max !== "") gauge.scale_max = numeric(values.scale_max);
    if (values.when) gauge.recorded_at = zonedToUtc(values.when, patient.time_zone);
    if (values.notes.trim()) gauge.notes = values.notes.trim();
    return { gauge };
  }

  async function submit(event) {
    if (event) event.preventDefault();
    const sent = body();
    setBusy(true);
    errors.clear();
    setSaved(null);
    try {
      const { body: gauge } = await api("POST", `/v1/patients/${patient.id}/gauges`, {
        body: sent,
        headers: { "Idempotency-Key": keys.forBody(sent) },
      });
      keys.done();
      setValues({ ...blank, type: values.type, other: values.other, scale_min: values.scale_min, scale_max: values.scale_max });
      setSaved(`Recorded ${gaugeLabel(gauge.gauge_type).toLowerCase()} ${number(gauge.value)} at ${dateTime(gauge.recorded_at, patient.time_zone)}.`);
      onRecorded(gauge);
    } catch (error) {
      errors.fromError(error, ["gauge_type", "value", "scale_min", "scale_max", "recorded_at", "notes"]);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <section class="card" aria-labelledby="record-heading">
      <div class="card-head"><h2 id="record-heading">Record a gauge</h2></div>
      <form ref=${form} class="form" onSubmit=${submit} novalidate>
        <${FormMessage} errors=${errors} onRetry=${submit} />
        <${Saved}>${saved}</${Saved}>
        <${Field} label="Type" name=${custom ? "type" : "gauge_type"} errors=${errors.fields} render=${(attrs) => html`
          <select ...${attrs} value=${values.type} onChange=${set("type")}>
            ${Object.keys(DEFAULT_SCALES).map((t) => html`<option value=${t}>${gaugeLabel(t)} (${DEFAULT_SCALES[t][0]}–${DEFAULT_SCALES[t][1]})</option>`)}
            <option value=${OTHER}>Other type…</option>
          </select>`} />
        ${custom
          ? html`
              <${Field} label="Type name" name="gauge_type" errors=${errors.fields} value=${values.other} onInput=${set("other")}
                hint="Lower case letters, digits and underscores, e.g. focus_level." autocomplete="off" spellcheck="false" />
              <div class="form-row">
                <${Field} label="Scale from" name="scale_min" inputmode="decimal" errors=${errors.fields} value=${values.scale_min} onInput=${set("scale_min")} />
                <${Field} label="Scale to" name="scale_max" inputmode="decimal" errors=${errors.fields} value=${values.scale_max} onInput=${set("scale_max")} />
              </div>`
          : null}
        <${Field} label="Value" name="value" inputmode="decimal" errors=${errors.fields} value=${values.value} onInput=${set("value")}
          hint=${scale ? `From ${scale[0]} to ${scale[1]}.` : "Within the scale above."} autocomplete="off" />
        <${Field} label="When" name="recorded_at" type="datetime-local" errors=${errors.fields} value=${values.when} onInput=${set("when")}
          hint=${`The patient's time (${patient.time_zone}). Leave empty for now.`} />
        <${Field} label="Notes" name="notes" type="textarea" rows="3" errors=${errors.fields} value=${values.notes} onInput=${set("notes")}
          hint="Optional, up to 2000 characters." />
        <div class="form-actions">
          <button class="button button-primary" type="submit" disabled=${busy}>${busy ? "Recording…" : "Record gauge"}</button>
        </div>
      </form>
    </section>`;
}

/** A number when the text is one, else the text itself, so the API names the problem ("must be a number"). */
function numeric(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") return null;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function GaugeList({ patient, revision, onChanged }) {
  const [type, setType] = useState("");
  const [pages, setPages] = useState([null]);
  const [confirming, setConfirming] = useState(null);
  const [status, setStatus] = useState(null);
  const [failure, setFailure] = useState(null);

  const list = useResource(
    async (signal) => {
      const out = { gauges: [], meta: null };
      // Every page shown so far, so a reload after a delete keeps the list as long as it was.
      for (const cursor of pages) {
        const { body } = await api("GET", `/v1/patients/${patient.id}/gauges`, {
          signal,
          query: { gauge_type: type, page_size: PAGE_SIZE, cursor, order: "desc" },
        });
        out.gauges.push(...body.gauges);
        out.meta = body.meta;
      }
      return out;
    },
    [patient.id, type, pages, revision],
  );

  async function remove(gauge) {
    setFailure(null);
    try {
      await api("DELETE", `/v1/patients/${patient.id}/gauges/${gauge.id}`);
      setStatus(`Deleted ${gaugeLabel(gauge.gauge_type).toLowerCase()} ${number(gauge.value)} recorded ${dateTime(gauge.recorded_at, patient.time_zone)}.`);
      setConfirming(null);
      onChanged();
    } catch (error) {
      if (error.status === 404) {
        setStatus("That gauge had already been deleted.");
        setConfirming(null);
        onChanged();
      } else setFailure(error);
    }
  }

  const gauges = list.data ? list.data.gauges : [];
  const types = Object.keys(DEFAULT_SCALES);
  return html`
    <section class="card" aria-labelledby="gauges-heading">
      <div class="card-head">
        <h2 id="gauges-heading">Recorded gauges</h2>
        <${Field} label="Type" name="gauge_type_filter" render=${(attrs) => html`
          <select ...${attrs} value=${type} onChange=${(e) => { setType(e.currentTarget.value); setPages([null]); }}>
            <option value="">All types</option>
            ${types.map((t) => html`<option value=${t}>${gaugeLabel(t)}</option>`)}
          </select>`} />
      </div>
      <${Saved}>${status}</${Saved}>
      ${failure ? html`<${ErrorState} error=${failure} />` : null}
      ${list.error
        ? html`<${ErrorState} error=${list.error} onRetry=${list.reload} />`
        : list.loading && !list.data
          ? html`<${Loading} label="Loading gauges…" />`
          : gauges.length === 0
            ? html`<${Empty}>No gauges recorded${type ? ` of type ${gaugeLabel(type).toLowerCase()}` : ""}.</${Empty}>`
            : html`<div class="table-wrap">
                <table class="table gauges">
                  <caption class="visually-hidden">Gauges, newest first, times in ${patient.time_zone}</caption>
                  <thead><tr><th scope="col">Recorded</th><th scope="col">Type</th><th scope="col" class="num">Value</th><th scope="col">Notes</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                  <tbody>
                    ${gauges.map((g) => {
                      const what = `${gaugeLabel(g.gauge_type)} ${number(g.value)}, ${dateTime(g.recorded_at, patient.time_zone)}`;
                      return html`<tr key=${g.id} data-gauge-id=${g.id}>
                        <td class="when">${dateTime(g.recorded_at, patient.time_zone)}</td>
                        <td>${gaugeLabel(g.gauge_type)}${g.source === "patient" ? html` <span class="badge badge-neutral">by patient</span>` : null}</td>
                        <td class="num"><strong>${number(g.value)}</strong> <span class="muted">/ ${g.scale_min}–${g.scale_max}</span></td>
                        <td class="notes">${g.notes || ""}</td>
                        <td class="actions">
                          ${confirming === g.id
                            ? html`<span class="confirm">
                                <button type="button" class="button button-danger" onClick=${() => remove(g)} aria-label=${`Confirm delete of ${what}`}>Delete</button>
                                <button type="button" class="button button-quiet" onClick=${() => setConfirming(null)}>Keep</button>
                              </span>`
                            : html`<button type="button" class="button button-quiet" onClick=${() => setConfirming(g.id)} aria-label=${`Delete ${what}`}>Delete…</button>`}
                        </td>
                      </tr>`;
                    })}
                  </tbody>
                </table>
              </div>`}
      ${list.data && list.data.meta && list.data.meta.has_more
        ? html`<div class="pager"><button type="button" class="button" disabled=${list.loading}
            onClick=${() => setPages((p) => [...p, list.data.meta.next_cursor])}>Show older gauges</button></div>`
        : null}
    </section>`;
}
