/**
 * SES feedback in the template: the configuration set publishes the recorded event types to the
 * account's default bus (the only bus SES publishes to), and the email-feedback subscription's
 * rule is on that bus, with its queue, DLQs and event source like every rule subscription.
 */
import { describe, expect, it } from 'vitest';
import { type RuleSubscription, subscriptions } from '../../shared/wiring.ts';
import { logicalId, resourcesOf, synth } from './helpers.ts';

const feedback = subscriptions.find((s): s is RuleSubscription => s.id === 'SesFeedbackToEmailFeedback')!;

describe('SES feedback', () => {
  const built = synth({}, { bundle: false });
  const defaultBusArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] };

  it("the configuration set publishes the Send event and the seven recorded event types to the account's default bus", () => {
    const destinations = resourcesOf(built.template, 'AWS::SES::ConfigurationSetEventDestination');
    expect(destinations).toHaveLength(1);
    const d = destinations[0]![1].Properties;
    expect(d.ConfigurationSetName).toEqual({ Ref: logicalId(built.stack, built.stack.email.configurationSet) });
    expect(d.EventDestination.Enabled).toBe(true);
    expect([...d.EventDestination.MatchingEventTypes].sort()).toEqual(['bounce', 'click', 'complaint', 'delivery', 'open', 'reject', 'renderingFailure', 'send']);
    expect(d.EventDestination.EventBridgeDestination).toEqual({ EventBusArn: defaultBusArn });
  });

  it("the subscription's rule is on the default bus, with the wiring's pattern, to its own queue", () => {
    const rules = resourcesOf(built.template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.Description === feedback.description);
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties;
    expect(rule.EventBusName).toBe('default');
    // the wiring's pattern, narrowed to this stack's configuration set (another copy's rule is on the same bus)
    expect(rule.EventPattern).toEqual({ ...feedback.pattern, detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: logicalId(built.stack, built.stack.email.configurationSet) }] } } } });
    const queueId = logicalId(built.stack, built.stack.workQueues[feedback.id]!);
    expect(rule.Targets.map((t: { Arn: unknown }) => t.Arn)).toEqual([{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
    // every other rule is on the stack's bus
    const others = resourcesOf(built.template, 'AWS::Events::Rule').filter(([, r]) => r.Properties.Description !== feedback.description);
    for (const [, r] of others) expect(r.Properties.EventBusName).toEqual({ Ref: logicalId(built.stack, built.stack.eventBus.bus) });
  });
});
