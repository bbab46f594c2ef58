/**
 * The erasure salt in the template (docs/erasure.md): a generated secret outside the table, read
 * only by the functions whose access lists `privacySalt` (ingest, erasure, campaigns, backfill), which get its
 * ARN and nothing else of it; output for `clm erase --salt-secret`.
 */
import { describe, expect, it } from 'vitest';
import { ENV, functionSpecs, type FunctionName } from '../../shared/wiring.ts';
import { actionsOf, logicalId, resourcesOf, statementsOfRole, synth } from './helpers.ts';

const names = Object.keys(functionSpecs) as FunctionName[];

describe('erasure salt', () => {
  const built = synth({}, { bundle: false });
  const secretId = logicalId(built.stack, built.stack.privacySalt.secret);
  const functions = resourcesOf(built.template, 'AWS::Lambda::Function');

  it('is a generated 64-character secret without punctuation, not named (two stacks in one account), kept on delete', () => {
    const [, secret] = resourcesOf(built.template, 'AWS::SecretsManager::Secret').find(([k]) => k === secretId)!;
    expect(secret.Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
    expect(secret.Properties).not.toHaveProperty('Name');
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect((secret as { DeletionPolicy?: string }).DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(built.template.toJSON().Outputs.PrivacySaltSecretArn.Value).toEqual({ Ref: secretId });
  });

  it('only ingest, erasure, campaigns and the backfill read it (GetSecretValue on that secret alone) and get its ARN', () => {
    const readers: FunctionName[] = [];
    for (const name of names) {
      const statements = statementsOfRole(built.template, logicalId(built.stack, built.stack.functions[name].role));
      const onSalt = statements.filter((s) => JSON.stringify(s.Resource).includes(secretId));
      const fnId = logicalId(built.stack, built.stack.functions[name].function);
      const env = functions.find(([k]) => k === fnId)![1].Properties.Environment.Variables;
      if (functionSpecs[name].access.privacySalt) {
        readers.push(name);
        expect(onSalt.map((s) => [s.Resource, actionsOf(s).sort()]), name).toEqual([[{ Ref: secretId }, ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']]]);
        expect(env[ENV.privacySaltSecret], name).toEqual({ Ref: secretId });
      } else {
        expect(onSalt, name).toEqual([]);
        expect(env[ENV.privacySaltSecret], name).toBeUndefined();
      }
    }
    expect(readers).toEqual(['ingest', 'erasure', 'campaigns', 'backfill']);
    // No other principal is given the secret: no resource policy on it.
    expect(resourcesOf(built.template, 'AWS::SecretsManager::ResourcePolicy')).toEqual([]);
  });
});
