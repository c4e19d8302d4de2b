// uPlot charts: gauge means per day or week (with each period's lowest and highest value as a band), and
// questionnaire totals over the instrument's severity bands. Each chart has a text summary for screen
// readers and its figures as a table, so nothing is shown only as pixels. Loaded on demand (trends.js):
// the first page a user sees does not wait for uPlot.

import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const INK = "#0b5c6b";
const BAND_COLOURS = ["#e8f3ec", "#f4f1dc", "#f8e8d4", "#f6dcd2", "#f1cfcf"];

/** Evenly spread severity colours, mildest first (green to red). */
export function severityColour(index, count) {
  return BAND_COLOURS[Math.round((index * (BAND_COLOURS.length - 1)) / Math.max(1, count - 1))];
}

function useUplot(build, deps) {
  const ref = useRef(null);
  useEffect(() => {
    const element = ref.current;
    const width = () => Math.max(280, element.clientWidth);
    const plot = build(width());
    const chart = new uPlot(plot.options, plot.data, element);
    // The plotted arrays, for anyone (a test, a curious developer) who wants to check them.
    element.uplot = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: plot.options.height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      delete element.uplot;
    };
  }, deps);
  return ref;
}

const axisFont = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/** Y ticks at both ends of the scale and evenly between (1, 4, 7, 10; 0, 2, ... 10; 0, 20, ... 100). */
function scaleSplits(u, axis, min, max) {
  const span = max - min;
  const step = [1, 2, 3, 4, 5, 10, 20, 25, 50].find((s) => span % s === 0 && span / s <= 5) || span / 4;
  const ticks = [];
  for (let value = min; value < max - step / 2; value += step) ticks.push(value);
  ticks.push(max);
  return ticks;
}

function axes(yLabel, dateFormat, ySplits) {
  return [
    {
      stroke: "#475467",
      font: axisFont,
      grid: { stroke: "#eef0f3", width: 1 },
      ticks: { stroke: "#d0d5dd", width: 1 },
      values: dateFormat,
    },
    // Whole-number ticks: every scale here counts in whole points.
    { stroke: "#475467", font: axisFont, label: yLabel, labelFont: axisFont, grid: { stroke: "#eef0f3", width: 1 }, size: 44, incrs: [1, 2, 3, 5, 10, 20, 25, 50, 100], ...(ySplits ? { splits: ySplits } : {}) },
  ];
}

const DAY_FORMAT = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" });
const dayAxis = (u, splits) => splits.map((s) => DAY_FORMAT.format(new Date(s * 1000)));

/**
 * Means of one gauge type per day or week: `rows` are summaries ({period_start, mean, min, max, count}),
 * `days` every period start in the range (periods without gauges are gaps, not zero).
 */
