/**
 * The public pages behind signed links (docs/pages.md), transport-free: a
 * request (method, path, content type, body) in, a page and an outcome (for
 * logs and metrics) out. The Lambda handler (functions/pages) and the local
 * stack's HTTP server both feed it.
 *
 * - `/u/TOKEN` one-click unsubscribe (RFC 8058): GET shows a page with a button
 *   and changes nothing (link scanners follow GETs); POST with
 *   `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as mail
 *   providers send it, or the page's button) withdraws marketing email consent
 *   at once, with no login, as a `ConsentChanged` with source `unsubscribe-link`.
 * - `/learn/TOKEN` the personal help page: the services the customer pays for
 *   and does not use, with how-to steps for each (content/pages/learn.json).
 * - `/exit/TOKEN` the exit survey: why they leave (the fixed taxonomy) and
 *   "may we contact you later?", stored as an `ExitSurveyAnswered`.
 * - `/confirm/TOKEN` the welcome's double opt-in: GET shows a button and changes
 *   nothing; POST confirms, a `ConsentChanged` (marketing email granted,
 *   `doubleOptIn: confirmed`, source `double-opt-in`, the page's wording version).
 *
 * The token is checked before anything is read; every failure (tampered,
 * another page's, expired, unknown key) gets the same page, which says nothing
 * about the token or the customer. A customer's answer is validated against
 * the event catalog and stored like any business event (once, keyed on its
 * eventId, folded into the profile: CustomerStore.recordEvent), before the
 * page says it is done.
 */
import { createHash } from 'node:crypto';
import { exitReasons, type InboundDetail } from '../events/catalog.ts';
import { recordOwnEvent } from '../events/record-own-event.ts';
import { activeSubscriptions, hasConsent, unusedPaidProducts, type CustomerProfile } from '../customers/profile.ts';
import type { ConsentPolicy } from '../consent/ledger.ts';
import type { ConsentLedger, CustomerStore, PageKeySource } from '../ports.ts';
import { singleLine } from '../text/control-chars.ts';
import { html, layout, PAGE_HEADERS, type Html } from './html.ts';
import { contentLocale, helpFor, type LearnContent } from './learn-content.ts';
import { pagePaths, verifyToken, type TokenFailure, type TokenPurpose } from './tokens.ts';

/** The envelope source of the events the pages store (not `clm.*`: they are the customer's own business facts, validated as a producer's). */
export const PAGES_EVENT_SOURCE = 'serverless-clm.pages';
/** Bodies above this are refused before they are parsed (a form here is a few hundred bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

export type PageRequest = {
  method: string;
  /** The path as requested, e.g. `/u/v1.k1.…`. */
  path: string;
  contentType?: string;
  body?: string;
};

export type PageResponse = { status: number; headers: Record<string, string>; body: string };

export type PageName = 'unsubscribe' | 'learn' | 'exit' | 'confirm' | 'none';
/** What happened, for logs and metrics (never a value the customer typed). */
export type PageOutcome = {
  page: PageName;
  result:
    | 'shown'
    | 'unsubscribed'
    | 'already-unsubscribed'
    | 'answered'
    | 'already-answered'
    | 'confirmed'
    | 'already-confirmed'
    | 'unknown-customer'
    | 'invalid-token'
    | 'invalid-form'
    | 'not-found'
    | 'method-not-allowed'
    | 'too-large';
  tokenFailure?: TokenFailure;
  customerId?: string;
};

export type PageDeps = {
  keys: PageKeySource;
  store: Pick<CustomerStore, 'getProfile' | 'recordEvent'>;
  now: () => Date;
  content: LearnContent;
  /** The consent ledger the answers' records are appended to (an unsubscribe, the winback answer), as ingest does. */
  consent?: ConsentLedger;
  consentPolicy?: ConsentPolicy;
};

/** The version of the exit survey's wording (the consent ledger keeps it with the winback answer). */
export const EXIT_SURVEY_WORDING_VERSION = 'exit-survey-v1';
/** The version of the double opt-in confirmation page's wording (kept with the confirmation in the consent ledger). */
export const CONFIRM_WORDING_VERSION = 'confirm-page-v1';

type Served = { response: PageResponse; outcome: PageOutcome };

const page = (status: number, title: string, body: Html, extra: Record<string, string> = {}): PageResponse => ({
  status,
  headers: { ...PAGE_HEADERS, ...extra },
  body: layout(title, body),
});

