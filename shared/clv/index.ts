/**
 * Customer value models — public API. Pure TypeScript, no I/O and no AWS.
 *
 *  - BG/NBD (ad-hoc buyers): fitBgNbd, probabilityAlive, expectedPurchases, probabilityOfPurchases
 *  - Gamma-Gamma (spend): fitGammaGamma, expectedAverageSpend
 *  - CLV: customerLifetimeValue
 *  - sBG (subscriptions): fitSbgCohort, fitSbgTenures, sbgSurvivalCurve, sbgDerl, sbgClv
 *  - churn risk: adHocChurnRisk, subscriptionChurnRisk, raiseChurnRisk
 *  - summaries from transactions, holdout validation, value tiers, simulators
 */
export * from './errors.ts';
export * from './rfm.ts';
export * from './optimize.ts';
export * from './hyp2f1.ts';
export * from './bgnbd.ts';
export * from './gamma-gamma.ts';
export * from './clv.ts';
export * from './sbg.ts';
export * from './churn.ts';
export * from './tiers.ts';
export * from './summary.ts';
export * from './validation.ts';
export * from './simulate.ts';
export * from './score.ts';
