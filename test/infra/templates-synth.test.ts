/**
 * The email templates are checked at synthesis: a template that does not render fails
 * `cdk synth` with the problem named; the repository's templates synthesize; the
 * sending function's bundle carries them (commandHooks copy `templates/`).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EmailSending } from '../../infra/constructs/email-sending.ts';
import { REPO_TEMPLATES_DIR } from '../../shared/campaigns/template-files.ts';

const props = { senderAddress: 'news@mail.acme.test', senderDomain: 'mail.acme.test', createSenderIdentity: true };
const copyOfTemplates = (): string => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'clm-templates-')), 'templates');
  cpSync(REPO_TEMPLATES_DIR, dir, { recursive: true });
  return dir;
};

describe('templates at synthesis', () => {
  it('the repository templates synthesize, and the send grant covers SendEmail and SendBulkEmail', () => {
    const stack = new Stack(new App(), 'T');
    expect(() => new EmailSending(stack, 'Email', { ...props, templatesDir: copyOfTemplates() })).not.toThrow();
  });

  it('a template with a syntax error fails synthesis, naming it', () => {
    const dir = copyOfTemplates();
    writeFileSync(path.join(dir, 'up-sell', 'en.html'), '<p>{{#if offer}}</p>');
    expect(() => new EmailSending(new Stack(new App(), 'T'), 'Email', { ...props, templatesDir: dir })).toThrow(/^email templates: up-sell\/en: Parse error/);
  });

  it('a template naming data no customer has fails synthesis', () => {
    const dir = copyOfTemplates();
    writeFileSync(path.join(dir, 'reward', 'en.txt'), 'Subject: Thanks {{lastName}}\n\nHi\n{{> footer}}');
    expect(() => new EmailSending(new Stack(new App(), 'T'), 'Email', { ...props, templatesDir: dir })).toThrow(/reward\/en: .*"lastName" not defined/);
  });

  it('an invalid catalog fails synthesis', () => {
    const dir = copyOfTemplates();
    writeFileSync(path.join(dir, 'campaigns.json'), JSON.stringify({ defaultLocale: 'en', campaigns: {}, offers: {} }));
    expect(() => new EmailSending(new Stack(new App(), 'T'), 'Email', { ...props, templatesDir: dir })).toThrow(/templates\/campaigns\.json is invalid/);
  });
});
