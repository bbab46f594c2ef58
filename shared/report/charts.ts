/**
 * The report's charts as Vega-Lite specifications (data inline), and their SVG: compiled by
 * vega-lite and rendered by vega's headless renderer in Node, with no network and no CDN
 * (every value is inline; vega escapes the text it draws). Every chart has an id, which names
 * it in the HTML (`data-chart`) and in the JSON.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { wilsonInterval } from '../stats/proportions.ts';
import type { ReportFigures } from './figures.ts';

export type ChartSpec = { id: string; title: string; spec: vl.TopLevelSpec };

const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
const base = (title: string, values: object[], width = 460, height = 220) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title,
  width,
  height,
  data: { values },
  config: { font: 'sans-serif', view: { stroke: null } },
});

/** The charts of a report, in the order the page shows them. */
export function reportCharts(f: ReportFigures): ChartSpec[] {
  const periods = f.outreach.pooled && f.outreach.periods.length > 1 ? [...f.outreach.periods, { ...f.outreach.pooled, period: 'all periods' }] : f.outreach.periods;
  const churn = f.outreach.periods.flatMap((p) => [
    { period: p.period, group: 'treated', churn: finite(p.treated.churnRate), observed: p.treated.observed },
    { period: p.period, group: 'control', churn: finite(p.control.churnRate), observed: p.control.observed },
  ]);
  const reduction = periods.filter((p) => p.churnReduction).map((p) => ({ period: p.period, estimate: p.churnReduction!.estimate, low: p.churnReduction!.low, high: p.churnReduction!.high }));
  const breakEven = finite(f.outreach.pooled?.value.breakEvenReduction);
  const curve = (prefixes: string[]) =>
    f.relationshipLength.curves
      .filter((c) => prefixes.some((p) => c.group.startsWith(p)))
      .flatMap((c) => [{ group: c.group, month: 0, survival: 1 }, ...c.curve.steps.map((s) => ({ group: c.group, month: s.time, survival: s.survival }))]);
  const survival = (id: string, title: string, prefixes: string[]): ChartSpec => ({
    id,
    title,
    spec: {
      ...base(title, curve(prefixes)),
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'month', type: 'quantitative', title: 'months as a customer' },
        y: { field: 'survival', type: 'quantitative', title: 'still a customer', scale: { domain: [0, 1] }, axis: { format: '%' } },
        color: { field: 'group', type: 'nominal', title: null },
      },
    } as vl.TopLevelSpec,
  });
  const best = [
    ['tenure (months)', 'meanTenureMonths'],
    ['products held', 'meanProducts'],
    ['orders', 'meanOrders'],
    ['service calls', 'meanServiceCalls'],
    ['returns', 'meanReturns'],
    ['allow email marketing', 'emailMarketingShare'],
    ['churned', 'churnRate'],
  ] as const;
  const bestValues = best.flatMap(([label, key]) => [
    { attribute: label, group: 'top CLV decile', value: finite(f.bestCustomers.top[key]) },
    { attribute: label, group: 'the rest', value: finite(f.bestCustomers.rest[key]) },
  ]);
  const bars = (id: string, title: string, values: object[], x: string, xTitle: string, y: string, yTitle: string, format?: string): ChartSpec => ({
    id,
    title,
    spec: {
      ...base(title, values),
      mark: 'bar',
      encoding: {
        y: { field: y, type: 'nominal', title: yTitle, sort: '-x' },
        x: { field: x, type: 'quantitative', title: xTitle, ...(format && { axis: { format } }) },
      },
    } as vl.TopLevelSpec,
  });
  const pct = Math.round(f.settings.confidence * 100);
  const responseAll = f.campaignResponse.rows.filter((r) => r.slice === 'all');
  const purchase = responseAll.flatMap((r) =>
    [
      { group: 'sent', rate: r.sent.purchased },
      { group: 'held back', rate: r.heldBack.purchased },
    ]
      .filter((g) => g.rate)
      .map((g) => ({ campaign: r.campaign, group: g.group, rate: g.rate!.rate, low: g.rate!.low, high: g.rate!.high })),
  );
  const engagement = responseAll.flatMap((r) =>
    [
      { measure: 'opened', rate: r.sent.opened },
      { measure: 'clicked', rate: r.sent.clicked },
    ]
      .filter((g) => g.rate)
      .map((g) => ({ campaign: r.campaign, measure: g.measure, rate: g.rate!.rate, low: g.rate!.low, high: g.rate!.high })),
  );
  const rateWithInterval = (id: string, title: string, values: object[], color: string, yTitle: string): ChartSpec => ({
    id,
    title,
    spec: {
      ...base(title, values),
      encoding: {
        x: { field: 'campaign', type: 'nominal', title: 'campaign', axis: { labelAngle: 0 } },
        xOffset: { field: color, type: 'nominal' },
      },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'rate', type: 'quantitative', title: yTitle, axis: { format: '%' } }, color: { field: color, type: 'nominal', title: null } } },
        { mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
      ],
    } as vl.TopLevelSpec,
  });
  const responseCharts = f.campaignResponse.rows.length
    ? [
        rateWithInterval('response-purchase', `Purchased within ${f.campaignResponse.attributionDays} days: sent against held back, with ${pct} % intervals`, purchase, 'group', 'purchased in the window'),
        rateWithInterval('response-engagement', `Opened and clicked within ${f.campaignResponse.attributionDays} days, with ${pct} % intervals`, engagement, 'measure', 'of the emails sent'),
      ]
    : [];
  const w = f.winback;
  const winbackRate = (label: Record<string, string>, r: { leavers: number; returned: number }) => {
    if (r.leavers === 0) return [];
    const i = wilsonInterval(r.returned, r.leavers, f.settings.confidence);
    return [{ ...label, rate: r.returned / r.leavers, low: i.low, high: i.high, leavers: r.leavers }];
  };
  const winbackCharts: ChartSpec[] =
    w && w.leavers > 0
      ? [
          {
            id: 'winback-by-reason',
            title: `Winback rate by leaving reason, in and out of a winback sequence, with ${pct} % intervals`,
            spec: {
              ...base(
                `Winback rate by leaving reason, in and out of a winback sequence, with ${pct} % intervals`,
                Object.entries(w.byReason).flatMap(([reason, r]) => [...winbackRate({ reason, group: 'in a sequence' }, r.inSequence), ...winbackRate({ reason, group: 'not in a sequence' }, r.notInSequence)]),
              ),
              encoding: { y: { field: 'reason', type: 'nominal', title: 'leaving reason' }, yOffset: { field: 'group', type: 'nominal' } },
              layer: [
                { mark: 'bar', encoding: { x: { field: 'rate', type: 'quantitative', title: 'came back', axis: { format: '%' } }, color: { field: 'group', type: 'nominal', title: null } } },
                { mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
              ],
            } as vl.TopLevelSpec,
          },
          {
            id: 'winback-by-offer',
            title: `Winback rate by offer, with ${pct} % intervals`,
            spec: {
              ...base(`Winback rate by offer, with ${pct} % intervals`, Object.entries(w.byOffer).flatMap(([offer, r]) => winbackRate({ offer }, r))),
              encoding: { y: { field: 'offer', type: 'nominal', title: 'offer' } },
              layer: [
                { mark: 'bar', encoding: { x: { field: 'rate', type: 'quantitative', title: 'came back after it', axis: { format: '%' } } } },
                { mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
              ],
            } as vl.TopLevelSpec,
          },
          {
            id: 'leaving-reasons-by-month',
            title: 'Why customers left, by month',
            spec: {
              ...base('Why customers left, by month', Object.entries(w.reasonsByMonth).flatMap(([month, m]) => Object.entries(m).map(([reason, leavers]) => ({ month, reason, leavers })))),
              mark: 'bar',
              encoding: {
                x: { field: 'month', type: 'ordinal', title: 'month of leaving', sort: 'ascending' },
                y: { field: 'leavers', type: 'quantitative', title: 'customers who left', stack: 'zero' },
                color: { field: 'reason', type: 'nominal', title: 'reason' },
              },
            } as vl.TopLevelSpec,
          },
        ]
      : [];
  return [
    {
      id: 'outreach-churn',
      title: 'Churn since planning: treated against control',
      spec: {
        ...base('Churn since planning: treated against control', churn),
        mark: 'bar',
        encoding: {
          x: { field: 'period', type: 'nominal', title: 'outreach period' },
          xOffset: { field: 'group', type: 'nominal' },
          y: { field: 'churn', type: 'quantitative', title: 'churned since planning', axis: { format: '%' } },
          color: { field: 'group', type: 'nominal', title: null },
        },
      } as vl.TopLevelSpec,
    },
    {
      id: 'outreach-reduction',
      title: `Churn reduction (control − treated) with its ${Math.round(f.settings.confidence * 100)} % interval`,
      spec: {
        ...base(`Churn reduction (control − treated) with its ${Math.round(f.settings.confidence * 100)} % interval`, reduction),
        layer: [
          { mark: { type: 'rule' }, encoding: { x: { field: 'period', type: 'nominal', title: 'outreach period' }, y: { field: 'low', type: 'quantitative', title: 'churn reduction', axis: { format: '%' } }, y2: { field: 'high' } } },
          { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'period', type: 'nominal' }, y: { field: 'estimate', type: 'quantitative' } } },
          { data: { values: [{ y: 0, label: 'no effect' }, ...(breakEven !== null ? [{ y: breakEven, label: 'break-even' }] : [])] }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' }, color: { field: 'label', type: 'nominal', title: null } } },
        ],
      } as vl.TopLevelSpec,
    },
    ...responseCharts,
    {
      id: 'best-customers',
      title: 'The top CLV decile against the rest',
      spec: {
        ...base('The top CLV decile against the rest', bestValues, 460, 260),
        mark: 'bar',
        encoding: {
          y: { field: 'attribute', type: 'nominal', title: null },
          yOffset: { field: 'group', type: 'nominal' },
          x: { field: 'value', type: 'quantitative', title: 'mean (shares as fractions)' },
          color: { field: 'group', type: 'nominal', title: null },
        },
      } as vl.TopLevelSpec,
    },
    survival('survival-segment', 'Relationship length by kind and value tier (Kaplan–Meier)', ['all', 'kind:', 'tier:']),
    survival('survival-cohort', 'Relationship length by acquisition quarter (Kaplan–Meier)', ['cohort:']),
    {
      id: 'churn-by-tenure',
      title: 'Where churn concentrates: churn rate by month of the relationship',
      spec: {
        ...base('Where churn concentrates: churn rate by month of the relationship', f.relationshipLength.hazard.map((h) => ({ month: h.month, rate: h.rate, atRisk: h.atRisk }))),
        mark: 'bar',
        encoding: {
          x: { field: 'month', type: 'ordinal', title: 'month of the relationship', sort: 'ascending' },
          y: { field: 'rate', type: 'quantitative', title: 'churned of those still customers', axis: { format: '%' } },
        },
      } as vl.TopLevelSpec,
    },
    bars('return-reasons', 'Returns by reason', f.returns.byReason.map((r) => ({ reason: r.reason, returns: r.events })), 'returns', 'returns', 'reason', 'reason'),
    bars('service-reasons', 'Service calls per calling customer, by reason', f.service.byReason.map((r) => ({ reason: r.reason, perCustomer: r.perCustomer })), 'perCustomer', 'calls per customer who called for it', 'reason', 'reason'),
    {
      id: 'resolution-time',
      title: 'Time to resolve a service call',
      spec: {
        ...base('Time to resolve a service call', f.service.resolution.map((r, i) => ({ ...r, order: i }))),
        mark: 'bar',
        encoding: { x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: 'time to resolution' }, y: { field: 'calls', type: 'quantitative', title: 'calls' } },
      } as vl.TopLevelSpec,
    },
    {
      id: 'churn-by-reason',
      title: 'Churn rate of customers who called or returned, by reason',
      spec: {
        ...base('Churn rate of customers who called or returned, by reason', [
          ...f.service.byReason.map((r) => ({ reason: `call: ${r.reason}`, churn: finite(r.churnRate) })),
          ...f.returns.byReason.map((r) => ({ reason: `return: ${r.reason}`, churn: finite(r.churnRate) })),
        ]),
        mark: 'bar',
        encoding: { y: { field: 'reason', type: 'nominal', title: null, sort: '-x' }, x: { field: 'churn', type: 'quantitative', title: 'churned', axis: { format: '%' } } },
      } as vl.TopLevelSpec,
    },
    ...winbackCharts,
  ];
}

/** A loader that loads nothing: a chart that asks for a URL or a file fails instead of reaching out. */
const refuse = async (uri: unknown): Promise<never> => {
  throw new Error(`the report's charts load nothing (asked for ${String(uri)})`);
};
const offline = { ...vega.loader(), load: refuse, sanitize: refuse, http: refuse, file: refuse } as unknown as vega.Loader;

/** A chart as SVG, rendered in Node (no network: the data are inline). */
export async function chartSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: offline });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
