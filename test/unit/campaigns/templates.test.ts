/**
 * The template files: every campaign renders in its default locale with every block present
 * and absent (the same check `cdk synth` runs), producer text is escaped, and a broken
 * template is named by the check and fails to render rather than sending something wrong.
 */
import { describe, expect, it } from 'vitest';
import { campaignNames, chooseOffer, defaultCatalog, parseCampaignCatalog } from '../../../shared/campaigns/catalog.ts';
import { loadTemplateSet } from '../../../shared/campaigns/template-files.ts';
import { checkTemplates, localeCandidates, sampleTemplateData, TemplateRenderer, type TemplateSet } from '../../../shared/campaigns/templates.ts';

const repo = loadTemplateSet();
const withFile = (path: string, source: string | undefined): TemplateSet => {
  const files = { ...repo.files };
  if (source === undefined) delete files[path];
  else files[path] = source;
  return { catalog: repo.catalog, files };
};

describe('the repository templates', () => {
  it('pass the check: every campaign, every locale, every block present and absent', () => {
    expect(checkTemplates(repo)).toEqual([]);
  });

  it('cover every campaign of the catalog in English, and some in German', () => {
    const r = new TemplateRenderer(repo);
    for (const c of campaignNames) expect(r.locales(c)).toContain('en');
    expect(r.locales('statement')).toEqual(['de', 'en']);
    expect(r.locales('retention-save')).toEqual(['de', 'en']);
  });

  it('the catalog file is the default catalog', () => {
    expect(repo.catalog).toEqual(defaultCatalog);
    expect(defaultCatalog.campaigns.statement.purpose).toBe('transactional');
    expect(defaultCatalog.campaigns.welcome.purpose).toBe('service');
    expect(defaultCatalog.campaigns['cross-sell'].purpose).toBe('marketing');
  });
});

