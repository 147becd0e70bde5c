/**
 * The events dualrun alerts on and the JSON body a webhook receives: `text` for
 * Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, Teams
 * workflows), plus structured fields for generic receivers.
 */
export const ALERT_EVENTS = ['mismatch', 'gate_refused', 'promoted', 'rolled_back', 'dead_letter_rate', 'batch_failed', 'stream_stalled'] as const;
export type AlertEventName = (typeof ALERT_EVENTS)[number];

export interface AlertEvent {
  readonly event: AlertEventName;
  readonly dataset: string | null;
  /** The window label (e.g. 2026-11-20), null for whole-table datasets and events without a window. */
  readonly window: string | null;
  /** One human sentence: what happened (the body's `text` is built from it). */
  readonly summary: string;
  /** Event-specific facts (counts, stages, actor, reason...). */
  readonly details: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

export interface AlertBody {
  readonly text: string;
  readonly event: AlertEventName;
  readonly dataset: string | null;
  readonly window: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly at: string;
}

const TITLE: Record<AlertEventName, string> = {
  mismatch: 'reconciliation mismatch',
  gate_refused: 'promotion refused by the gate',
  promoted: 'dataset promoted',
  rolled_back: 'dataset rolled back',
  dead_letter_rate: 'dead-letter rate above stream.maxDeadLetterRate',
  batch_failed: 'batch run failed',
  stream_stalled: 'stream stalled',
};

export function alertBody(e: AlertEvent): AlertBody {
  const where = [e.dataset, e.window].filter((x) => x !== null).join(' ');
  return {
    text: slackEscape(`dualrun: ${TITLE[e.event]}${where ? ` (${where})` : ''}: ${e.summary}`),
    event: e.event, dataset: e.dataset, window: e.window, details: e.details, at: e.at.toISOString(),
  };
}

/** Slack reads `<...>` as links and `&` as an entity: the three characters it asks to escape. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Builds an event stamped now. */
export function alertEvent(event: AlertEventName, dataset: string | null, window: string | null, summary: string, details: Record<string, unknown> = {}): AlertEvent {
  return { event, dataset, window, summary, details, at: new Date() };
}
