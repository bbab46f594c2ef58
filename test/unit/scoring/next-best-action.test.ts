import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextActions } from '../../../shared/events/catalog.ts';
import { defaultScoringConfig, parseScoringConfig } from '../../../shared/scoring/config.ts';
import { type NbaFacts, chooseNextBestAction, defaultNbaPolicy, valueTiers } from '../../../shared/scoring/next-best-action.ts';
import { riskBands } from '../../../shared/scoring/risk.ts';
import { repoRoot } from '../../clv/helpers.ts';

const facts = (over: Partial<NbaFacts>): NbaFacts => ({
  kind: 'adhoc',
  active: true,
  riskBand: 'low',
  valueTier: 'medium',
  triggerActions: [],
  winbackPermitted: false,
  unusedPaidProduct: false,
  usageDeclining: false,
  repeatPurchases: 3,
  tenureMonths: 12,
  products: 2,
  ...over,
});

describe('default next-best-action policy (the table in docs/scoring.md)', () => {
  const cases: [string, Partial<NbaFacts>, string, string][] = [
    ['subscription', { kind: 'subscription', active: false, winbackPermitted: true }, 'winback', 'winback-permitted'],
    ['subscription', { kind: 'subscription', active: false }, 'none', 'ended'],
    ['subscription', { kind: 'subscription', triggerActions: ['retention-save'], valueTier: 'top' }, 'retention-save', 'trigger-save'],
    ['subscription', { kind: 'subscription', riskBand: 'high', valueTier: 'medium' }, 'retention-save', 'high-risk-save'],
    ['subscription', { kind: 'subscription', riskBand: 'high', valueTier: 'low' }, 'none', 'default'],
    ['subscription', { kind: 'subscription', unusedPaidProduct: true }, 'education', 'unused-product'],
    ['subscription', { kind: 'subscription', usageDeclining: true, riskBand: 'medium' }, 'down-sell', 'right-size'],
    ['subscription', { kind: 'subscription', usageDeclining: true }, 'usage-stimulation', 'stimulate-usage'],
    ['subscription', { kind: 'subscription', tenureMonths: 1 }, 'education', 'new-subscriber'],
    ['subscription', { kind: 'subscription', valueTier: 'top', tenureMonths: 24 }, 'reward', 'loyal-top'],
    ['subscription', { kind: 'subscription', valueTier: 'top', tenureMonths: 6 }, 'up-sell', 'grow-valuable'],
    ['subscription', { kind: 'subscription', products: 1 }, 'cross-sell', 'widen'],
    ['subscription', { kind: 'subscription', riskBand: 'medium' }, 'none', 'default'],
    ['adhoc', { triggerActions: ['retention-save'] }, 'retention-save', 'trigger-save'],
    ['adhoc', { valueTier: 'lapsed', active: false }, 'winback', 'lapsed'],
    ['adhoc', { riskBand: 'high', valueTier: 'top' }, 'retention-save', 'high-risk-save'],
    ['adhoc', { repeatPurchases: 0, tenureMonths: 1 }, 'education', 'first-purchase'],
    ['adhoc', { valueTier: 'top' }, 'reward', 'loyal-top'],
    ['adhoc', { valueTier: 'high' }, 'up-sell', 'grow-valuable'],
    ['adhoc', { valueTier: 'medium', riskBand: 'medium' }, 'cross-sell', 'widen'],
    ['adhoc', { valueTier: 'low', riskBand: 'high' }, 'usage-stimulation', 'buy-again'],
    ['adhoc', { valueTier: 'low' }, 'none', 'default'],
  ];
  it.each(cases)('%s %j → %s (%s)', (_kind, over, action, ruleId) => {
    expect(chooseNextBestAction(defaultNbaPolicy, facts(over))).toEqual({ action, ruleId });
  });

  it('subscription customers and ad-hoc buyers are treated differently for the same facts', () => {
    const f = { active: false, winbackPermitted: false, valueTier: 'lapsed' as const };
    expect(chooseNextBestAction(defaultNbaPolicy, facts({ ...f, kind: 'subscription' })).action).toBe('none');
    expect(chooseNextBestAction(defaultNbaPolicy, facts({ ...f, kind: 'adhoc' })).action).toBe('winback');
  });

  it('every customer gets an action (property)', () => {
    const anyFacts = fc.record({
      kind: fc.constantFrom('adhoc' as const, 'subscription' as const),
      active: fc.boolean(),
      riskBand: fc.constantFrom(...riskBands),
      valueTier: fc.constantFrom(...valueTiers),
      triggerActions: fc.subarray([...nextActions]),
      winbackPermitted: fc.boolean(),
      unusedPaidProduct: fc.boolean(),
      usageDeclining: fc.boolean(),
      repeatPurchases: fc.nat(50),
      tenureMonths: fc.double({ min: 0, max: 200, noNaN: true }),
      products: fc.nat(5),
    });
    fc.assert(
      fc.property(anyFacts, (f) => {
        expect(nextActions).toContain(chooseNextBestAction(defaultNbaPolicy, f).action);
      }),
    );
  });
});

