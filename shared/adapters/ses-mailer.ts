/** Mailer on SES's v2 API: the one that carries per-message headers (one-click unsubscribe). */
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Mailer } from '../ports.ts';
import { firstControlChar } from '../text/control-chars.ts';

export type SesMailerOptions = { from: string; configurationSet?: string };

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly options: SesMailerOptions,
  ) {}

  async send({ to, message }: Parameters<Mailer['send']>[0]): Promise<{ messageId: string }> {
    // Last line of defence against header injection: the renderer already makes these single-line.
    const headerBound: [string, string][] = [
      ['From', this.options.from],
      ['To', to],
      ['Subject', message.subject],
      ...message.headers.flatMap((h): [string, string][] => [[`header name`, h.name], [h.name, h.value]]),
    ];
    for (const [where, value] of headerBound) {
      const found = firstControlChar(value);
      if (found) throw new Error(`refusing to send: ${where} contains a control character (${found.codePoint} at position ${found.index})`);
    }
    const out = await this.client.send(
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
    );
    if (!out.MessageId) throw new Error('SES accepted the email but returned no MessageId');
    return { messageId: out.MessageId };
  }
}
