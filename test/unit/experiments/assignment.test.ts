/**
 * The assignment's distribution. Every check is deterministic (fixed id sets,
 * seeded random ids), with bounds a fair coin would break with probability
 * about 1e-6 or less, so a failure means the hash is not mixing. The same
 * checks run on the FNV-1a assignment this replaced, and must catch it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignmentPoint, isAssigned } from '../../../shared/experiments/assignment.ts';
import { controlGroupSalt, inControlGroup } from '../../../shared/campaigns/guardrails.ts';
import { fnv1a } from '../../../shared/hash.ts';

type Assign = (id: string, salt: string, percent: number) => boolean;
/** The control group before: FNV-1a without a final mix. */
const fnvAssign: Assign = (id, salt, percent) => (fnv1a(`${salt}:${id}`) / 2 ** 32) * 100 < percent;

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
const pad = (i: number, w: number) => String(i).padStart(w, '0');
const idSets: Record<string, string[]> = {
  'sequential CTRL-0000…9999': range(10_000, (i) => `CTRL-${pad(i, 4)}`),
  'sequential CTRL-000…999': range(1_000, (i) => `CTRL-${pad(i, 3)}`),
  'sequential 1…10000 (no padding)': range(10_000, (i) => String(i + 1)),
  'prefixed BURST-000…999': range(1_000, (i) => `BURST-${pad(i, 3)}`),
  'prefixed customer-<n>@example.com': range(5_000, (i) => `customer-${i}@example.com`),
  'random uuids': fc.sample(fc.uuid(), { numRuns: 10_000, seed: 20261201 }),
  'random strings': [...new Set(fc.sample(fc.string({ minLength: 1, maxLength: 24 }), { numRuns: 10_000, seed: 7 }))],
};
const SALT = controlGroupSalt('retention-save', 'v1');
/** About 4.9 standard deviations: a two-sided tail of 1e-6. */
const Z = 4.89;
/** The 1 − 1e-6 quantile of χ² with one degree of freedom (= Z²). */
const CHI2_1 = Z * Z;

/** Share assigned, and whether it lies within Z standard deviations of `percent`. */
function shareCheck(ids: string[], assign: Assign, salt: string, percent: number) {
  const p = percent / 100;
  const k = ids.filter((id) => assign(id, salt, percent)).length;
  const sd = Math.sqrt(ids.length * p * (1 - p));
  return { share: k / ids.length, ok: Math.abs(k - ids.length * p) <= Z * sd };
}

/** The longest run of equal assignments in id order against the bound n·p^L ≤ 1e-6 of a Bernoulli sequence. */
function runCheck(ids: string[], assign: Assign, salt: string, percent: number) {
  const xs = ids.map((id) => assign(id, salt, percent));
  const longest = { in: 0, out: 0 };
  let run = 0;
  xs.forEach((x, i) => {
    run = i > 0 && x === xs[i - 1] ? run + 1 : 1;
    const side = x ? 'in' : 'out';
    longest[side] = Math.max(longest[side], run);
  });
  const p = percent / 100;
  const bound = (q: number) => Math.ceil(Math.log(1e-6 / ids.length) / Math.log(q));
  return { longest, bound: { in: bound(p), out: bound(1 - p) }, ok: longest.in < bound(p) && longest.out < bound(1 - p) };
}

/** χ² of a 2×2 table of booleans pairs against the product of its marginals. */
function chiSquare2x2(pairs: [boolean, boolean][]): number {
  const n = pairs.length;
  const cell = [
    [0, 0],
    [0, 0],
  ];
  for (const [a, b] of pairs) cell[+a]![+b]!++;
  const row = [cell[0]![0]! + cell[0]![1]!, cell[1]![0]! + cell[1]![1]!];
  const col = [cell[0]![0]! + cell[1]![0]!, cell[0]![1]! + cell[1]![1]!];
  let chi = 0;
  for (const i of [0, 1]) for (const j of [0, 1]) {
    const expected = (row[i]! * col[j]!) / n;
    chi += (cell[i]![j]! - expected) ** 2 / expected;
  }
  return chi;
}

/** Serial independence: each id's assignment against its neighbour's, in id order. */
const serialChi = (ids: string[], assign: Assign, salt: string, percent: number) => {
  const xs = ids.map((id) => assign(id, salt, percent));
  return chiSquare2x2(xs.slice(1).map((x, i) => [xs[i]!, x]));
};

