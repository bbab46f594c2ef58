/**
 * The figures of a local run that a test can pin exactly for a fixed seed and clock: events
 * stored, rejections by code, triggers fired by rule, emails sent, and emails not sent by
 * reason. Written as JSON by `npm start -- --figures FILE` (and, with the events published and
 * each night's figures, by `--summary-json FILE`).
 */
import { REJECTED_QUEUE, type LocalStack } from './local-stack.ts';

export type RunFigures = {
  /** EVT# items inserted (backfill, ingest and the stack's own records), counted on the table stream. */
  eventsStored: number;
  /** Of those, the events the stack recorded itself (consent changes of its double opt-in requests and pages, exit-survey answers). */
  eventsRecordedByStack: number;
  /** Distinct raw events rejected by ingest, by code (ingest sends each once; a repeat from the window between send and ledger would count once). */
  rejectedByCode: Record<string, number>;
  /** Distinct triggers (by triggerId) put on the bus, by rule. */
  triggersByRule: Record<string, number>;
  emailsSent: number;
  /** Distinct sends (by sendId) not sent, from EmailSkipped, by reason (control-group hold-backs under their reason). */
  skippedByReason: Record<string, number>;
};

/** One nightly run of `npm start -- --nights N`, from the state machine's result. */
export type NightFigures = {
  runId: string;
  runDate: string;
  customersRead: number;
  /** Score items written (a value moved past its threshold). */
  written: number;
  skipped: number;
  failed: number;
  /** CustomerRescored events emitted. */
  emitted: number;
  consumedReadUnits: number;
  consumedWriteUnits: number;
  /** Wall time of the state machine's execution. */
  durationMs: number;
  /** The fit step's outcome (e.g. fitted), or 'not run' when the execution failed. */
  modelStatus: string;
  /** 1: scored with the night before's model while gathering (docs/scoring.md, one pass); 2: gather, fit, score; 0 when the execution failed. */
  passes: number;
  /** Why the execution failed, when it did. */
  error?: string;
};

/** What `npm start -- --summary-json FILE` writes: the Summary block's figures and each night's. */
/** What the backfill of the run's history (or --import files) did, over its files. */
export type BackfillFigures = { files: number; rowsRead: number; rowsRejected: number; eventsStored: number; duplicates: number; customersWritten: number; failedBatches: number; durationMs: number };

export type RunSummary = RunFigures & {
  backfill: BackfillFigures;
  eventsPublished: number;
  eventsAcceptedByBus: number;
  eventsRejectedByBus: number;
  nights: NightFigures[];
};

const countBy = (values: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const v of [...values].sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
};

export async function runFigures(stack: LocalStack): Promise<RunFigures> {
  const c = await stack.counters();
  /** The emitted events of a type, once per id (a retried publish may put one on the bus twice). */
  const emitted = (type: string, ...ids: string[]) => [
    ...new Map(
      stack.bus.emitted.filter((e) => e['detail-type'] === type).map((e) => [ids.map((id) => String((e.detail as Record<string, unknown>)[id])).join('/'), e.detail as Record<string, unknown>]),
    ).values(),
  ];
  const rejected = new Map<string, string>();
  for (const m of stack.queues.get(REJECTED_QUEUE)!.history) {
    const b = JSON.parse(m.body) as { code: string; event: string };
    rejected.set(b.event, b.code);
  }
  return {
    eventsStored: stack.trace.storedEvents,
    eventsRecordedByStack: stack.trace.stackRecordedEvents,
    rejectedByCode: countBy([...rejected.values()]),
    triggersByRule: countBy(emitted('ChurnTriggerFired', 'triggerId').map((d) => String(d.rule))),
    emailsSent: c.emailsSent,
    // A send id is unique per customer (the nightly's `nba#<action>#<day>` is the same for every customer).
    skippedByReason: countBy(emitted('EmailSkipped', 'customerId', 'sendId').map((d) => String(d.reason))),
  };
}
