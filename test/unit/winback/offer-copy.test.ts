import { describe, expect, it } from 'vitest';
import { renderEmail } from '../../../shared/campaigns/messages.ts';
import { emptyProfile } from '../../../shared/customers/profile.ts';
import { offerByReason } from '../../../shared/winback/sequence.ts';
import { offerCopy, offerOf } from '../../../shared/winback/offer-copy.ts';
import { churnTrigger } from '../../support/events.ts';

const step = (offer: string) => ({ reasons: [`winback step 2: offer ${offer}`, 'left: price'] });

describe('the words of a winback counter-offer', () => {
  it('reads the offer from the trigger', () => {
    expect(offerOf(step('price-discount-premium-2'))).toBe('price-discount-premium-2');
    expect(offerOf({ reasons: ['cancelled: price'] })).toBeUndefined();
  });

  it('every reason\'s offer has its own words; premium offers more; an unknown offer is the welcome back', () => {
    const texts = Object.values(offerByReason).map((o) => offerCopy('Ann', step(`${o}-1`)).lines.join(' '));
    expect(new Set(texts).size).toBe(new Set(Object.values(offerByReason)).size);
    expect(offerCopy('Ann', step('price-discount-1'))).toEqual({
      subject: 'Ann, a better price is waiting',
      lines: ['Hi Ann,', 'When you left, you said we could get in touch.', 'Come back and your first three months are at half price.'],
    });
    expect(offerCopy('Ann', step('price-discount-premium-1')).lines[2]).toBe('Come back and your first six months are at half price.');
    expect(offerCopy('Ann', step('network-fix-news-3')).subject).toBe('Ann, the network has been fixed');
    expect(offerCopy('Ann', { reasons: [] }).subject).toBe('Ann, we would love to have you back');
  });

  it('is the winback-sequence campaign\'s email, with the unsubscribe headers', () => {
    const trigger = churnTrigger('c-1', 'e', { rule: 'winback-sequence', action: 'winback', reasons: step('network-fix-news-2').reasons });
    const profile = { ...emptyProfile('c-1'), firstName: { value: 'Bo', at: '2026-01-01T00:00:00Z', by: 'e' } };
    const m = renderEmail({ campaign: 'winback-sequence', trigger, profile, sendId: 's-1', links: { unsubscribeBaseUrl: 'https://e/u', helpBaseUrl: 'https://e/h' } });
    expect(m.subject).toBe('Bo, the network has been fixed');
    expect(m.text).toContain('We have upgraded the network where you live.');
    expect(m.headers.map((h) => h.name)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
    expect(m.tags).toEqual([{ name: 'campaign', value: 'winback-sequence' }, { name: 'rule', value: 'winback-sequence' }]);
  });
});
