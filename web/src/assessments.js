// Questionnaires (PHQ-9, GAD-7, ...): the form with each instrument's own wording from /v1/instruments,
// scored by the server, and a patient's answered questionnaires with their totals and severity.

import { html } from "htm/preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { api, idempotencyKeys } from "./api.js";
import { dateTime } from "./format.js";
import { instruments } from "./trends.js";
import { Empty, ErrorState, Field, FormMessage, Loading, Saved, focusFirstInvalid, useFormErrors, useResource } from "./ui.js";

export function severityLabel(severity) {
  return (severity || "").replace(/_/g, " ");
}

const SEVERITY_TONES = { minimal: "ok", mild: "neutral", moderate: "warn", moderately_severe: "high", severe: "urgent" };

export function Assessments({ patient, revision, onChanged, me }) {
  return html`
    <div class="grid-2">
      <${AssessmentList} patient=${patient} revision=${revision} onChanged=${onChanged} />
      <section class="card" aria-labelledby="questionnaire-heading">
        <div class="card-head"><h2 id="questionnaire-heading">Record a questionnaire</h2></div>
        <${Questionnaire} patient=${patient} onRecorded=${onChanged} audience=${me.role === "patient" ? "patient" : "staff"} />
      </section>
    </div>`;
}

/**
 * One questionnaire, chosen among the instruments: items as radio groups with the instrument's options.
 * `audience` "patient" speaks to the patient and adds the safety message after an answer about self-harm.
 */
export function Questionnaire({ patient, onRecorded, audience = "staff", only }) {
  const all = useResource(() => instruments(), []);
  const [code, setCode] = useState(only || "");
  const list = all.data || [];
  if (all.error) return html`<${ErrorState} error=${all.error} onRetry=${all.reload} unavailable="Questionnaires are not available on this server yet." />`;
  if (!all.data) return html`<${Loading} label="Loading questionnaires…" />`;
  const chosen = list.find((i) => i.code === (code || list[0].code));
  return html`
    ${only
      ? null
      : html`<${Field} label="Questionnaire" name="instrument" render=${(attrs) => html`
          <select ...${attrs} value=${chosen.code} onChange=${(e) => setCode(e.currentTarget.value)}>
            ${list.map((i) => html`<option value=${i.code}>${i.name}</option>`)}
          </select>`} />`}
    <${InstrumentForm} key=${chosen.code} instrument=${chosen} patient=${patient} onRecorded=${onRecorded} audience=${audience} />`;
}