describe('docs/scoring.md', () => {
  it('prints the default policy: the same rules, in the same order, with the same actions', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/scoring.md'), 'utf8');
    const table = (heading: string) => {
      const from = doc.indexOf(heading);
      expect(from).toBeGreaterThan(-1);
      const rows: [string, string][] = [];
      for (const line of doc.slice(from).split('\n').slice(1)) {
        const m = /^\| (\d+) \| ([a-z-]+) \| .* \| ([a-z-]+)(?: \(.*\))? \|$/.exec(line);
        if (m) rows.push([m[2]!, m[3]!]);
        else if (rows.length > 0 && !line.startsWith('|')) break;
      }
      return rows;
    };
    expect(table('Default policy, subscription customers:')).toEqual(defaultNbaPolicy.subscription.map((r) => [r.id, r.action]));
    expect(table('Ad-hoc buyers:')).toEqual(defaultNbaPolicy.adhoc.map((r) => [r.id, r.action]));
  });
});

describe('the policy is configuration', () => {
  it('the defaults are the documented policy', () => {
    expect(defaultScoringConfig.nextBestAction).toEqual(defaultNbaPolicy);
  });

  it('a configured policy replaces the default', () => {
    const r = parseScoringConfig({
      nextBestAction: {
        subscription: [{ id: 'all', action: 'none' }],
        adhoc: [
          { id: 'recognise-top', action: 'reward', when: { valueTiers: ['top'] } },
          { id: 'rest', action: 'education' },
        ],
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(chooseNextBestAction(r.config.nextBestAction, facts({ valueTier: 'top', triggerActions: ['retention-save'] }))).toEqual({ action: 'reward', ruleId: 'recognise-top' });
    expect(chooseNextBestAction(r.config.nextBestAction, facts({ valueTier: 'low' }))).toEqual({ action: 'education', ruleId: 'rest' });
  });

  it('an invalid policy is refused with reasons', () => {
    const unknown = parseScoringConfig({
      nextBestAction: {
        subscription: [{ id: 'a', action: 'call-them' }, { id: 'b', action: 'none' }],
        adhoc: [{ id: 'x', action: 'reward', when: { valueTiers: ['gold'] } }, { id: 'y', action: 'none' }],
      },
    });
    expect(unknown.ok).toBe(false);
    if (unknown.ok) return;
    expect(unknown.issues).toEqual([
      expect.stringMatching(/^nextBestAction\.subscription\.0\.action: Invalid option/),
      expect.stringMatching(/^nextBestAction\.adhoc\.0\.when\.valueTiers\.0: Invalid option/),
    ]);
    const shape = parseScoringConfig({
      nextBestAction: {
        subscription: [{ id: 'all', action: 'none' }],
        adhoc: [
          { id: 'x', action: 'reward', when: { valueTiers: ['top'] } },
          { id: 'x', action: 'none', when: { riskBands: ['high'] } },
        ],
      },
    });
    expect(shape).toEqual({
      ok: false,
      issues: ['nextBestAction.adhoc.1.id: rule id "x" is used twice', 'nextBestAction.adhoc.1.when: the last rule must have no condition, so every customer gets an action'],
    });
  });

  it('other settings are validated too', () => {
    const r = parseScoringConfig({ churn: { bands: { medium: 0.9, high: 0.8 } }, tiers: { shares: [0.3, 0.2, 0.6] }, outreach: { experimentId: 'has space' }, extra: 1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(4);
  });
});