/** The one page for every bad, foreign or expired link: it says nothing about why. */
const invalidLinkPage = (): PageResponse =>
  page(
    404,
    'This link does not work',
    html`<p>This link is not valid, or it has expired.</p><p>Please use the link in our most recent email, or contact customer service.</p>`,
  );

const notFoundPage = (): PageResponse => page(404, 'Page not found', html`<p>There is no page at this address.</p>`);

const PURPOSE_BY_SEGMENT = new Map<string, TokenPurpose>(Object.entries(pagePaths).map(([purpose, segment]) => [segment, purpose as TokenPurpose]));
const ROUTE = /^\/([a-z]+)\/([A-Za-z0-9._-]{1,512})\/?$/;
const ALLOWED: Record<TokenPurpose, string[]> = { unsubscribe: ['GET', 'HEAD', 'POST'], learn: ['GET', 'HEAD'], exit: ['GET', 'HEAD', 'POST'], confirm: ['GET', 'HEAD', 'POST'] };

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** Parses a form body (urlencoded or multipart) with the platform's own parser; undefined if it is not one. */
async function formOf(req: PageRequest): Promise<Map<string, string> | undefined> {
  const contentType = req.contentType ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(contentType)) return undefined;
  try {
    const form = await new Request('http://pages.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: req.body ?? '' }).formData();
    const out = new Map<string, string>();
    for (const [k, v] of form) if (typeof v === 'string' && !out.has(k)) out.set(k, v);
    return out;
  } catch {
    return undefined;
  }
}

/** Stores an event the customer made, validated as any producer's event is (the consent ledger's records first). */
const record = <T extends 'ConsentChanged' | 'ExitSurveyAnswered'>(deps: PageDeps, type: T, detail: Omit<InboundDetail<T>, 'schemaVersion'>) =>
  recordOwnEvent(deps, PAGES_EVENT_SOURCE, type, detail);

export async function servePage(req: PageRequest, deps: PageDeps): Promise<Served> {
  const m = ROUTE.exec(req.path);
  const purpose = m ? PURPOSE_BY_SEGMENT.get(m[1]!) : undefined;
  if (!m || !purpose) return { response: notFoundPage(), outcome: { page: 'none', result: 'not-found' } };
  const token = m[2]!;
  const method = req.method.toUpperCase();
  if (!ALLOWED[purpose].includes(method)) {
    return {
      response: page(405, 'Not allowed', html`<p>This page cannot be used that way.</p>`, { allow: ALLOWED[purpose].join(', ') }),
      outcome: { page: purpose, result: 'method-not-allowed' },
    };
  }
  if (method === 'POST' && Buffer.byteLength(req.body ?? '', 'utf8') > MAX_BODY_BYTES) {
    return { response: page(413, 'Too much', html`<p>That was more than this page takes.</p>`), outcome: { page: purpose, result: 'too-large' } };
  }

  const verified = verifyToken(await deps.keys.keyRing(), token, purpose, deps.now());
  if (!verified.ok) return { response: invalidLinkPage(), outcome: { page: purpose, result: 'invalid-token', tokenFailure: verified.error.reason } };
  const customerId = verified.claims.customerId;

  let served: Served;
  switch (purpose) {
    case 'unsubscribe':
      served = method === 'POST' ? await unsubscribe(req, token, customerId, deps) : { response: unsubscribeForm(), outcome: { page: purpose, result: 'shown' } };
      break;
    case 'learn':
      served = await learn(customerId, deps);
      break;
    case 'exit':
      served = method === 'POST' ? await answerExitSurvey(req, token, customerId, deps) : { response: exitForm(), outcome: { page: purpose, result: 'shown' } };
      break;
    case 'confirm':
      served = method === 'POST' ? await confirmOptIn(req, token, customerId, deps) : { response: confirmForm(), outcome: { page: purpose, result: 'shown' } };
      break;
  }
  served.outcome.customerId = customerId;
  if (method === 'HEAD') served.response.body = '';
  return served;
}

// ---- /u/TOKEN ---------------------------------------------------------------

