/**
 * What domain code throws when a record cannot be handled *yet* and a later delivery will
 * succeed: the data it needs is on its way (an event ingest has not stored yet), or another
 * worker holds the record's claim (a redelivered message handled twice at once). The functions
 * report such a record for retry like any failed one, but log it at info and count it apart
 * (`RecordsRetriedLater`, functions/commons/batch.ts): it is no fault. One that is still not
 * ready after the queue's receives goes to the dead-letter queue, which is alarmed.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}
