/**
 * The report as files: `report.html` (sections, tables and the charts as inline SVG; no
 * script, no external resource, a Content-Security-Policy that allows none), `report.json`
 * (the same figures, and each chart's Vega-Lite specification), and the lookalike export:
 * `lookalike-segment.json` (the top decile as a machine-readable segment definition) and
 * `lookalike-top-decile.csv` (its non-personal attributes, one row per combination with the
 * number of customers; combinations of fewer than `minLookalikeCount` customers left out).
 * Every string from data or settings is HTML-escaped (producers' return reasons, locales).
 * Non-finite numbers (no data) are `null` in the JSON and "–" on the page.
 */
import { escapeHtml } from '../text/html.ts';
import { type ChartSpec, chartSvg, reportCharts } from './charts.ts';
import type { ExperimentFigures, ProfileFigures, ReasonFigures, ReportFigures } from './figures.ts';
import type { RateFigure, ResponseRow } from './response.ts';
import type { WinbackSection } from './winback.ts';
import type { Rate } from '../winback/report.ts';
import { wilsonInterval } from '../stats/proportions.ts';

export type ReportFiles = { 'report.html': string; 'report.json': string; 'lookalike-segment.json': string; 'lookalike-top-decile.csv': string };

const e = escapeHtml;
const dash = '–';
const fmt = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? dash : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
const pct = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? dash : `${(x * 100).toFixed(digits)} %`);
const money = (x: number | undefined, currency: string) => (x === undefined || !Number.isFinite(x) ? dash : new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 }).format(x));
const interval = (i: { low: number; high: number } | undefined, f: (x: number) => string) => (i ? `${f(i.low)} to ${f(i.high)}` : dash);

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function experimentRows(p: ExperimentFigures, currency: string): string[] {
  const r = p.churnReduction;
  return [
    p.period,
    `${fmt(p.treated.assigned, 0)} / ${fmt(p.control.assigned, 0)}`,
    `${fmt(p.treated.observed, 0)} / ${fmt(p.control.observed, 0)}`,
    `${pct(p.treated.churnRate)} / ${pct(p.control.churnRate)}`,
    r ? `${pct(r.estimate)} (${interval(r, (x) => pct(x))}; bootstrap ${interval(r.bootstrap, (x) => pct(x))})` : dash,
    p.relativeReduction ? `${pct(p.relativeReduction.estimate, 0)} (${interval(p.relativeReduction, (x) => pct(x, 0))})` : dash,
    p.pValue !== undefined ? fmt(p.pValue, 4) : dash,
    p.riskChangeDifference ? `${fmt(p.riskChangeDifference.estimate, 3)} (${interval(p.riskChangeDifference, (x) => fmt(x, 3))})` : dash,
    p.clvChangeDifference ? `${money(p.clvChangeDifference.estimate, currency)} (${interval(p.clvChangeDifference, (x) => money(x, currency))})` : dash,
    money(p.value.valueRetained.estimate, currency),
    pct(p.minimumDetectableEffect),
    p.periodsUntilDetectable !== undefined ? String(p.periodsUntilDetectable) : dash,
    p.value.verdict,
  ];
}

function profileRows(top: ProfileFigures, rest: ProfileFigures, currency: string): string[][] {
  const row = (label: string, f: (p: ProfileFigures) => string) => [label, f(top), f(rest)];
  const shares = (c: Record<string, number>) =>
    Object.entries(c)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `${k} ${pct(v, 0)}`)
      .join(', ') || dash;
  return [
    row('customers', (p) => fmt(p.customers, 0)),
    row('mean CLV', (p) => money(p.meanClv, currency)),
    row('tenure (months)', (p) => fmt(p.meanTenureMonths)),
    row('products held', (p) => fmt(p.meanProducts, 2)),
    row('orders', (p) => fmt(p.meanOrders)),
    row('spend', (p) => money(p.meanSpend, currency)),
    row('service calls', (p) => fmt(p.meanServiceCalls, 2)),
    row('returns', (p) => fmt(p.meanReturns, 2)),
    row('allow email marketing (responsiveness)', (p) => pct(p.emailMarketingShare, 0)),
    row('churned', (p) => pct(p.churnRate)),
    row('kind', (p) => shares(p.kind)),
    row('preferred channel', (p) => shares(p.preferredChannel)),
  ];
}

const rate = (r: RateFigure | undefined) => (r ? `${pct(r.rate)} (${interval(r, (x) => pct(x))})` : dash);

function responseRows(rows: readonly ResponseRow[], currency: string): string[][] {
  return rows.map((r) => [
    r.campaign,
    r.slice,
    `${fmt(r.sent.decisions, 0)} / ${fmt(r.heldBack.decisions, 0)} (${fmt(r.heldBack.holdout, 0)} holdout, ${fmt(r.heldBack.control, 0)} control)`,
    rate(r.sent.opened),
    rate(r.sent.clicked),
    rate(r.sent.purchased),
    rate(r.heldBack.purchased),
    r.purchaseLift ? `${pct(r.purchaseLift.estimate)} (${interval(r.purchaseLift, (x) => pct(x))})` : dash,
    r.purchaseLift?.pValue !== undefined ? fmt(r.purchaseLift.pValue, 4) : dash,
    `${money(r.sent.meanSpend, currency)} / ${money(r.heldBack.meanSpend, currency)}`,
    r.spendLift ? `${money(r.spendLift.estimate, currency)} (${interval(r.spendLift, (x) => money(x, currency))})` : dash,
  ]);
}

