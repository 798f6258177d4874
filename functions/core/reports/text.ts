import type { Risk } from '../coordination/model.js';
import type { Agent, Person, TaskStatus } from '../plan/index.js';
import type { ReportIndex, TaskView } from './context.js';
import type { Inline, RichText } from './model.js';

/** Small builders of rich text and the number formats every report shares. */

export const strong = (text: string): Inline => ({ kind: 'strong', text });
export const code = (text: string): Inline => ({ kind: 'code', text });
export const link = (text: string, url: string): Inline => ({ kind: 'link', text, url });

export function mention(person: Person | undefined, fallback: string): Inline {
  if (!person) return fallback;
  return { kind: 'mention', name: person.name, ...(person.slack ? { slack: person.slack } : {}) };
}

/** `` `grpc-services` gRPC services, integration tests… ``: the id, then the title when it says more. */
export function taskText(view: TaskView): Inline[] {
  return view.task.title && view.task.title !== view.task.id
    ? [code(view.task.id), ` ${view.task.title}`]
    : [code(view.task.id)];
}

/** The agent's name; "unassigned" for a task no agent took yet. */
export const agentName = (index: ReportIndex, id: string | undefined) =>
  id === undefined ? 'unassigned' : (index.agents.get(id)?.name ?? id);

/** The agent's owner, mentioned (Slack pings them by id when the plan has one). */
export function ownerOf(index: ReportIndex, agent: Agent | undefined): Inline | undefined {
  return agent ? mention(index.people.get(agent.owner), agent.owner) : undefined;
}

export const STATUS_LABEL: Record<TaskStatus, string> = {
  todo: 'to do',
  in_progress: 'in progress',
  in_review: 'in review',
  done: 'done',
};

export const RISK_LABEL: Record<Risk, string> = { green: '🟢 green', yellow: '🟡 yellow', red: '🔴 red' };

const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const metricFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** Estimate-days: `2.5d`; a little more than nothing shows as `<0.1d` rather than `0d`. */
export function days(value: number): string {
  if (value > 0 && value < 0.05) return '<0.1d';
  return `${oneDecimal.format(value)}d`;
}

export const metricValue = (value: number) => metricFormat.format(value);

/** A signed change: `+50,000`, `−4` (a real minus sign), `±0`. */
export function signed(value: number, format: (n: number) => string = metricValue): string {
  if (value === 0) return '±0';
  return value > 0 ? `+${format(value)}` : `−${format(-value)}`;
}

export const percent = (part: number, whole: number) => (whole <= 0 ? 0 : Math.round((100 * part) / whole));

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/** Joins rich texts with a separator. */
export function joinRich(parts: readonly RichText[], separator: Inline = ', '): Inline[] {
  return parts.flatMap((part, i) => (i === 0 ? [...part] : [separator, ...part]));
}

/** `in 3 working days`, `today`, `2 working days late`: a planned date relative to today. */
export function relativeWorkingDays(offset: number): string {
  if (offset === 0) return 'today';
  if (offset > 0) return `in ${plural(offset, 'working day')}`;
  return `${plural(-offset, 'working day')} late`;
}