describe('isAssigned: share within binomial bounds, no runs, no serial dependence', () => {
  for (const [name, ids] of Object.entries(idSets)) {
    it(`${name}: 1%, 10% and 50%`, () => {
      for (const percent of [1, 10, 50]) {
        expect(shareCheck(ids, isAssigned, SALT, percent), `${percent}%`).toMatchObject({ ok: true });
        expect(runCheck(ids, isAssigned, SALT, percent), `${percent}%`).toMatchObject({ ok: true });
        if (percent >= 10) expect(serialChi(ids, isAssigned, SALT, percent), `${percent}%`).toBeLessThan(CHI2_1);
      }
    });
  }

  it('points are uniform on [0, 1): χ² over 100 equal buckets', () => {
    const ids = idSets['sequential CTRL-0000…9999']!;
    const counts = new Array<number>(100).fill(0);
    for (const id of ids) counts[Math.floor(assignmentPoint(id, SALT) * 100)]!++;
    const e = ids.length / 100;
    const chi = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    // Wilson–Hilferty: the 1 − 1e-6 quantile of χ² with 99 degrees of freedom (≈ 174).
    const df = 99;
    const limit = df * (1 - 2 / (9 * df) + 4.75 * Math.sqrt(2 / (9 * df))) ** 3;
    expect(chi).toBeLessThan(limit);
  });
});

describe('isAssigned: independence between salts', () => {
  const ids = idSets['sequential CTRL-0000…9999']!;
  it.each([
    ['a new experiment', controlGroupSalt('retention-save', 'v1'), controlGroupSalt('retention-save', 'v2')],
    ['another campaign', controlGroupSalt('retention-save', 'v1'), controlGroupSalt('winback-counter-offer', 'v1')],
  ])('%s reshuffles: the 2×2 table of assignments is close to the product of its marginals', (_name, a, b) => {
    for (const percent of [10, 50]) {
      const chi = chiSquare2x2(ids.map((id) => [isAssigned(id, a, percent), isAssigned(id, b, percent)]));
      expect(chi, `${percent}%`).toBeLessThan(CHI2_1);
    }
    // In both 10% groups: about 1%.
    const both = ids.filter((id) => isAssigned(id, a, 10) && isAssigned(id, b, 10)).length;
    expect(Math.abs(both - ids.length * 0.01)).toBeLessThanOrEqual(Z * Math.sqrt(ids.length * 0.01 * 0.99));
  });
});

describe('the checks catch the FNV-1a assignment this replaced', () => {
  it('BURST-000…999 gets 17.5% for 10%, CTRL-000…999 6.3%, and neighbouring ids fall in and out together', () => {
    const fnvSalt = 'retention-save';
    const burst = idSets['prefixed BURST-000…999']!;
    const ctrl = idSets['sequential CTRL-000…999']!;
    expect(shareCheck(burst, fnvAssign, fnvSalt, 10)).toEqual({ share: 0.175, ok: false });
    expect(shareCheck(ctrl, fnvAssign, fnvSalt, 10).share).toBe(0.063);
    expect(runCheck(burst, fnvAssign, fnvSalt, 10).ok).toBe(false);
    expect(runCheck(ctrl, fnvAssign, fnvSalt, 10).ok).toBe(false);
    expect(serialChi(idSets['sequential CTRL-0000…9999']!, fnvAssign, fnvSalt, 10)).toBeGreaterThan(CHI2_1);
  });
});

describe('assignment basics', () => {
  it('is deterministic and in [0, 1)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string().filter((s) => !s.includes('\0')), (id, salt) => {
        const p = assignmentPoint(id, salt);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(1);
        expect(assignmentPoint(id, salt)).toBe(p);
      }),
    );
  });

  it('0% assigns nobody and 100% everybody; a percent outside 0–100 or a salt with NUL is refused', () => {
    const ids = idSets['random uuids']!.slice(0, 1000);
    expect(ids.some((id) => isAssigned(id, SALT, 0))).toBe(false);
    expect(ids.every((id) => isAssigned(id, SALT, 100))).toBe(true);
    expect(() => isAssigned('c', SALT, 101)).toThrow(RangeError);
    expect(() => isAssigned('c', SALT, Number.NaN)).toThrow(RangeError);
    expect(() => assignmentPoint('c', 'a\0b')).toThrow(/NUL/);
  });

  it('the control group is the assignment under the campaign and experiment salt, and grows monotonically with the percent', () => {
    for (const id of idSets['prefixed BURST-000…999']!) {
      expect(inControlGroup(id, 'retention-save', 10)).toBe(isAssigned(id, 'control-group/retention-save/v1', 10));
      expect(inControlGroup(id, 'retention-save', 10, 'v2')).toBe(isAssigned(id, 'control-group/retention-save/v2', 10));
      if (inControlGroup(id, 'retention-save', 5)) expect(inControlGroup(id, 'retention-save', 10)).toBe(true);
    }
  });
});
