// Dates, times and labels. Every time is shown in the patient's own time zone (the one that decides which
// calendar day a gauge falls on), and says which zone it is.

export const DEFAULT_SCALES = {
  mood: [1, 10],
  anxiety: [1, 10],
  energy: [1, 10],
  sleep_quality: [1, 10],
  pain: [0, 10],
  medication_adherence: [0, 100],
  social_interaction: [1, 10],
};

const TYPE_LABELS = {
  sleep_quality: "Sleep quality",
  medication_adherence: "Medication adherence",
  social_interaction: "Social interaction",
  phq9: "PHQ-9 total",
  gad7: "GAD-7 total",
};

export function gaugeLabel(type) {
  if (TYPE_LABELS[type]) return TYPE_LABELS[type];
  const words = type.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const GENDERS = [
  ["female", "Female"],
  ["male", "Male"],
  ["non_binary", "Non-binary"],
  ["other", "Other"],
  ["unknown", "Unknown"],
  ["prefer_not_to_say", "Prefers not to say"],
];

export function genderLabel(value) {
  const found = GENDERS.find(([key]) => key === value);
  return found ? found[1] : "Not recorded";
}

export function fullName(patient) {
  return patient ? `${patient.first_name} ${patient.last_name}` : "";
}

const formatters = new Map();
function formatter(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat("en-US", { timeZone, ...options }));
  return formatters.get(key);
}

/** "Nov 3, 2026, 9:05 AM PST" in the patient's zone. */
export function dateTime(iso, timeZone = "UTC") {
  if (!iso) return "";
  return formatter(timeZone, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) + ` ${zoneName(iso, timeZone)}`;
}

export function zoneName(iso, timeZone) {
  const parts = formatter(timeZone, { timeZoneName: "short" }).formatToParts(new Date(iso || Date.now()));
  return (parts.find((p) => p.type === "timeZoneName") || {}).value || timeZone;
}

/** A calendar day ("2026-11-03") as "Nov 3, 2026": a day has no time zone of its own. */
export function day(isoDate, options = { dateStyle: "medium" }) {
  if (!isoDate) return "";
  return formatter("UTC", options).format(dayToDate(isoDate));
}

export function dayToDate(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** Today's date in a time zone, as YYYY-MM-DD. */
export function todayIn(timeZone, now = new Date()) {
  const parts = Object.fromEntries(
    formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export function addDays(isoDate, days) {
  const date = dayToDate(isoDate);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The Monday on or before a day (weeks start on Monday, as the summaries' do). */
export function mondayOf(isoDate) {
  const weekday = (dayToDate(isoDate).getUTCDay() + 6) % 7;
  return addDays(isoDate, -weekday);
}

function offsetMinutes(epochMs, timeZone) {
  const parts = Object.fromEntries(
    formatter(timeZone, {
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(new Date(epochMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60000);
}

/** A wall-clock time typed for the patient ("2026-11-03T09:05" in their zone) as a UTC ISO string. */
export function zonedToUtc(localDateTime, timeZone) {
  const [datePart, timePart = "00:00"] = localDateTime.split("T");
  const [y, m, d] = datePart.split("-").map(Number);
  const [hh, mm] = timePart.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let utc = wall - offsetMinutes(wall, timeZone) * 60000;
  utc = wall - offsetMinutes(utc, timeZone) * 60000; // once more: the offset may differ across a DST change
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, ".000Z");
}

/** A UTC instant as the patient's wall-clock time, for a datetime-local input. */
export function utcToZoned(iso, timeZone) {
  const epoch = new Date(iso).getTime();
  return new Date(epoch + offsetMinutes(epoch, timeZone) * 60000).toISOString().slice(0, 16);
}

export function number(value, digits = 2) {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits).replace(/\.?0+$/, "");
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
