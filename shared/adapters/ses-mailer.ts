/**
 * Mailers on SES's v2 API (the one that carries per-message headers: one-click unsubscribe):
 * `SesMailer` sends one email (SendEmail), `SesBulkMailer` up to 50 in one call
 * (SendBulkEmail), each entry with its own subject and bodies, its own List-Unsubscribe in
 * `ReplacementHeaders` and its own tags, and the configuration set on every call.
 */
import { SendBulkEmailCommand, SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { SendOutcomeUnknownError, type BulkEntry, type BulkEntryResult, type BulkMailer, type Mailer } from '../ports.ts';
import type { EmailMessage } from '../campaigns/messages.ts';
import { firstControlChar } from '../text/control-chars.ts';

export type SesMailerOptions = {
  from: string;
  configurationSet?: string;
  /** Bulk only: entries per SendBulkEmail call (SES allows 50; fewer keeps one call within a second of the send rate). */
  maxEntries?: number;
};

/** Last line of defence against header injection: the renderer already makes these single-line. */
function refuseControlChars(from: string, to: string, message: EmailMessage): void {
  const headerBound: [string, string][] = [
    ['From', from],
    ['To', to],
    ['Subject', message.subject],
    ...message.headers.flatMap((h): [string, string][] => [[`header name`, h.name], [h.name, h.value]]),
  ];
  for (const [where, value] of headerBound) {
    const found = firstControlChar(value);
    if (found) throw new Error(`refusing to send: ${where} contains a control character (${found.codePoint} at position ${found.index})`);
  }
}

/**
 * An error without an HTTP response from SES after the request may have been written (a reset
 * connection, a timeout): SES may have taken the email, so the outcome is unknown. An error
 * with SES's answer, or one before any connection (refused, unknown host), is definite.
 */
export function outcomeOf(e: unknown): Error {
  const err = e as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
  if (err?.$metadata?.httpStatusCode !== undefined) return err;
  if (err?.code === 'ECONNREFUSED' || err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN') return err;
  if (err?.name === 'TimeoutError' || err?.code === 'ECONNRESET' || err?.code === 'EPIPE' || /socket hang up|timed? ?out/i.test(err?.message ?? '')) {
    return new SendOutcomeUnknownError(`SES outcome unknown: ${err.name}${err.code ? ` ${err.code}` : ''}`, { cause: e });
  }
  return err;
}

/** Awaits an SES call; an error comes out as `outcomeOf` says (definite, or the outcome unknown). */
async function sendOrExplain<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw outcomeOf(e);
  }
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly options: SesMailerOptions,
  ) {}

  async send({ to, message }: Parameters<Mailer['send']>[0]): Promise<{ messageId: string }> {
    refuseControlChars(this.options.from, to, message);
    const out = await sendOrExplain(() => this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.options.from,
          Destination: { ToAddresses: [to] },
          ConfigurationSetName: this.options.configurationSet || undefined,
          EmailTags: message.tags.map((t) => ({ Name: t.name, Value: t.value })),
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: { Html: { Data: message.html, Charset: 'UTF-8' }, Text: { Data: message.text, Charset: 'UTF-8' } },
              Headers: message.headers.map((h) => ({ Name: h.name, Value: h.value })),
            },
          },
        }),
      ));
    if (!out.MessageId) throw new Error('SES accepted the email but returned no MessageId');
    return { messageId: out.MessageId };
  }
}

/** SendBulkEmail's per-entry statuses that may succeed when tried again later. */
const RETRYABLE_STATUSES = new Set(['TRANSIENT_FAILURE', 'ACCOUNT_THROTTLED', 'ACCOUNT_SENDING_PAUSED', 'ACCOUNT_DAILY_QUOTA_EXCEEDED']);

/**
 * The content of every entry is rendered by the stack (templates/, escaped there); the SES
 * template only places it: `{{{subject}}}`, `{{{html}}}`, `{{{text}}}` (triple braces: no
 * second escaping), with each entry's parts in its `ReplacementTemplateData`.
 */
export const BULK_TEMPLATE = { Subject: '{{{subject}}}', Html: '{{{html}}}', Text: '{{{text}}}' } as const;

/** SendBulkEmail's limit of entries per call. */
export const SES_BULK_MAX_ENTRIES = 50;

export class SesBulkMailer implements BulkMailer {
  readonly maxEntries: number;

  constructor(
    private readonly client: SESv2Client,
    private readonly options: SesMailerOptions,
  ) {
    this.maxEntries = Math.max(1, Math.min(SES_BULK_MAX_ENTRIES, Math.floor(options.maxEntries ?? SES_BULK_MAX_ENTRIES)));
  }

  async sendBulk(entries: readonly BulkEntry[]): Promise<BulkEntryResult[]> {
    if (entries.length === 0) return [];
    if (entries.length > this.maxEntries) throw new Error(`SendBulkEmail takes at most ${this.maxEntries} entries, got ${entries.length}`);
    for (const e of entries) refuseControlChars(this.options.from, e.to, e.message);
    const out = await sendOrExplain(() => this.client.send(
        new SendBulkEmailCommand({
          FromEmailAddress: this.options.from,
          ConfigurationSetName: this.options.configurationSet || undefined,
          DefaultContent: { Template: { TemplateContent: BULK_TEMPLATE, TemplateData: '{}' } },
          BulkEmailEntries: entries.map(({ to, message }) => ({
            Destination: { ToAddresses: [to] },
            ReplacementEmailContent: {
              ReplacementTemplate: { ReplacementTemplateData: JSON.stringify({ subject: message.subject, html: message.html, text: message.text }) },
            },
            ReplacementHeaders: message.headers.map((h) => ({ Name: h.name, Value: h.value })),
            ReplacementTags: message.tags.map((t) => ({ Name: t.name, Value: t.value })),
          })),
        }),
      ));
    const results = out.BulkEmailEntryResults ?? [];
    if (results.length !== entries.length) {
      // Which entries went is unknown: every one stays submitted, none is sent twice.
      throw new SendOutcomeUnknownError(`SendBulkEmail answered ${results.length} results for ${entries.length} entries`);
    }
    return results.map((r): BulkEntryResult => {
      if (r.Status === 'SUCCESS' && r.MessageId) return { status: 'sent', messageId: r.MessageId };
      const status = r.Status ?? 'UNKNOWN';
      // SES's own status code only: its error text may quote the address.
      return { status: RETRYABLE_STATUSES.has(status) ? 'retry' : 'refused', reason: `ses-${status.toLowerCase().replaceAll('_', '-')}` };
    });
  }
}
