import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hyp2f1 } from '../../shared/clv/hyp2f1.ts';
import { HYP2F1_REFERENCE } from './hyp2f1-reference.ts';

describe('hyp2f1', () => {
  it.each(HYP2F1_REFERENCE)('2F1(%s, %s; %s; %s) matches mpmath', (a, b, c, z, ref) => {
    const v = hyp2f1(a, b, c, z);
    expect(Math.abs(v - ref) / Math.abs(ref)).toBeLessThan(1e-10);
  });

  it('closed form 2F1(1,1;2;z) = -ln(1-z)/z over (-1, 1)', () => {
    fc.assert(
      fc.property(fc.double({ min: -0.999, max: 0.9999, noNaN: true }), (z) => {
        fc.pre(Math.abs(z) > 1e-6);
        const ref = -Math.log1p(-z) / z;
        return Math.abs(hyp2f1(1, 1, 2, z) - ref) / ref < 1e-10;
      }),
    );
  });

  it('closed form 2F1(a,b;b;z) = (1-z)^-a', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 20, noNaN: true }), fc.double({ min: -5, max: 0.99, noNaN: true }), (a, b, z) => {
        const ref = Math.pow(1 - z, -a);
        return Math.abs(hyp2f1(a, b, b, z) - ref) / ref < 1e-12;
      }),
    );
  });

  it('closed form 2F1(1/2,1;3/2;z^2) = atanh(z)/z and 2F1(1/2,1/2;3/2;z^2) = asin(z)/z', () => {
    for (const z of [0.1, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]) {
      expect(Math.abs(hyp2f1(0.5, 1, 1.5, z * z) - Math.atanh(z) / z) / (Math.atanh(z) / z)).toBeLessThan(1e-10);
      expect(Math.abs(hyp2f1(0.5, 0.5, 1.5, z * z) - Math.asin(z) / z) / (Math.asin(z) / z)).toBeLessThan(1e-10);
    }
  });

  it('Gauss sum at z = 1 and divergence', () => {
    // 2F1(a,b;c;1) = Γ(c)Γ(c-a-b)/(Γ(c-a)Γ(c-b)); for a=1,b=1,c=3: Γ(3)Γ(1)/(Γ(2)Γ(2)) = 2
    expect(hyp2f1(1, 1, 3, 1)).toBeCloseTo(2, 12);
    expect(hyp2f1(1, 1, 2, 1)).toBe(Infinity);
  });

  it('polynomial case and argument checks', () => {
    // 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z²/(c(c+1))
    const b = 1.7, c = 2.3, z = -3.1;
    expect(hyp2f1(-2, b, c, z)).toBeCloseTo(1 - (2 * b * z) / c + (b * (b + 1) * z * z) / (c * (c + 1)), 12);
    expect(() => hyp2f1(1, 1, 2, 1.5)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, -2, 0.5)).toThrow(RangeError);
    expect(() => hyp2f1(NaN, 1, 2, 0.5)).toThrow(RangeError);
  });
});