/** A rate of the winback report with its Wilson interval: "3 of 12: 25.0 % (8.9 % to 53.2 %)". */
function winbackRate(r: Rate | undefined, confidence: number): string {
  if (!r || r.leavers === 0) return dash;
  const i = wilsonInterval(r.returned, r.leavers, confidence);
  return `${fmt(r.returned, 0)} of ${fmt(r.leavers, 0)}: ${pct(r.returned / r.leavers)} (${interval(i, (x) => pct(x))})`;
}

function winbackSection(w: WinbackSection | undefined, confidence: number, c: (id: string) => string): string {
  if (!w) return '<p>Not read: this report was made from a stored aggregate alone (clm report --part); the winback figures come from the leaver facts in the table.</p>';
  const returned = Object.values(w.byReason).reduce((n, r) => n + r.all.returned, 0);
  const head = `<p>${e(`${fmt(w.leavers, 0)} customers left from ${w.from} to ${w.to}; ${fmt(returned, 0)} of them came back. The winback rate: of those who left, the share who came back; an offer is credited with a return when it was her latest offer before she came back. Intervals: Wilson, ${Math.round(confidence * 100)} %.`)}</p>`;
  if (w.leavers === 0) return head;
  const reasons = [...new Set(Object.values(w.reasonsByMonth).flatMap((m) => Object.keys(m)))].sort();
  return `${head}
<h3>Winback rate by leaving reason</h3>
${table(
  ['reason', 'all who left', 'in a winback sequence', 'not in a sequence'],
  Object.entries(w.byReason).map(([reason, r]) => [reason, winbackRate(r.all, confidence), winbackRate(r.inSequence, confidence), winbackRate(r.notInSequence, confidence)]),
)}
<h3>Winback rate by offer</h3>
${Object.keys(w.byOffer).length ? table(['offer', 'came back after it (of those who got it)'], Object.entries(w.byOffer).map(([offer, r]) => [offer, winbackRate(r, confidence)])) : '<p>No counter-offer made yet.</p>'}
<h3>Leaving reasons by month</h3>
${table(['month', ...reasons], Object.entries(w.reasonsByMonth).map(([month, m]) => [month, ...reasons.map((r) => fmt(m[r] ?? 0, 0))]))}
${c('winback-by-reason')}${c('winback-by-offer')}${c('leaving-reasons-by-month')}`;
}

const reasonRows = (rs: ReasonFigures[]) => rs.map((r) => [r.reason, fmt(r.customers, 0), fmt(r.events, 0), fmt(r.perCustomer, 2), pct(r.churnRate), fmt(r.meanChurnRisk, 2)]);

function figure(chart: ChartSpec, svg: string): string {
  return `<figure data-chart="${e(chart.id)}"><figcaption>${e(chart.title)}</figcaption>${svg}</figure>`;
}

