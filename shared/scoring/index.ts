/**
 * Nightly scoring — the pure domain layer (no AWS, no I/O). The nightly run's state
 * machine, handlers and adapters call these; docs/scoring.md describes each piece.
 *
 *  - profile-summary: a customer's model summary from the stored profile; the fit sample
 *  - gathered-summaries: the fit's input as mergeable unique rows with counts
 *  - fit: BG/NBD, Gamma-Gamma and sBG into a model record; a failed fit keeps the previous model
 *  - score-customer: CLV, P(alive), churn risk and band, value tier, potential spend, next best action
 *  - next-best-action: the policy (data, validated) and its evaluation
 *  - score-diff: write only what changed; when to emit CustomerRescored
 *  - outreach: candidates, the mergeable top-N, the nightly quota, treated/control assignment
 *  - run-summary: the mergeable run summary
 *  - config: every setting, validated, with its default
 *  - nightly-run: the run's steps over the ports (gather, fit, score a segment, finish; one pass or two)
 *  - model-drift: what scoring with yesterday's model instead of tonight's changes (measured by the bench)
 */
export * from './config.ts';
export * from './profile-summary.ts';
export * from './gathered-summaries.ts';
export * from './customer-value.ts';
export * from './value-tiers.ts';
export * from './fit.ts';
export * from './risk.ts';
export * from './next-best-action.ts';
export * from './score-customer.ts';
export * from './score-diff.ts';
export * from './outreach.ts';
export * from './run-summary.ts';
export * from './nightly-run.ts';
export * from './nightly-steps.ts';
export * from './model-drift.ts';
