import { describeVerification, unverifiedDone } from '../coordination/evidence.js';
import type { ReportIndex, TaskView } from './context.js';
import type { Inline, ListItem, ReportSection } from './model.js';
import { paragraph } from './sections.js';
import { plural, taskText } from './text.js';

/**
 * How done tasks were verified (issue #15): ` — verified: PR #42 merged, CI green on abc1234` or
 * ` — overridden by person:pm: <note>` after a finished task, and the section listing the done claims
 * Convoy never saw evidence for.
 */

/** What follows a done task in a report: how it was verified, or who overrode its evidence. */
export function verificationText(view: TaskView): Inline[] {
  const verification = view.state.verification;
  if (!verification) return [];
  return verification.by === 'evidence'
    ? [` — verified: ${describeVerification(verification)}`]
    : [` — ⚠️ ${describeVerification(verification)}`];
}

/**
 * The done tasks whose evidence Convoy never saw: done by override, or done before the plan asked for
 * evidence. Undefined when there are none (plans without evidence never have any).
 */
export function unverifiedSection(index: ReportIndex): ReportSection | undefined {
  const items: ListItem[] = index.ordered.flatMap((view) => {
    const unverified = unverifiedDone(index.plan, view.task, view.state);
    if (!unverified) return [];
    return [
      {
        text: ['⚠️ ', ...taskText(view), `: ${unverified.reason}`],
        ...(view.agent !== undefined ? { agent: view.agent } : {}),
      },
    ];
  });
  if (items.length === 0) return undefined;
  return {
    id: 'unverified',
    heading: 'Unverified done claims',
    blocks: [
      paragraph(`${plural(items.length, 'done task')} without the evidence the plan asks for.`),
      { kind: 'list', items },
    ],
  };
}
