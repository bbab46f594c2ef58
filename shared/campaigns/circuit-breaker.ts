/**
 * The deliverability circuit breaker: marketing email pauses when the bounce or
 * complaint rate over a recent window nears SES's review thresholds (bounce 5%,
 * complaint 0.1%: AWS puts an account under review there and may pause its
 * sending), so one bad list cannot cost the account its transactional mail.
 * Transactional and service email keeps flowing. Pure: the figures come from
 * the sends and the SES feedback counted per hour (the DeliverabilityCounter port).
 */

export type BreakerPolicy = {
  /** Hours of sends and feedback the rates are taken over. */
  windowHours: number;
  /** Below this many sends in the window the rates say too little: the breaker stays closed. */
  minSends: number;
  /** Open at or above this bounce rate (0.04 = 80% of SES's 5%). */
  bounceRate: number;
  /** Open at or above this complaint rate (0.0008 = 80% of SES's 0.1%). */
  complaintRate: number;
  /** A paused marketing send is planned again this many minutes later. */
  pauseMinutes: number;
};

/** Emails sent, and hard bounces and complaints received, over the window. */
export type DeliverabilityFigures = { sends: number; bounces: number; complaints: number };

export type BreakerState = { open: false } | { open: true; reason: string };

export function breakerState(figures: DeliverabilityFigures, policy: BreakerPolicy): BreakerState {
  if (figures.sends < policy.minSends || figures.sends <= 0) return { open: false };
  const bounce = figures.bounces / figures.sends;
  const complaint = figures.complaints / figures.sends;
  if (bounce >= policy.bounceRate) return { open: true, reason: `bounce rate ${(bounce * 100).toFixed(2)}% over ${policy.windowHours} h` };
  if (complaint >= policy.complaintRate) return { open: true, reason: `complaint rate ${(complaint * 100).toFixed(3)}% over ${policy.windowHours} h` };
  return { open: false };
}
