import { actorOf, clean, cleanReason, idPart, PayloadError, stableId, ticketsIn, type SourceEvent } from './normalize.js';

/**
 * Slack slash commands: `/stele approve <ticket> <text>` records an approval
 * by the Slack user. The form body was verified with the signing secret
 * before this sees it; its fields are still checked.
 */

/** What a slash command asked for: an approval event, or help to show the user (nothing recorded). */
export type SlackCommand = { kind: 'approve'; event: SourceEvent; ticket: string } | { kind: 'usage'; text: string };

/** The usage text Slack shows the user (ephemeral) for a command Stele does not understand. */
export const SLACK_USAGE = 'Usage: /stele approve TICKET [why]   e.g. /stele approve INC-42 rollout reviewed, go ahead';

/**
 * Reads a slash command's form fields.
 *
 * @param form - the `application/x-www-form-urlencoded` body
 * @param timestamp - `X-Slack-Request-Timestamp` (verified), the event's time
 * @throws PayloadError when the form lacks what every slash command carries
 */
export function slackCommand(form: URLSearchParams, timestamp: string, tickets: readonly RegExp[]): SlackCommand {
  const field = (name: string) => clean(form.get(name) ?? undefined, 256);
  const missing = ['team_id', 'user_id', 'command'].filter((name) => field(name) === undefined);
  if (missing.length > 0) throw new PayloadError(missing.map((name) => ({ item: -1, field: name, message: 'is required in a slash command' })));
  const text = (form.get('text') ?? '').trim();
  const [verb, rawTicket, ...rest] = text.split(/\s+/);
  if (verb?.toLowerCase() !== 'approve' || !rawTicket) return { kind: 'usage', text: SLACK_USAGE };
  const ticket = rawTicket.toUpperCase();
  // The ticket must be one the patterns recognize, so the approval is found with everything else that names it.
  if (ticketsIn([ticket], tickets)[0] !== ticket) return { kind: 'usage', text: `${JSON.stringify(rawTicket)} is not a ticket reference. ${SLACK_USAGE}` };
  const why = cleanReason(rest.join(' '));
  const actor = actorOf({ id: field('user_id'), name: field('user_name') })!;
  const trigger = field('trigger_id');
  const slack: Record<string, string> = {};
  for (const name of ['team_id', 'team_domain', 'enterprise_id', 'channel_id', 'channel_name', 'user_id', 'user_name', 'command', 'api_app_id']) {
    const value = field(name);
    if (value !== undefined) slack[name] = value;
  }
  const found = ticketsIn([ticket, why], tickets);
  const event: SourceEvent = {
    id: trigger ? `slack/${idPart(trigger)}` : stableId('slack', slack.team_id!, slack.user_id!, timestamp, text),
    time: new Date(Number(timestamp) * 1000).toISOString(),
    source: 'slack',
    action: 'change.approve',
    actor,
    target: { type: 'ticket', id: ticket },
    outcome: 'success',
    ...(why && { reason: why }),
    details: { tickets: found, operation: 'approve', service: 'slack', slack },
  };
  return { kind: 'approve', event, ticket };
}
