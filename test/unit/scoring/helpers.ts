/** Test helpers for the scoring domain: the CDNOW sample as stored customer profiles. */
import { type CustomerProfile, emptyProfile } from '../../../shared/customers/profile.ts';
import { readLines } from '../../clv/helpers.ts';

/**
 * CDNOW_sample.txt as profiles keyed by the sample id (1..2357): purchase day → dollars
 * spent that day, as ingest folds OrderPlaced events. `until` (YYYY-MM-DD) drops later days.
 */
export function cdnowProfiles(until?: string): Map<string, CustomerProfile> {
  const profiles = new Map<string, CustomerProfile>();
  for (const line of readLines('CDNOW_sample.txt')) {
    const [, sampleId, ymd, , dollars] = line.trim().split(/\s+/);
    const id = String(Number(sampleId));
    const day = `${ymd!.slice(0, 4)}-${ymd!.slice(4, 6)}-${ymd!.slice(6, 8)}`;
    const p = profiles.get(id) ?? emptyProfile(id);
    if (until === undefined || day <= until) p.purchaseDays[day] = (p.purchaseDays[day] ?? 0) + Number(dollars);
    profiles.set(id, p);
  }
  return profiles;
}
