// Trends: daily or weekly means of every gauge type (GET .../gauges/summary, computed by the scheduled
// job) on each type's scale, and questionnaire totals over their severity bands, for a chosen date range
// of the patient's own calendar days.

import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { DEFAULT_SCALES, addDays, dateTime, gaugeLabel, mondayOf, todayIn } from "./format.js";
import { Empty, ErrorState, Field, Loading, useResource } from "./ui.js";

const RANGES = [
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
  ["365", "Last 12 months"],
  ["custom", "Custom dates"],
];
const TYPE_ORDER = Object.keys(DEFAULT_SCALES);
const MAX_DAYS = 731;

let instrumentsPromise = null;
/** The instruments (their wording and severity bands) change only with a deployment: read them once. */
export function instruments() {
  if (!instrumentsPromise) {
    instrumentsPromise = api("GET", "/v1/instruments").then((r) => r.body.instruments);
    instrumentsPromise.catch(() => {
      instrumentsPromise = null;
    });
  }
  return instrumentsPromise;
}

let chartsModule = null;
/** chart.js and uPlot, fetched the first time a chart is needed. */
function useCharts() {
  const [charts, setCharts] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!chartsModule) {
      chartsModule = import("./chart.js");
      chartsModule.catch(() => {
        chartsModule = null;
      });
    }
    chartsModule.then(setCharts, () => setError(new Error("The charts could not be loaded. Reload the page to retry.")));
  }, []);
  return { charts, error };
}

function periodStarts(start, end, period) {
  const out = [];
  for (let d = period === "week" ? mondayOf(start) : start; d <= end; d = addDays(d, period === "week" ? 7 : 1)) out.push(d);
  return out;
}

