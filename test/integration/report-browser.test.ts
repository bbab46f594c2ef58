/**
 * The HTML report in a real browser: the system's headless Chromium (Debian `chromium`,
 * driven by playwright-core) opens the report written to disk, with the network blocked, and
 * finds its six sections, the verdict and a rendered SVG chart in each figure; a screenshot
 * of the whole page is saved to .local/report-screenshot.png (gitignored).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, readWinbackSection } from '../../shared/report/index.ts';
import { reportFixture, winbackFixture } from '../support/report-fixture.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const SCREENSHOT = path.join(repo, '.local', 'report-screenshot.png');

describe('the HTML report in headless Chromium', () => {
  let browser: Browser;
  let file: string;
  beforeAll(async () => {
    const stored = reportFixture();
    const { files } = await buildReport(stored, {}, new Date('2026-12-01T05:00:00Z'), await readWinbackSection(await winbackFixture(), stored.runDate));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-report-'));
    file = path.join(dir, 'report.html');
    writeFileSync(file, files['report.html']);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows every section and every chart, loading nothing from the network', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(pathToFileURL(file).href);

    const sections = await page.$$eval('section', (els) => els.map((s) => ({ id: s.id, title: s.querySelector('h2')?.textContent })));
    expect(sections).toEqual([
      { id: 'outreach', title: 'Outreach experiment' },
      { id: 'campaign-response', title: 'Campaign response' },
      { id: 'best-customers', title: 'Best customers' },
      { id: 'relationship-length', title: 'Relationship length' },
      { id: 'returns-service', title: 'Returns and service' },
      { id: 'winback', title: 'Winback' },
    ]);
    expect(await page.textContent('#verdict')).toMatch(/^Outreach to the top \d+ at-risk customers .*: (pays|does not pay|not yet measurable)\.$/);
    const response = await page.textContent('#campaign-response');
    expect(response).toContain('opens, clicks and purchases in the 7 days after');
    expect(await page.$$eval('#campaign-response tbody tr', (rows) => rows.length)).toBe(10);
    expect(await page.$$eval('#campaign-response figure[data-chart]', (figs) => figs.map((f) => f.getAttribute('data-chart')))).toEqual(['response-purchase', 'response-engagement']);

    // every figure holds a rendered SVG with marks, laid out with a size
    const charts = await page.$$eval('figure[data-chart]', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: f.getAttribute('data-chart'), marks: svg?.querySelectorAll('path, line, rect, text').length ?? 0, width: box?.width ?? 0, height: box?.height ?? 0 };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual(['outreach-churn', 'outreach-reduction', 'response-purchase', 'response-engagement', 'best-customers', 'survival-segment', 'survival-cohort', 'churn-by-tenure', 'return-reasons', 'service-reasons', 'resolution-time', 'churn-by-reason', 'winback-by-reason', 'winback-by-offer', 'leaving-reasons-by-month']);
    for (const c of charts) {
      expect(c.marks, c.id!).toBeGreaterThan(5);
      expect(c.width, c.id!).toBeGreaterThan(100);
      expect(c.height, c.id!).toBeGreaterThan(100);
    }
    expect(await page.$$eval('#winback h3', (hs) => hs.map((h) => h.textContent))).toEqual(['Winback rate by leaving reason', 'Winback rate by offer', 'Leaving reasons by month']);
    expect(await page.$$eval('#winback figure[data-chart]', (figs) => figs.length)).toBe(3);
    // the hostile return reason is shown as text, not run
    expect(await page.$$eval('script', (els) => els.length)).toBe(0);
    expect(await page.textContent('#returns-service')).toContain('<script>alert("x")</script>');

    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });
});