export function MeansChart({ id, rows, periods, range, label, periodName }) {
  const byStart = new Map(rows.map((r) => [r.period_start, r]));
  const xs = periods.map((p) => Date.parse(`${p}T00:00:00Z`) / 1000);
  const pick = (key) => periods.map((p) => (byStart.has(p) ? byStart.get(p)[key] : null));
  const data = [xs, pick("mean"), pick("min"), pick("max")];
  const ref = useUplot(
    (width) => ({
      data,
      options: {
        width,
        height: 200,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "UTC"),
        scales: { x: { time: true }, y: { range: range } },
        axes: axes(null, dayAxis, scaleSplits),
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: periodName === "week" ? "Week of" : "Day", value: (u, v) => (v == null ? "–" : DAY_FORMAT.format(new Date(v * 1000))) },
          { label: "Mean", stroke: INK, width: 2, points: { size: 6, fill: INK }, spanGaps: false },
          { label: "Lowest", stroke: "#98a2b3", width: 1, dash: [4, 4], points: { show: false } },
          { label: "Highest", stroke: "#98a2b3", width: 1, dash: [4, 4], points: { show: false } },
        ],
        bands: [{ series: [3, 2], fill: "rgba(11, 92, 107, 0.08)" }],
      },
    }),
    [id, JSON.stringify(data), range[0], range[1]],
  );
  const shown = rows.length;
  const last = rows[rows.length - 1];
  const summary = shown
    ? `${label}: ${shown} ${periodName === "week" ? "weekly" : "daily"} means on a scale of ${range[0]} to ${range[1]}, latest ${last.mean} for ${last.period_start}.`
    : `${label}: no gauges in this range.`;
  return html`
    <figure class="chart" aria-labelledby=${`${id}-caption`}>
      <figcaption id=${`${id}-caption`}>
        <span class="chart-title">${label}</span>
        <span class="chart-scale">scale ${range[0]}–${range[1]}</span>
      </figcaption>
      <div class="chart-plot" ref=${ref} role="img" aria-label=${summary} data-chart=${id}></div>
      <details class="chart-table">
        <summary>Table of ${label.toLowerCase()} figures</summary>
        <table>
          <caption class="visually-hidden">${label}, ${periodName === "week" ? "weekly" : "daily"}</caption>
          <thead><tr><th scope="col">${periodName === "week" ? "Week of" : "Day"}</th><th scope="col">Mean</th><th scope="col">Lowest</th><th scope="col">Highest</th><th scope="col">Gauges</th></tr></thead>
          <tbody>
            ${rows.map((r) => html`<tr><th scope="row">${r.period_start}</th><td>${r.mean}</td><td>${r.min}</td><td>${r.max}</td><td>${r.count}</td></tr>`)}
          </tbody>
        </table>
      </details>
    </figure>`;
}

/** Questionnaire totals over time, the instrument's severity bands shaded behind them. */
export function ScoresChart({ id, instrument, assessments, timeZone }) {
  const xs = assessments.map((a) => Date.parse(a.completed_at) / 1000);
  const ys = assessments.map((a) => a.total);
  const bands = instrument.severity;
  const dateFormat = new Intl.DateTimeFormat("en-US", { timeZone, month: "short", day: "numeric" });
  const ref = useUplot(
    (width) => ({
      data: [xs, ys],
      options: {
        width,
        height: 200,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
        scales: { x: { time: true }, y: { range: [instrument.total_min, instrument.total_max] } },
        axes: axes(null, (u, splits) => splits.map((s) => dateFormat.format(new Date(s * 1000)))),
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: "Completed", value: (u, v) => (v == null ? "–" : dateFormat.format(new Date(v * 1000))) },
          { label: "Total", stroke: INK, width: 2, points: { size: 7, fill: INK } },
        ],
        hooks: {
          drawClear: [
            (u) => {
              const { ctx, bbox } = u;
              ctx.save();
              bands.forEach((band, i) => {
                const top = u.valToPos(Math.min(band.max + 0.5, instrument.total_max), "y", true);
                const bottom = u.valToPos(Math.max(band.min - 0.5, instrument.total_min), "y", true);
                ctx.fillStyle = severityColour(i, bands.length);
                ctx.fillRect(bbox.left, top, bbox.width, bottom - top);
              });
              ctx.restore();
            },
          ],
        },
      },
    }),
    [id, JSON.stringify(xs), JSON.stringify(ys), timeZone],
  );
  const last = assessments[assessments.length - 1];
  const summary = last
    ? `${instrument.code.toUpperCase()} totals: ${assessments.length} questionnaires, latest ${last.total} (${last.severity}).`
    : "No questionnaires yet.";
  return html`
    <figure class="chart" aria-labelledby=${`${id}-caption`}>
      <figcaption id=${`${id}-caption`}>
        <span class="chart-title">${instrument.name}</span>
        <span class="chart-scale">total ${instrument.total_min}–${instrument.total_max}</span>
      </figcaption>
      <div class="chart-plot" ref=${ref} role="img" aria-label=${summary} data-chart=${id}></div>
      <ul class="severity-key" aria-label="Severity bands">
        ${bands.map(
          (band, i) =>
            html`<li><span class=${`swatch swatch-${Math.round((i * (BAND_COLOURS.length - 1)) / Math.max(1, bands.length - 1))}`} aria-hidden="true"></span>${band.label.replace(/_/g, " ")} ${band.min}–${band.max}</li>`,
        )}
      </ul>
    </figure>`;
}
