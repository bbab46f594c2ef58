/**
 * The seeded random source of the synthetic data: the models' own simulator
 * PRNG (xoshiro128**, with its normal and gamma samplers) plus the small
 * helpers the generator needs. Pure: the same seed gives the same sequence.
 */
import { Rng } from '../../shared/clv/simulate.ts';

export type Random = ReturnType<typeof createRandom>;

export function createRandom(seed: number) {
  const rng = new Rng(seed);
  const next = (): number => rng.uniform();
  const normal = (): number => rng.normal();
  /** Gamma(shape, scale). */
  const gamma = (shape: number, scale = 1): number => rng.gamma(shape) * scale;
  return {
    next,
    normal,
    gamma,
    beta: (a: number, b: number): number => rng.beta(a, b),
    /** Exponential with the given rate. */
    exponential: (rate: number): number => rng.exponential(rate),
    poisson: (mean: number): number => {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
    logNormal: (median: number, sigma: number): number => median * Math.exp(sigma * normal()),
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    weighted: <T extends string>(weights: Record<T, number>): T => {
      const entries = Object.entries(weights) as [T, number][];
      const total = entries.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [k, w] of entries) {
        r -= w;
        if (r < 0) return k;
      }
      return entries[entries.length - 1][0];
    },
  };
}
