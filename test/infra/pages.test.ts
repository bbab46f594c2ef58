/**
 * The public pages in the template: the page signing keys secret (generated, readable only by the
 * functions that sign or verify tokens), the pages function's public URL, and the base URL the
 * functions that send email link to.
 */
import { describe, expect, it } from 'vitest';
import { ENV, functionSpecs, type FunctionName } from '../../shared/wiring.ts';
import { actionsOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

const names = Object.keys(functionSpecs) as FunctionName[];
const envOf = (built: TestApp, name: FunctionName) => {
  const id = logicalId(built.stack, built.stack.functions[name].function);
  return resourcesOf(built.template, 'AWS::Lambda::Function').find(([k]) => k === id)![1].Properties.Environment.Variables;
};

describe('public pages', () => {
  const built = synth({}, { bundle: false });
  const secretId = logicalId(built.stack, built.stack.pageKeys.secret);

  it('the signing keys secret holds a generated 64-character key under kid k1', () => {
    const [, secret] = resourcesOf(built.template, 'AWS::SecretsManager::Secret').find(([k]) => k === secretId)!;
    expect(secret!.Properties.GenerateSecretString).toEqual({
      SecretStringTemplate: '{"kid":"k1","previous":[]}',
      GenerateStringKey: 'key',
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    expect(secret!.Properties).not.toHaveProperty('Name');
  });

  it('only the functions with pageKeys access read the secret, and get its ARN', () => {
    for (const name of names) {
      const reads = statementsOfRole(built.template, logicalId(built.stack, built.stack.functions[name].role)).filter(
        (s) => actionsOf(s).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource) === JSON.stringify({ Ref: secretId }),
      );
      const env = envOf(built, name);
      if (functionSpecs[name].access.pageKeys) {
        expect(reads.map((s) => s.Resource), name).toEqual([{ Ref: secretId }]);
        expect(env[ENV.pageKeysSecret], name).toEqual({ Ref: secretId });
      } else {
        expect(reads, name).toEqual([]);
        expect(env[ENV.pageKeysSecret], name).toBeUndefined();
      }
    }
    expect(names.filter((n) => functionSpecs[n].access.pageKeys)).toEqual(['campaigns', 'pages']);
  });

  it('the pages function has a public URL (the token is the authority), output as PagesUrl', () => {
    const fnId = logicalId(built.stack, built.stack.functions.pages.function);
    const urls = resourcesOf(built.template, 'AWS::Lambda::Url');
    expect(urls.map(([, u]) => u.Properties)).toEqual([{ AuthType: 'NONE', InvokeMode: 'BUFFERED', TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] } }]);
    const urlId = urls[0]![0];
    expect(built.template.toJSON().Outputs.PagesUrl.Value).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    const invoke = resourcesOf(built.template, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Action === 'lambda:InvokeFunctionUrl');
    expect(invoke.map(([, p]) => [p.Properties.Principal, p.Properties.FunctionUrlAuthType])).toEqual([['*', 'NONE']]);
  });

  it('the functions that send email link to the function URL, or to pagesBaseUrl when set; no other function gets it', () => {
    const urlId = resourcesOf(built.template, 'AWS::Lambda::Url')[0]![0];
    const custom = synth({ pagesBaseUrl: 'https://pages.acme.test' }, { bundle: false });
    for (const name of names) {
      if (functionSpecs[name].access.sendEmail) {
        expect(envOf(built, name)[ENV.pagesBaseUrl]).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
        expect(envOf(custom, name)[ENV.pagesBaseUrl]).toBe('https://pages.acme.test');
      } else expect(envOf(built, name)[ENV.pagesBaseUrl], name).toBeUndefined();
    }
  });
});