/** The report's HTML from its figures and the charts' SVG (by chart id). */
export function reportHtml(f: ReportFigures, charts: readonly ChartSpec[], svgs: Readonly<Record<string, string>>): string {
  const c = (id: string) => {
    const chart = charts.find((x) => x.id === id);
    return chart ? figure(chart, svgs[id] ?? '') : '';
  };
  const cur = f.settings.currency;
  const o = f.outreach;
  const pooled = o.pooled;
  const km = f.relationshipLength.curves.map(({ group, curve }) => [group, fmt(curve.total, 0), fmt(curve.events, 0), curve.median !== undefined ? `${curve.median} months` : 'not reached']);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Customer lifecycle report, ${f.runDate}`)}</title>
<style>
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}.verdict{font-size:1.2em;padding:.8em;background:#f6f8fa;border-left:4px solid #4c78a8}
.note{color:#555;font-size:.9em}
</style></head><body>
<h1>${e(`Customer lifecycle report, ${f.runDate}`)}</h1>
<p class="note">${e(`Run ${f.runId}; ${fmt(f.customers, 0)} customers scored; generated ${f.generatedAt}. Figures aggregated inside the nightly run. Outreach cost ${money(f.settings.costPerContact, cur)} a contact; intervals at ${Math.round(f.settings.confidence * 100)} %; power ${Math.round(f.settings.power * 100)} %.`)}</p>

<section id="outreach"><h2>Outreach experiment</h2>
<p class="verdict" id="verdict">${e(o.verdict)}</p>
${table(
  ['period', 'assigned (treated / control)', 'outcome known', 'churned since planning (treated / control)', 'churn reduction (interval)', 'relative reduction', 'p-value', 'risk change, treated − control', 'CLV change, treated − control', 'CLV retained', 'minimum detectable effect', 'more periods until detectable', 'verdict'],
  [...o.periods, ...(pooled && o.periods.length > 1 ? [pooled] : [])].map((p) => experimentRows(p, cur)),
)}
${
  pooled
    ? `<p>${e(`Break-even: outreach pays once it cuts churn by ${pct(pooled.value.breakEvenReduction)} of those contacted (cost per contact / mean CLV of the treated); at the measured reduction it would pay up to ${money(pooled.value.breakEvenCostPerContact, cur)} a contact. Net value ${money(pooled.value.net.estimate, cur)} (${interval(pooled.value.net, (x) => money(x, cur))}). The business wants to detect a reduction of ${pct(f.settings.targetReduction)}.`)}</p>`
    : '<p>No outreach assignments in the periods followed.</p>'
}
${c('outreach-churn')}${c('outreach-reduction')}
</section>

<section id="campaign-response"><h2>Campaign response</h2>
<p>${e(f.campaignResponse.status === 'no responses recorded yet' ? `No responses recorded yet. ${f.campaignResponse.note}` : f.campaignResponse.note)}</p>
${
  f.campaignResponse.rows.length
    ? `${table(
        ['campaign', 'segment or tier', 'decisions (sent / held back)', 'opened', 'clicked', 'purchased (sent)', 'purchased (held back)', 'purchase lift (interval)', 'p-value', 'mean spend in the window (sent / held back)', 'spend lift (interval)'],
        responseRows(f.campaignResponse.rows, cur),
      )}
${c('response-purchase')}${c('response-engagement')}`
    : ''
}
</section>

<section id="best-customers"><h2>Best customers</h2>
${table(['', 'top CLV decile', 'the rest'], profileRows(f.bestCustomers.top, f.bestCustomers.rest, cur))}
${c('best-customers')}
<p>${e(`Lookalike export: lookalike-segment.json (the segment's definition and profile) and lookalike-top-decile.csv (${fmt(f.bestCustomers.lookalike.rows.length, 0)} attribute combinations; ${fmt(f.bestCustomers.lookalike.suppressed, 0)} customers in combinations of fewer than ${f.settings.minLookalikeCount} left out). No names, emails or ids.`)}</p>
</section>

<section id="relationship-length"><h2>Relationship length</h2>
${table(['group', 'customers', 'churned', 'median length'], km)}
<p>${e(`Share of all churn within the first ${f.relationshipLength.churnWithin.map((w) => `${w.months} months: ${pct(w.share, 0)}`).join('; ')}.`)}</p>
${c('survival-segment')}${c('survival-cohort')}${c('churn-by-tenure')}
</section>

<section id="returns-service"><h2>Returns and service</h2>
<p>${e(`${fmt(f.returns.returns, 0)} returns by ${fmt(f.returns.customers, 0)} customers (${money(f.returns.value, cur)}); ${fmt(f.service.calls, 0)} service calls by ${fmt(f.service.customers, 0)} customers; of the latest calls kept per customer ${fmt(f.service.resolved, 0)} resolved, ${fmt(f.service.unresolved, 0)} closed unresolved, ${fmt(f.service.open, 0)} with no resolution yet.`)}</p>
<h3>Return reasons</h3>
${table(['reason', 'customers', 'returns', 'per customer', 'churned', 'mean churn risk'], reasonRows(f.returns.byReason))}
<h3>Service calls by reason</h3>
${table(['reason', 'customers', 'calls', 'per customer', 'churned', 'mean churn risk'], reasonRows(f.service.byReason))}
${c('return-reasons')}${c('service-reasons')}${c('resolution-time')}${c('churn-by-reason')}
</section>

<section id="winback"><h2>Winback</h2>
${winbackSection(f.winback, f.settings.confidence, c)}
</section>
</body></html>
`;
}

/**
 * RFC 4180 CSV: a cell with a comma, quote or line break is quoted (quotes doubled); a cell
 * from data that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
 * apostrophe (OWASP's CSV injection advice).
 */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** The report's files: HTML with the charts as SVG, the figures as JSON, and the lookalike export. */
export async function renderReport(f: ReportFigures): Promise<ReportFiles> {
  const charts = reportCharts(f);
  const svgs: Record<string, string> = {};
  for (const chart of charts) svgs[chart.id] = await chartSvg(chart.spec);
  const look = f.bestCustomers.lookalike;
  return {
    'report.html': reportHtml(f, charts, svgs),
    'report.json': `${JSON.stringify({ ...f, charts: charts.map((ch) => ({ id: ch.id, title: ch.title, vegaLite: ch.spec })) }, null, 2)}\n`,
    'lookalike-segment.json': `${JSON.stringify({ ...look.segment, runDate: f.runDate, combinations: look.rows.length, suppressedCustomers: look.suppressed }, null, 2)}\n`,
    'lookalike-top-decile.csv': toCsv(['kind', 'locale', 'products', 'tenure', 'orders', 'customers'], look.rows.map((r) => [r.kind, r.locale, r.products, r.tenure, r.orders, String(r.customers)])),
  };
}