function InstrumentForm({ instrument, patient, onRecorded, audience }) {
  const [answers, setAnswers] = useState(() => instrument.items.map(() => null));
  const [notes, setNotes] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const errors = useFormErrors();
  const form = useRef(null);
  const keys = useMemo(idempotencyKeys, []);

  async function submit(event) {
    if (event) event.preventDefault();
    const assessment = { instrument: instrument.code, answers };
    if (notes.trim()) assessment.notes = notes.trim();
    const body = { assessment };
    setBusy(true);
    errors.clear();
    try {
      const { body: saved } = await api("POST", `/v1/patients/${patient.id}/assessments`, {
        body,
        headers: { "Idempotency-Key": keys.forBody(body) },
      });
      keys.done();
      setResult(saved);
      setAnswers(instrument.items.map(() => null));
      setNotes("");
      onRecorded(saved);
    } catch (error) {
      const known = ["instrument", "answers", "notes", ...instrument.items.map((_, i) => `answers[${i}]`)];
      errors.fromError(error, known);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  // PHQ-9's ninth item asks about thoughts of self-harm: any answer above 0 needs a clinician today.
  const selfHarm = result && result.instrument === "phq9" && result.answers[8] > 0;
  return html`
    <form ref=${form} class="form questionnaire" onSubmit=${submit} novalidate aria-label=${instrument.name}>
      ${result
        ? html`<div class="notice notice-ok" role="status" tabindex="-1">
            <p class="notice-title">${audience === "patient" ? "Thank you, your answers were sent to your care team." : "Questionnaire recorded."}</p>
            <p>Total ${result.total} of ${instrument.total_max}: ${severityLabel(result.severity)}.</p>
          </div>`
        : null}
      ${selfHarm
        ? html`<div class="notice notice-urgent" role="alert">
            ${audience === "patient"
              ? html`<p class="notice-title">Your care team has been told about your answer to question 9.</p>
                  <p>If you might act on thoughts of harming yourself, call your local emergency number now, or go to the nearest emergency department.</p>`
              : html`<p class="notice-title">Item 9 (thoughts of self-harm) was answered above 0.</p>
                  <p>An urgent alert is raised for the care team. Follow the clinic's safety protocol.</p>`}
          </div>`
        : null}
      <${FormMessage} errors=${errors} onRetry=${submit} />
      ${(errors.fields.answers || []).length ? html`<p class="field-error" role="alert">Answers ${errors.fields.answers.join("; ")}</p>` : null}
      ${stem(instrument) ? html`<p class="instrument-lead">${stem(instrument)}</p>` : null}
      <ol class="items">
        ${instrument.items.map((item, i) => {
          const itemErrors = errors.fields[`answers[${i}]`] || [];
          return html`<li>
            <fieldset class=${`item${itemErrors.length ? " field-invalid" : ""}`} aria-invalid=${itemErrors.length ? "true" : undefined}
              aria-describedby=${itemErrors.length ? `${instrument.code}-item-${i}-error` : undefined}>
              <legend><span class="item-number">${item.number}.</span> <span class="item-text">${item.text}</span></legend>
              <div class="options">
                ${instrument.options.map(
                  (option) => html`<label class="option">
                    <input type="radio" name=${`${instrument.code}-item-${item.number}`} value=${option.value}
                      checked=${answers[i] === option.value}
                      onChange=${() => setAnswers((a) => a.map((v, j) => (j === i ? option.value : v)))} />
                    <span>${option.label}</span>
                  </label>`,
                )}
              </div>
              ${itemErrors.length ? html`<p class="field-error" id=${`${instrument.code}-item-${i}-error`}>Answer ${itemErrors.join("; ")}</p>` : null}
            </fieldset>
          </li>`;
        })}
      </ol>
      <${Field} label="Notes" name="notes" type="textarea" rows="2" errors=${errors.fields} value=${notes}
        onInput=${(e) => setNotes(e.currentTarget.value)} hint="Optional." />
      <div class="form-actions">
        <button class="button button-primary" type="submit" disabled=${busy}>${busy ? "Sending…" : audience === "patient" ? "Send answers" : "Record questionnaire"}</button>
      </div>
    </form>`;
}

// The question every item answers. The contract's instrument has no field for it: use one if the API
// adds it, else PHQ-9's and GAD-7's own (identical) stem.
const TWO_WEEK_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?";
function stem(instrument) {
  return instrument.instructions || instrument.prompt || (["phq9", "gad7"].includes(instrument.code) ? TWO_WEEK_STEM : null);
}

function AssessmentList({ patient, revision, onChanged }) {
  const [confirming, setConfirming] = useState(null);
  const [status, setStatus] = useState(null);
  const [failure, setFailure] = useState(null);
  const list = useResource(
    (signal) => api("GET", `/v1/patients/${patient.id}/assessments`, { signal, query: { page_size: 100 } }).then((r) => r.body.assessments),
    [patient.id, revision],
  );

  async function remove(assessment) {
    setFailure(null);
    try {
      await api("DELETE", `/v1/patients/${patient.id}/assessments/${assessment.id}`);
      setStatus(`Deleted the ${assessment.instrument.toUpperCase()} of ${dateTime(assessment.completed_at, patient.time_zone)}.`);
      setConfirming(null);
      onChanged();
    } catch (error) {
      setFailure(error);
    }
  }

  return html`
    <section class="card" aria-labelledby="assessments-heading">
      <div class="card-head"><h2 id="assessments-heading">Answered questionnaires</h2></div>
      <${Saved}>${status}</${Saved}>
      ${failure ? html`<${ErrorState} error=${failure} />` : null}
      ${list.error
        ? html`<${ErrorState} error=${list.error} onRetry=${list.reload} unavailable="Questionnaires are not available on this server yet." />`
        : !list.data
          ? html`<${Loading} label="Loading questionnaires…" />`
          : list.data.length === 0
            ? html`<${Empty}>No questionnaires answered yet.</${Empty}>`
            : html`<div class="table-wrap"><table class="table">
                <caption class="visually-hidden">Questionnaires, newest first, times in ${patient.time_zone}</caption>
                <thead><tr><th scope="col">Completed</th><th scope="col">Questionnaire</th><th scope="col" class="num">Total</th><th scope="col">Severity</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  ${list.data.map(
                    (a) => html`<tr key=${a.id}>
                      <td>${dateTime(a.completed_at, patient.time_zone)}</td>
                      <td>${a.instrument.toUpperCase().replace(/(\D)(\d)/, "$1-$2")}${a.source === "patient" ? html` <span class="badge badge-neutral">by patient</span>` : null}</td>
                      <td class="num"><strong>${a.total}</strong></td>
                      <td><span class=${`badge badge-${SEVERITY_TONES[a.severity] || "neutral"}`}>${severityLabel(a.severity)}</span></td>
                      <td class="actions">${confirming === a.id
                        ? html`<span class="confirm"><button type="button" class="button button-danger" onClick=${() => remove(a)}>Delete</button>
                            <button type="button" class="button button-quiet" onClick=${() => setConfirming(null)}>Keep</button></span>`
                        : html`<button type="button" class="button button-quiet" onClick=${() => setConfirming(a.id)}
                            aria-label=${`Delete the questionnaire of ${dateTime(a.completed_at, patient.time_zone)}`}>Delete…</button>`}</td>
                    </tr>`,
                  )}
                </tbody>
              </table></div>`}
    </section>`;
}
