import { describe, expect, it } from 'vitest';
import { buildReport, readWinbackSection, toCsv } from '../../../shared/report/index.ts';
import { reportFixture, winbackFixture, HOSTILE_REASON } from '../../support/report-fixture.ts';

describe('the rendered report', () => {
  const stored = reportFixture();
  const built = winbackFixture().then(async (leavers) => buildReport(stored, { costPerContact: 12, currency: 'USD' }, new Date('2026-12-01T05:00:00Z'), await readWinbackSection(leavers, stored.runDate)));

  it('has every section, the verdict and a chart in SVG for each figure', async () => {
    const { files, figures } = await built;
    const html = files['report.html'];
    for (const id of ['outreach', 'campaign-response', 'best-customers', 'relationship-length', 'returns-service', 'winback']) expect(html).toContain(`<section id="${id}">`);
    expect(figures.outreach.verdict).toMatch(/^Outreach to the top \d+ at-risk customers retained -?[\d.]+ ± [\d.]+ customers and -?\$[\d,]+ of CLV a month at a cost of \$[\d,]+: (pays|does not pay|not yet measurable)\.$/);
    expect(html).not.toContain('No responses recorded yet.');
    expect(html).toContain('opens, clicks and purchases in the 7 days after each decision&#39;s day');
    const charts = [...html.matchAll(/<figure data-chart="([a-z-]+)"><figcaption>[^<]+<\/figcaption><svg /g)].map((m) => m[1]);
    expect(charts).toEqual(['outreach-churn', 'outreach-reduction', 'response-purchase', 'response-engagement', 'best-customers', 'survival-segment', 'survival-cohort', 'churn-by-tenure', 'return-reasons', 'service-reasons', 'resolution-time', 'churn-by-reason', 'winback-by-reason', 'winback-by-offer', 'leaving-reasons-by-month']);
    // no script, no external resource: a page that loads nothing
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes what producers sent, in tables and in charts', async () => {
    const { files } = await built;
    const html = files['report.html'];
    expect(html).not.toContain(HOSTILE_REASON.toLowerCase());
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
  });

  it('gives the same figures as JSON, with each chart as Vega-Lite', async () => {
    const { files, figures } = await built;
    const json = JSON.parse(files['report.json']) as typeof figures & { charts: { id: string; vegaLite: { $schema: string } }[] };
    expect(json.outreach.verdict).toBe(figures.outreach.verdict);
    expect(json.customers).toBe(600);
    expect(json.charts).toHaveLength(15);
    expect(json.charts[0]!.vegaLite.$schema).toMatch(/vega-lite\/v6/);
    expect(json.relationshipLength.curves.map((c) => c.group)).toContain('all');
    expect(json.settings).toMatchObject({ costPerContact: 12, currency: 'USD' });
  });

  it('shows campaign response per campaign, kind and tier, against the held back', async () => {
    const { files, figures } = await built;
    const html = files['report.html'];
    const rows = figures.campaignResponse.rows;
    expect(rows.filter((r) => r.slice === 'all').map((r) => r.campaign)).toEqual(['cross-sell', 'retention-save']);
    expect(new Set(rows.map((r) => r.slice))).toEqual(new Set(['all', 'kind:adhoc', 'kind:subscription', 'tier:top', 'tier:medium']));
    for (const r of rows) {
      expect(r.heldBack.holdout + r.heldBack.control).toBe(r.heldBack.decisions);
      expect(r.sent.purchased!.low).toBeLessThanOrEqual(r.sent.purchased!.rate);
    }
    // every row of the figures is a row of the section's table
    const section = html.slice(html.indexOf('<section id="campaign-response">'), html.indexOf('<section id="best-customers">'));
    expect(section.match(/<tr><td>/g)).toHaveLength(rows.length);
    const json = JSON.parse(files['report.json']) as typeof figures;
    expect(json.campaignResponse).toEqual(JSON.parse(JSON.stringify(figures.campaignResponse)));
  });

  it('shows winback by reason and offer and the reasons by month of the 12 months up to the run date, as clm winback-report has them', async () => {
    const { files, figures } = await built;
    const w = figures.winback!;
    expect(w).toMatchObject({ from: '2025-12', to: '2026-11' });
    expect(Object.keys(w.reasonsByMonth)).toHaveLength(12);
    expect(Object.values(w.reasonsByMonth).reduce((n, m) => n + Object.values(m).reduce((a, b) => a + b, 0), 0)).toBe(w.leavers);
    expect(Object.keys(w.byOffer).sort()).toEqual(['generic-return', 'network-fix-news', 'price-discount', 'service-apology']);
    const json = JSON.parse(files['report.json']) as typeof figures;
    expect(json.winback).toEqual(w);
    const html = files['report.html'];
    const section = html.slice(html.indexOf('<section id="winback">'));
    const price = w.byReason.price!.all;
    expect(section).toContain(`<td>price</td><td>${price.returned} of ${price.leavers}: ${((price.returned / price.leavers) * 100).toFixed(1)} %`);
    // built from a stored aggregate alone: the section says it was not read
    const alone = await buildReport(stored, {}, new Date('2026-12-01T05:00:00Z'));
    expect(alone.figures.winback).toBeUndefined();
    expect(alone.files['report.html']).toContain('<section id="winback"><h2>Winback</h2>\n<p>Not read');
  });

  it('exports the top decile as a segment definition and a file of non-personal attributes', async () => {
    const { files, figures } = await built;
    const segment = JSON.parse(files['lookalike-segment.json']);
    expect(segment).toMatchObject({ name: 'top-clv-decile', rule: { valueTier: 'top' }, attributes: ['kind', 'locale', 'products', 'tenure', 'orders'] });
    expect(segment.profile.meanTenureMonths.segment).toBeGreaterThan(0);
    const csv = files['lookalike-top-decile.csv'].trimEnd().split('\r\n');
    expect(csv[0]).toBe('kind,locale,products,tenure,orders,customers');
    const counted = csv.slice(1).reduce((s, line) => s + Number(line.split(',').at(-1)), 0);
    expect(counted + figures.bestCustomers.lookalike.suppressed).toBe(figures.bestCustomers.top.customers);
    for (const line of csv.slice(1)) expect(Number(line.split(',').at(-1))).toBeGreaterThanOrEqual(5);
    expect(files['lookalike-top-decile.csv']).not.toMatch(/C\d{5}|@/);
  });

  it('writes CSV cells safe from formula injection', () => {
    expect(toCsv(['a', 'b'], [['=1+1', 'x,"y"'], ['-2', 'ok']])).toBe(`a,b\r\n'=1+1,"x,""y"""\r\n'-2,ok\r\n`);
  });
});
