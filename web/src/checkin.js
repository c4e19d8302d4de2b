// A patient's own check-in: today's gauges in one request (POST {"gauges": [...]}, all or nothing) and the
// questionnaires their care team uses, in the instruments' own wording.

import { html } from "htm/preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { Questionnaire } from "./assessments.js";
import { api, idempotencyKeys } from "./api.js";
import { DEFAULT_SCALES, dateTime, gaugeLabel } from "./format.js";
import { ErrorState, FormMessage, Loading, PageTitle, Saved, focusFirstInvalid, useFormErrors, useResource } from "./ui.js";

// What the ends of each scale mean, in the patient's words.
const CHECK_IN = [
  ["mood", "How is your mood today?", "very low", "very good"],
  ["anxiety", "How anxious have you felt today?", "calm", "very anxious"],
  ["energy", "How is your energy?", "exhausted", "full of energy"],
  ["sleep_quality", "How well did you sleep last night?", "very poorly", "very well"],
  ["pain", "How much pain are you in?", "no pain", "worst imaginable"],
];

export function CheckIn({ me }) {
  const record = useResource((signal) => api("GET", `/v1/patients/${me.patient_id}`, { signal }).then((r) => r.body), [me.patient_id]);
  if (record.error) return html`<div class="page"><${PageTitle} title="Check-in" /><${ErrorState} error=${record.error} onRetry=${record.reload} /></div>`;
  if (!record.data) return html`<div class="page"><${Loading} /></div>`;
  const patient = record.data;
  return html`
    <div class="page page-narrow">
      <${PageTitle} title="Check-in">Hello, ${patient.first_name}</${PageTitle}>
      <p class="lede">A minute a day helps your care team see how you are doing between visits.</p>
      <${TodayForm} patient=${patient} />
      <section class="card" aria-labelledby="questionnaires-heading">
        <div class="card-head"><h2 id="questionnaires-heading">Questionnaires</h2></div>
        <${Questionnaire} patient=${patient} audience="patient" onRecorded=${() => {}} />
      </section>
    </div>`;
}

function TodayForm({ patient }) {
  const [answers, setAnswers] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(null);
  const errors = useFormErrors();
  const [sent, setSent] = useState([]);
  const form = useRef(null);
  const keys = useMemo(idempotencyKeys, []);

  async function submit(event) {
    if (event) event.preventDefault();
    const types = CHECK_IN.map(([type]) => type).filter((type) => answers[type] !== undefined);
    if (types.length === 0) {
      errors.fromError({ message: "Choose an answer to at least one question." });
      return;
    }
    const body = { gauges: types.map((type) => ({ gauge_type: type, value: answers[type] })) };
    setBusy(true);
    setSent(types);
    errors.clear();
    setSaved(null);
    try {
      const { body: result } = await api("POST", `/v1/patients/${patient.id}/gauges`, {
        body,
        headers: { "Idempotency-Key": keys.forBody(body) },
      });
      keys.done();
      setAnswers({});
      const at = result.gauges.length ? dateTime(result.gauges[0].recorded_at, patient.time_zone) : "";
      setSaved(`Thank you. ${result.gauges.length} answer${result.gauges.length === 1 ? "" : "s"} recorded ${at}.`);
    } catch (error) {
      errors.fromError(error, [...types.map((_, i) => `gauges[${i}].value`)]);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <section class="card" aria-labelledby="today-heading">
      <div class="card-head"><h2 id="today-heading">Today</h2></div>
      <form ref=${form} class="form" onSubmit=${submit} novalidate>
        <${FormMessage} errors=${errors} onRetry=${submit} />
        <${Saved}>${saved}</${Saved}>
        ${CHECK_IN.map(([type, question, low, high]) => {
          const [min, max] = DEFAULT_SCALES[type];
          const index = sent.indexOf(type);
          const messages = (index >= 0 && errors.fields[`gauges[${index}].value`]) || [];
          const values = Array.from({ length: max - min + 1 }, (_, i) => min + i);
          return html`<fieldset class=${`scale${messages.length ? " field-invalid" : ""}`} aria-invalid=${messages.length ? "true" : undefined}>
            <legend>${question} <span class="visually-hidden">(${gaugeLabel(type)}, ${min} ${low} to ${max} ${high})</span></legend>
            <div class="scale-options">
              ${values.map(
                (v) => html`<label class="scale-option">
                  <input type="radio" name=${`checkin-${type}`} value=${v} checked=${answers[type] === v}
                    onChange=${() => setAnswers((a) => ({ ...a, [type]: v }))} />
                  <span>${v}</span>
                </label>`,
              )}
            </div>
            <div class="scale-ends" aria-hidden="true"><span>${low}</span><span>${high}</span></div>
            ${messages.length ? html`<p class="field-error">${gaugeLabel(type)} ${messages.join("; ")}</p>` : null}
          </fieldset>`;
        })}
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled=${busy}>${busy ? "Sending…" : "Send check-in"}</button>
        </div>
      </form>
    </section>`;
}
