/**
 * The Amazon States Language of a state machine as CDK synthesizes it: `DefinitionString` is a
 * plain string or an `Fn::Join` whose tokens (`Fn::GetAtt`, `Ref`) name other resources. The
 * local run and the tests replace each token with a value of their own (e.g. a function ARN that
 * the ASL interpreter maps to a local handler), so they run exactly the synthesized definition.
 */
export function aslOf(definitionString: unknown, resolve: (token: unknown) => string): Record<string, unknown> {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as Record<string, unknown>;
  const join = (definitionString as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  if (!join) throw new Error('a DefinitionString is a string or an Fn::Join');
  const [separator, parts] = join;
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : resolve(p))).join(separator)) as Record<string, unknown>;
}
