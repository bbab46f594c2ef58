/**
 * The defaults of the business rules and the stack's retention, defined once.
 * The guardrails, the trigger rules, the DynamoDB adapter, the functions'
 * settings, the CDK settings (infra/settings.ts), the local stack and the
 * synthetic generator all read them from here; docs/deploy.md documents the
 * ones a deployment can change.
 */
export const defaults = {
  /** Share of eligible customers held out of each campaign as a control group, in percent. */
  controlGroupPercent: 10,
  /** Names the control-group draw (the hash salt with the campaign): a new name draws a new group. */
  controlGroupExperiment: 'v1',
  /** At most this many marketing emails per customer in any 7 days. */
  frequencyCapPerWeek: 2,
  /** The same campaign goes to a customer at most once in this many days. */
  cooldownDays: { 'retention-save': 30, 'winback-counter-offer': 90, 'winback-sequence': 30 },
  /** Share of all customers held out of every marketing email (the global holdout), in percent. */
  holdoutPercent: 5,
  /** Names the global holdout draw (the hash salt): a new name draws a new group. */
  holdoutExperiment: 'v1',
  /** Local hours (the customer's time zone) in which no email goes out: from `startHour` to `endHour`. */
  quietHours: { startHour: 21, endHour: 8 },
  /**
   * The deliverability circuit breaker: marketing pauses when, over the last `windowHours`, at least
   * `minSends` emails went and the bounce or complaint rate reached these (80% of SES's review
   * thresholds of 5% and 0.1%); it is looked at again after `pauseMinutes`.
   */
  circuitBreaker: { windowHours: 24, minSends: 200, bounceRate: 0.04, complaintRate: 0.0008, pauseMinutes: 60 },
  /** Only events that happened within this many days fire churn triggers (the freshness window). */
  triggerFreshnessDays: 14,
  /** Days a stored business event is kept in the table before TTL removes it. */
  eventRetentionDays: 400,
  /** Days triggers and send-ledger entries are kept. */
  ledgerRetentionDays: 400,
  /** Seconds a claimed send is held before another worker may take it over. */
  sendLeaseSeconds: 120,
  /**
   * Minutes after its SES call a send-ledger entry still `submitted` (no SES event of the email
   * confirmed it) is known not to have been taken by SES, and is sent again: far beyond the
   * sending function's 60-second timeout, SES's event latency and the feedback queue's age alarm (30 minutes).
   */
  submittedTimeoutMinutes: 180,
  /** Seconds a claimed rejection is held before another worker may take it over (longer than ingest's 30-second timeout). */
  rejectionLeaseSeconds: 60,
  /** Days a rejection is remembered, so a redelivery is not rejected twice: the longest SQS keeps a message (14 days). */
  rejectionRetentionDays: 14,
  /** Months a winback permission (a "yes" to "may we contact you later?") lasts unless its record says otherwise. */
  winbackPermissionMonths: 24,
  /** Days after the cancellation at which the winback sequence's counter-offers go out. */
  winbackDelaysDays: [14, 60, 180],
  /** A former customer with at least this CLV (the nightly score) gets a personal-outreach task instead of the winback email. */
  winbackHighValueMinClv: 1000,
  /** Hours back from now a timer sweep reads (shared/adapters/dynamodb-timer-store.ts): covers a sweeper stopped this long. */
  timerLookbackHours: 72,
  /** Days after its due time a timer item expires (pending ones fire long before; fired ones are the record that they did). */
  timerRetentionDays: 90,
} as const;