describe('rendering one customer', () => {
  const r = new TemplateRenderer(repo);

  it('escapes producer text in HTML, keeps it readable in text, and makes the subject one line', () => {
    const data = { ...sampleTemplateData(false, true), firstName: 'Eve\r\nBcc: x@example.com <script>alert(1)</script>' };
    const out = r.render('retention-save', 'en', data);
    if (!out.ok) throw new Error(out.error);
    expect(out.parts.subject).toBe('Eve Bcc: x@example.com <script>alert(1)</script>, we want to put this right');
    expect(out.parts.html).toContain('Hi Eve Bcc: x@example.com &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(out.parts.html).not.toContain('<script>');
    expect(out.parts.text.split('\n')[0]).toBe('Hi Eve Bcc: x@example.com <script>alert(1)</script>,');
  });

  it('varies on the trigger rule, and drops absent blocks', () => {
    const billing = r.render('retention-save', 'en', { ...sampleTemplateData(false, true), rule: 'billing-complaint' });
    const other = r.render('retention-save', 'en', sampleTemplateData(false, true));
    expect(billing.ok && billing.parts.text).toContain('You contacted us about your bill recently.');
    expect(other.ok && other.parts.text).toContain('We noticed things have not been going as they should');
    expect(other.ok && other.parts.html).not.toContain('Sample offer');
  });

  it('a statement carries the offer block when given one, and no unsubscribe link when it is not marketing', () => {
    const out = r.render('statement', 'en', sampleTemplateData(true, false));
    if (!out.ok) throw new Error(out.error);
    expect(out.parts.subject).toBe('Your statement S-1');
    expect(out.parts.text).toContain('Your statement S-1 is ready: 12.34 EUR.');
    expect(out.parts.text).toContain('** Sample offer **');
    expect(out.parts.html).not.toContain('/u/T');
  });

  it('falls back from a regional locale to its language, then to the default', () => {
    expect(localeCandidates('de-AT', 'en')).toEqual(['de-AT', 'de', 'en']);
    expect(localeCandidates('pt_br', 'en')).toEqual(['pt-BR', 'pt', 'en']);
    expect(localeCandidates('../../etc', 'en')).toEqual(['en']);
    expect(localeCandidates(undefined, 'en')).toEqual(['en']);
    const de = r.render('statement', 'de-AT', sampleTemplateData(false, false));
    expect(de.ok && de.parts).toMatchObject({ locale: 'de', subject: 'Ihre Abrechnung S-1' });
    const en = r.render('cross-sell', 'de-AT', sampleTemplateData(false, true));
    expect(en.ok && en.parts.locale).toBe('en');
  });

  it('fails (and says where) when a template names data the customer does not have', () => {
    const out = r.render('statement', 'en', { ...sampleTemplateData(false, false), document: null });
    expect(out).toEqual({ ok: false, error: expect.stringMatching(/^statement\/en: .*"number" not defined/) });
  });
});

describe('the check names each broken template', () => {
  it.each([
    ['a syntax error', 'up-sell/en.html', '<p>{{#if offer}}</p>', /up-sell\/en: Parse error/],
    ['unknown data', 'reward/en.txt', 'Subject: Thanks\n\n{{loyaltyPoints}}', /reward\/en: .*"loyaltyPoints" not defined/],
    ['no subject line', 'reward/en.txt', 'Thanks\n', /reward\/en\.txt must start with a "Subject: …" line/],
    ['unescaped output', 'reward/en.html', '<p>{{{firstName}}}</p>{{> footer}}', /reward\/en\.html uses an unescaped expression/],
    ['no unsubscribe link in a marketing email', 'reward/en.html', '<p>Hi {{firstName}}</p>', /reward\/en: the body does not carry the unsubscribe link/],
    ['a template of no campaign', 'loyalty/en.html', '<p>hi</p>', /loyalty\/en\.html: not a template of any campaign/],
  ])('%s', (_name, path, source, problem) => {
    expect(checkTemplates(withFile(path, source))).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  it('a campaign without its default-locale template', () => {
    expect(checkTemplates(withFile('invoice/en.txt', undefined))).toEqual(['invoice: no template (.html and .txt) in the default locale en']);
  });
});

describe('the catalog', () => {
  it('refuses an offer without copy in the default locale, and an unknown campaign', () => {
    const raw = structuredClone(repo.catalog) as unknown as { offers: Record<string, { copy: Record<string, unknown>; campaigns: string[] }> };
    raw.offers['save-20']!.copy = { de: { headline: 'x', body: 'y' } };
    expect(() => parseCampaignCatalog(raw)).toThrow('offer "save-20" has no copy in the default locale en');
    const unknown = structuredClone(repo.catalog) as unknown as { offers: Record<string, { campaigns: string[] }> };
    unknown.offers['save-20']!.campaigns = ['loyalty'];
    expect(() => parseCampaignCatalog(unknown)).toThrow(/offers\.save-20\.campaigns\.0/);
  });

  it('chooses offers by campaign and customer type; a statement follows the next best action', () => {
    const id = (i: Parameters<typeof chooseOffer>[1]) => chooseOffer(defaultCatalog, i)?.id;
    expect(id({ campaign: 'retention-save', customerType: 'subscription' })).toBe('save-20');
    expect(id({ campaign: 'retention-save', customerType: 'adhoc' })).toBe('save-free-delivery');
    expect(id({ campaign: 'statement', customerType: 'subscription' })).toBe('up-sell-plan');
    expect(id({ campaign: 'statement', customerType: 'subscription', nextBestAction: 'down-sell' })).toBe('right-size-plan');
    expect(id({ campaign: 'statement', customerType: 'adhoc', nextBestAction: 'usage-stimulation' })).toBe('buy-again');
    expect(id({ campaign: 'collection-notice', customerType: 'adhoc' })).toBe('payment-plan');
    expect(id({ campaign: 'collection-notice', customerType: 'subscription' })).toBe('right-size-plan');
    expect(id({ campaign: 'welcome', customerType: 'adhoc' })).toBeUndefined();
  });
});
