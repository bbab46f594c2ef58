/**
 * The OutreachDesk in memory, with the DynamoDB adapter's semantics
 * (shared/adapters/dynamodb-outreach-desk.ts): scores as the nightly run would have written them,
 * and per day a set of claimed triggers bounded by the capacity (claiming again for the same
 * trigger answers `claimed`). For the unit tests.
 */
import type { OutreachClaim, OutreachDesk, ValueSnapshot } from '../ports.ts';

export class InMemoryOutreachDesk implements OutreachDesk {
  readonly scores = new Map<string, ValueSnapshot>();
  readonly tasks = new Map<string, Set<string>>();

  async score(customerId: string): Promise<ValueSnapshot | undefined> {
    const s = this.scores.get(customerId);
    return s && { ...s };
  }

  async claimTask(day: string, triggerId: string, _customerId: string, capacity: number): Promise<OutreachClaim> {
    const claimed = this.tasks.get(day) ?? new Set<string>();
    this.tasks.set(day, claimed);
    if (claimed.has(triggerId)) return 'claimed';
    if (claimed.size >= capacity) return 'full';
    claimed.add(triggerId);
    return 'claimed';
  }
}