function byType(summaries) {
  const groups = new Map();
  for (const row of summaries) {
    if (!groups.has(row.gauge_type)) groups.set(row.gauge_type, []);
    groups.get(row.gauge_type).push(row);
  }
  const rank = (t) => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : TYPE_ORDER.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The y range: the type's scale, widened if a gauge used another (never clip a value). */
function rangeOf(type, rows, scales) {
  const [low, high] = scales[type] || DEFAULT_SCALES[type] || [Math.min(...rows.map((r) => r.min)), Math.max(...rows.map((r) => r.max))];
  return [Math.min(low, ...rows.map((r) => r.min)), Math.max(high, ...rows.map((r) => r.max))];
}

export function Trends({ patient, revision }) {
  const { charts, error: chartsError } = useCharts();
  const today = todayIn(patient.time_zone);
  const [period, setPeriod] = useState("day");
  const [range, setRange] = useState("30");
  const [custom, setCustom] = useState({ start: addDays(today, -29), end: today });
  const days = range === "custom" ? null : Number(range);
  const end = days ? today : custom.end;
  const requestedStart = days ? addDays(today, -(days - 1)) : custom.start;
  const start = period === "week" ? mondayOf(requestedStart) : requestedStart;

  const summary = useResource(
    async (signal) => {
      const { body } = await api("GET", `/v1/patients/${patient.id}/gauges/summary`, {
        signal,
        query: { period, start_date: start, end_date: end },
      });
      // Types without a default scale: their scale is on any of their gauges.
      const scales = {};
      const unknown = [...new Set(body.summaries.map((s) => s.gauge_type))].filter((t) => !DEFAULT_SCALES[t]);
      await Promise.all(
        unknown.map(async (type) => {
          const gauges = await api("GET", `/v1/patients/${patient.id}/gauges`, { signal, query: { gauge_type: type, page_size: 1 } });
          const g = gauges.body.gauges[0];
          if (g) scales[type] = [g.scale_min, g.scale_max];
        }),
      );
      // What was asked travels with the answer: the charts draw the range they hold, never the one just chosen.
      return { ...body, scales, period, start, end };
    },
    [patient.id, period, start, end, revision],
  );

  const rangeErrors = (summary.error && summary.error.fields) || {};
  const tooLong = range === "custom" && start <= end && periodStarts(start, end, "day").length > MAX_DAYS;
  const shown = summary.data;
  const groups = shown ? byType(shown.summaries).filter(([type]) => type !== "phq9" && type !== "gad7") : [];

  return html`
    <section class="card" aria-labelledby="trends-heading">
      <div class="card-head">
        <h2 id="trends-heading">${(shown ? shown.period : period) === "week" ? "Weekly" : "Daily"} means</h2>
        ${summary.data && summary.data.meta.complete_through
          ? html`<p class="muted small">Includes gauges recorded up to ${dateTime(summary.data.meta.complete_through, patient.time_zone)}.</p>`
          : null}
      </div>
      <form class="toolbar" aria-label="Chart options" onSubmit=${(e) => e.preventDefault()}>
        <fieldset class="segmented">
          <legend>Period</legend>
          ${[["day", "Daily"], ["week", "Weekly"]].map(
            ([value, label]) => html`<label><input type="radio" name="period" value=${value} checked=${period === value} onChange=${() => setPeriod(value)} />${label}</label>`,
          )}
        </fieldset>
        <${Field} label="Date range" name="range" render=${(attrs) => html`
          <select ...${attrs} value=${range} onChange=${(e) => setRange(e.currentTarget.value)}>
            ${RANGES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>`} />
        ${range === "custom"
          ? html`
              <${Field} label="From" name="start_date" type="date" value=${custom.start} max=${today} errors=${rangeErrors}
                onChange=${(e) => e.currentTarget.value && setCustom((c) => ({ ...c, start: e.currentTarget.value }))} />
              <${Field} label="To" name="end_date" type="date" value=${custom.end} max=${today} errors=${rangeErrors}
                onChange=${(e) => e.currentTarget.value && setCustom((c) => ({ ...c, end: e.currentTarget.value }))} />`
          : null}
      </form>
      ${tooLong ? html`<p class="notice notice-warning" role="status">Choose at most ${MAX_DAYS} days.</p>` : null}
      ${summary.error && !summary.error.fields
        ? html`<${ErrorState} error=${summary.error} onRetry=${summary.reload} unavailable="Trends are not available on this server yet." />`
        : chartsError
          ? html`<${ErrorState} error=${chartsError} />`
          : (summary.loading && !summary.data) || !charts
          ? html`<${Loading} label="Loading trends…" />`
          : summary.error
            ? null
            : groups.length === 0
              ? html`<${Empty}>No gauges between ${shown.start} and ${shown.end}.</${Empty}>`
              : html`<div class=${`charts${summary.loading ? " is-loading" : ""}`} aria-busy=${summary.loading ? "true" : "false"}>
                  ${groups.map(
                    ([type, rows]) => html`<${charts.MeansChart} key=${type} id=${`means-${type}`} rows=${rows} label=${gaugeLabel(type)}
                      periods=${periodStarts(shown.start, shown.end, shown.period)} periodName=${shown.period} range=${rangeOf(type, rows, summary.data.scales)} />`,
                  )}
                </div>`}
    </section>
    <${ScoreHistory} patient=${patient} start=${start} end=${end} revision=${revision} charts=${charts} />`;
}

/** Questionnaire totals in the same date range, one chart per instrument the patient has answered. */
function ScoreHistory({ patient, start, end, revision, charts }) {
  const history = useResource(
    async (signal) => {
      const all = await instruments();
      const lists = await Promise.all(
        all.map((instrument) =>
          api("GET", `/v1/patients/${patient.id}/assessments`, {
            signal,
            query: { instrument: instrument.code, start_date: start, end_date: end, order: "asc", page_size: 100 },
          }).then((r) => ({ instrument, assessments: r.body.assessments })),
        ),
      );
      return lists.filter((l) => l.assessments.length > 0);
    },
    [patient.id, start, end, revision],
  );
  if (history.error && history.error.routeAbsent) return null;
  return html`
    <section class="card" aria-labelledby="scores-heading">
      <div class="card-head"><h2 id="scores-heading">Questionnaires</h2></div>
      ${history.error
        ? html`<${ErrorState} error=${history.error} onRetry=${history.reload} />`
        : !history.data || !charts
          ? html`<${Loading} label="Loading questionnaires…" />`
          : history.data.length === 0
            ? html`<${Empty}>No questionnaires between ${start} and ${end}.</${Empty}>`
            : html`<div class="charts">
                ${history.data.map(
                  ({ instrument, assessments }) =>
                    html`<${charts.ScoresChart} key=${instrument.code} id=${`scores-${instrument.code}`} instrument=${instrument} assessments=${assessments} timeZone=${patient.time_zone} />`,
                )}
              </div>`}
    </section>`;
}