const unsubscribeForm = (): PageResponse =>
  page(
    200,
    'Unsubscribe from our marketing emails',
    html`<p>Press the button to stop receiving marketing emails from us. You will still get service messages such as invoices.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
  );

const unsubscribedPage = (): PageResponse =>
  page(200, 'You are unsubscribed', html`<p>You will not get marketing emails from us any more. Service messages such as invoices still reach you.</p>`);

async function unsubscribe(req: PageRequest, token: string, customerId: string, deps: PageDeps): Promise<Served> {
  const form = await formOf(req);
  if (form?.get('List-Unsubscribe') !== 'One-Click') {
    return {
      response: page(400, 'Unsubscribe from our marketing emails', html`<p class="error">The request did not say what to do.</p>`),
      outcome: { page: 'unsubscribe', result: 'invalid-form' },
    };
  }
  const profile = await deps.store.getProfile(customerId);
  // Nobody to withdraw anything from (or erased): nothing is stored, nothing will be sent.
  if (!profile) return { response: unsubscribedPage(), outcome: { page: 'unsubscribe', result: 'unknown-customer' } };
  const grant = profile.consent['email:marketing'];
  if (!hasConsent(profile, 'email', 'marketing') || !grant) return { response: unsubscribedPage(), outcome: { page: 'unsubscribe', result: 'already-unsubscribed' } };

  // One withdrawal per link and grant: the same link posted twice stores one event; after a new
  // grant, the same link withdraws again. Dated after the grant it withdraws, so it wins.
  const now = deps.now();
  const occurredAt = new Date(Math.max(now.getTime(), Date.parse(grant.at) + 1)).toISOString();
  await record(deps, 'ConsentChanged', {
    eventId: `unsubscribe-link-${sha256(`${token}|${grant.at}|${grant.by}`).slice(0, 40)}`,
    customerId,
    occurredAt,
    channel: 'email',
    purpose: 'marketing',
    granted: false,
    source: 'unsubscribe-link',
  });
  return { response: unsubscribedPage(), outcome: { page: 'unsubscribe', result: 'unsubscribed' } };
}

// ---- /learn/TOKEN -------------------------------------------------------------

function money(amount: number | undefined, currency: string | undefined, locale: string): string | undefined {
  if (amount === undefined || !currency) return undefined;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

async function learn(customerId: string, deps: PageDeps): Promise<Served> {
  const profile: CustomerProfile | undefined = await deps.store.getProfile(customerId);
  const unused = profile ? unusedPaidProducts(profile) : [];
  const locale = contentLocale(deps.content, profile?.locale?.value);
  const name = singleLine(profile?.firstName?.value ?? '');
  const greeting = name ? html`<p>Hi ${name},</p>` : html``;
  if (unused.length === 0) {
    return {
      response: page(200, 'Your services', html`${greeting}<p>You are using every service you pay for. Nothing to set up here.</p>`),
      outcome: { page: 'learn', result: 'shown' },
    };
  }
  const subs = activeSubscriptions(profile!);
  const sections = [...new Set(unused)].map((productId) => {
    const help = helpFor(deps.content, locale, productId);
    const sub = subs.find((s) => s.productId?.value === productId);
    const price = money(sub?.monthlyPrice?.value, sub?.currency?.value, profile?.locale?.value ?? 'en');
    const plan = sub?.plan?.value;
    return html`<section>
<h2>${help.name}</h2>
${price ? html`<p class="muted">You pay ${price} a month${plan ? html` for the ${plan} plan` : ''}, and have not used it yet.</p>` : ''}
<p>${help.intro}</p>
<ol>${help.steps.map((s) => html`<li>${s}</li>`)}</ol>
</section>`;
  });
  return {
    response: page(200, 'Get more from what you pay for', html`${greeting}<p>You have these with us but have not used them yet. Here is how to start.</p>${sections}`),
    outcome: { page: 'learn', result: 'shown' },
  };
}

// ---- /exit/TOKEN --------------------------------------------------------------

export const exitReasonLabels: Record<(typeof exitReasons)[number], string> = {
  price: 'The price',
  'service-quality': 'The quality of the service',
  network: 'The network (coverage, speed, outages)',
  billing: 'Billing problems',
  moved: 'I am moving or have moved',
  competitor: 'I found a better offer elsewhere',
  'no-longer-needed': 'I no longer need it',
  other: 'Something else',
};

type ExitAnswer = { reason?: string; reasonText?: string; mayContactLater?: string };

function exitForm(error?: string, previous: ExitAnswer = {}): PageResponse {
  const checked = (on: boolean) => (on ? html` checked` : html``);
  return page(
    error ? 400 : 200,
    'Why are you leaving?',
    html`<p>We are sorry to see you go. Two questions, and you are done.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post">
<fieldset><legend>What is the main reason you are leaving?</legend>
${exitReasons.map((r) => html`<label><input type="radio" name="reason" value="${r}" required${checked(previous.reason === r)}> ${exitReasonLabels[r]}</label>`)}
<label for="reasonText">Tell us more (needed for “Something else”):</label>
<textarea id="reasonText" name="reasonText" rows="3" maxlength="500">${previous.reasonText ?? ''}</textarea>
</fieldset>
<fieldset><legend>May we contact you later with offers to come back?</legend>
<label><input type="radio" name="mayContactLater" value="yes" required${checked(previous.mayContactLater === 'yes')}> Yes</label>
<label><input type="radio" name="mayContactLater" value="no"${checked(previous.mayContactLater === 'no')}> No</label>
</fieldset>
<button type="submit">Send</button>
</form>`,
  );
}

async function answerExitSurvey(req: PageRequest, token: string, customerId: string, deps: PageDeps): Promise<Served> {
  const form = await formOf(req);
  const answer: ExitAnswer = { reason: form?.get('reason'), reasonText: form?.get('reasonText'), mayContactLater: form?.get('mayContactLater') };
  const reason = exitReasons.find((r) => r === answer.reason);
  // The customer's own words, one line (the catalog's rule for text), at most 500 characters.
  const reasonText = singleLine(answer.reasonText ?? '').slice(0, 500).replace(/[\uD800-\uDBFF]$/, '');
  const invalid = (message: string): Served => ({
    response: exitForm(message, { ...answer, reasonText }),
    outcome: { page: 'exit', result: 'invalid-form' },
  });
  if (!reason) return invalid('Please choose a reason.');
  if (reason === 'other' && !reasonText) return invalid('Please tell us the reason in a few words.');
  if (answer.mayContactLater !== 'yes' && answer.mayContactLater !== 'no') return invalid('Please answer whether we may contact you later.');

  const thanks = (result: PageOutcome['result']): Served => ({
    response: page(200, 'Thank you', html`<p>Thank you for telling us. ${answer.mayContactLater === 'yes' ? 'We may get in touch later with an offer.' : 'We will not contact you about coming back.'}</p>`),
    outcome: { page: 'exit', result },
  });
  if (!(await deps.store.getProfile(customerId))) return thanks('unknown-customer');
  // One answer per link: the first one stands.
  const status = await record(deps, 'ExitSurveyAnswered', {
    eventId: `exit-survey-${sha256(token).slice(0, 40)}`,
    customerId,
    occurredAt: deps.now().toISOString(),
    reasonCode: reason,
    ...(reasonText ? { reason: reasonText } : {}),
    allowWinbackContact: answer.mayContactLater === 'yes',
    wordingVersion: EXIT_SURVEY_WORDING_VERSION,
    source: 'exit-survey',
  });
  return thanks(status === 'stored' ? 'answered' : 'already-answered');
}

// ---- /confirm/TOKEN -----------------------------------------------------------

const confirmForm = (): PageResponse =>
  page(
    200,
    'Confirm your email subscription',
    html`<p>Press the button to confirm that you want to receive our marketing emails: offers, news and tips about your services. You can unsubscribe at any time with the link in every email.</p>
<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Confirm</button></form>`,
  );

const confirmedPage = (): PageResponse =>
  page(200, 'Thank you, you are subscribed', html`<p>You will receive our marketing emails. Every one of them has a link to unsubscribe.</p>`);

/**
 * The second step of the welcome's double opt-in: marketing email consent granted by the customer
 * (`doubleOptIn: confirmed`, source `double-opt-in`, this page's wording version), once per link.
 */
async function confirmOptIn(req: PageRequest, token: string, customerId: string, deps: PageDeps): Promise<Served> {
  const form = await formOf(req);
  if (form?.get('confirm') !== 'yes') {
    return {
      response: page(400, 'Confirm your email subscription', html`<p class="error">The request did not say what to do.</p>`),
      outcome: { page: 'confirm', result: 'invalid-form' },
    };
  }
  // Nobody to record it for (or erased): nothing is stored.
  if (!(await deps.store.getProfile(customerId))) return { response: confirmedPage(), outcome: { page: 'confirm', result: 'unknown-customer' } };
  const status = await record(deps, 'ConsentChanged', {
    eventId: `double-opt-in-confirmed-${sha256(token).slice(0, 40)}`,
    customerId,
    occurredAt: deps.now().toISOString(),
    channel: 'email',
    purpose: 'marketing',
    granted: true,
    doubleOptIn: 'confirmed',
    source: 'double-opt-in',
    actor: 'customer',
    wordingVersion: CONFIRM_WORDING_VERSION,
  });
  return { response: confirmedPage(), outcome: { page: 'confirm', result: status === 'stored' ? 'confirmed' : 'already-confirmed' } };
}
