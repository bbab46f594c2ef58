/**
 * The CDK app: `npx cdk synth|deploy` runs this (see cdk.json). Settings come
 * from CDK context (cdk.json or -c key=value); docs/deploy.md lists them.
 * cdk-nag's AwsSolutions pack validates the app at synthesis.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext, type Settings } from './settings.ts';
import { ServerlessClmStack } from './stack.ts';

export type BuiltApp = { app: App; stack: ServerlessClmStack; settings: Settings };

/** Builds the app; `nag: false` leaves cdk-nag out (tests run it on their own). */
export function buildApp(app: App = new App(), options: { nag?: boolean } = {}): BuiltApp {
  const settings = settingsFromContext(app.node);
  const stack = new ServerlessClmStack(app, settings.stackName, {
    settings,
    env: settings.account || settings.region ? { account: settings.account, region: settings.region } : undefined,
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return { app, stack, settings };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  buildApp().app.synth();
}
