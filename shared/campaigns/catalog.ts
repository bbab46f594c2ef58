/**
 * The campaign catalog: which campaigns exist, whether each is marketing,
 * service or transactional, its cooldown, and the offers (with their copy per
 * locale). It is configuration, not code: `templates/campaigns.json`, validated
 * here (at synth time, in tests and when the campaigns function starts).
 * docs/campaigns.md describes every field. Pure.
 */
import { z } from 'zod';
import { nextActions } from '../events/catalog.ts';

export const campaignNames = [
  'welcome',
  'retention-save',
  'winback-counter-offer',
  'winback-sequence',
  'cross-sell',
  'up-sell',
  'down-sell',
  'usage-stimulation',
  'education',
  'reward',
  'statement',
  'invoice',
  'collection-notice',
] as const;
export type CampaignName = (typeof campaignNames)[number];

/**
 * - marketing: needs email marketing consent; counts against the frequency cap; held out
 *   by the global holdout and the campaign's control group; paused by the circuit breaker.
 * - transactional: statements, invoices, notices: goes without marketing consent (its offer
 *   block is dropped then), exempt from the cap, holdout, control group and breaker.
 * - service: the welcome (double opt-in request): goes unless the customer refused marketing
 *   email; exempt from the cap, holdout, control group and breaker.
 */
export const purposes = ['marketing', 'transactional', 'service'] as const;
export type Purpose = (typeof purposes)[number];

const customerTypes = ['subscription', 'adhoc'] as const;
export type CustomerType = (typeof customerTypes)[number];

/** A locale tag as templates are named: `en`, `de`, `pt-BR`. */
const localeTag = z.string().regex(/^[a-z]{2,3}(-[A-Z][A-Za-z0-9]{1,7})?$/, 'a locale like en or pt-BR');

const offerCopy = z.object({ headline: z.string().min(1).max(200), body: z.string().min(1).max(2000) }).strict();

const offer = z
  .object({
    /** Campaigns whose emails may carry the offer (a transactional one: as its offer block). */
    campaigns: z.array(z.enum(campaignNames)).min(1),
    customerTypes: z.array(z.enum(customerTypes)).min(1),
    copy: z.record(localeTag, offerCopy),
  })
  .strict();

const campaign = z
  .object({
    purpose: z.enum(purposes),
    /** The same campaign goes to a customer at most once in this many days (0: no cooldown). */
    cooldownDays: z.number().int().nonnegative(),
    description: z.string().min(1),
  })
  .strict();

export const campaignCatalogSchema = z
  .object({
    defaultLocale: localeTag,
    campaigns: z.object(Object.fromEntries(campaignNames.map((n) => [n, campaign])) as Record<CampaignName, typeof campaign>).strict(),
    offers: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), offer),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [id, o] of Object.entries(c.offers)) {
      if (!o.copy[c.defaultLocale]) ctx.addIssue({ code: 'custom', path: ['offers', id, 'copy'], message: `offer "${id}" has no copy in the default locale ${c.defaultLocale}` });
    }
  });

export type CampaignCatalog = z.infer<typeof campaignCatalogSchema>;
export type Offer = CampaignCatalog['offers'][string];

export function parseCampaignCatalog(input: unknown): CampaignCatalog {
  const parsed = campaignCatalogSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`templates/campaigns.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export const isCampaignName = (name: string): name is CampaignName => (campaignNames as readonly string[]).includes(name);

/** The campaign a next best action (of a churn trigger or the nightly run) becomes; `none` becomes none. */
export const campaignOfAction: Record<(typeof nextActions)[number], CampaignName | undefined> = {
  'retention-save': 'retention-save',
  winback: 'winback-counter-offer',
  education: 'education',
  'usage-stimulation': 'usage-stimulation',
  'cross-sell': 'cross-sell',
  'up-sell': 'up-sell',
  'down-sell': 'down-sell',
  reward: 'reward',
  // Put right what went wrong (a stuck order, repeated returns): the retention save's apology and offer.
  'service-recovery': 'retention-save',
  // Several warning signs around paying: the collection notice's payment-plan or right-sizing option.
  'payment-help': 'collection-notice',
  none: undefined,
};

/**
 * The offer an email of `campaign` carries for this customer type: for a transactional
 * campaign, the offer of the customer's next best action when one fits (seed 000: the
 * statement carries the personal message), else the first offer listed for the campaign.
 */
export function chooseOffer(
  catalog: CampaignCatalog,
  input: { campaign: CampaignName; customerType: CustomerType; nextBestAction?: (typeof nextActions)[number]; offerId?: string },
): { id: string; offer: Offer } | undefined {
  // An offer the request names (a winback step's, chosen by the leaving reason) when it is one of this campaign's.
  const named = input.offerId ? catalog.offers[input.offerId] : undefined;
  if (named && named.campaigns.includes(input.campaign)) return { id: input.offerId!, offer: named };
  const fits = (c: CampaignName) =>
    Object.entries(catalog.offers).find(([, o]) => o.campaigns.includes(c) && o.customerTypes.includes(input.customerType));
  const purpose = catalog.campaigns[input.campaign].purpose;
  const nba = input.nextBestAction ? campaignOfAction[input.nextBestAction] : undefined;
  const found = (purpose === 'transactional' && nba ? fits(nba) : undefined) ?? fits(input.campaign);
  return found ? { id: found[0], offer: found[1] } : undefined;
}

import catalogJson from '../../templates/campaigns.json' with { type: 'json' };

/** The repository's catalog (templates/campaigns.json), validated when this module loads. */
export const defaultCatalog: CampaignCatalog = parseCampaignCatalog(catalogJson);
