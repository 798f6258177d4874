import type { ReportIndex } from './context.js';
import { formatInstant } from './dates.js';
import type { Inline, ListItem, ReportSection } from './model.js';
import { paragraph } from './sections.js';
import { agentName, code, joinRich, plural, strong } from './text.js';

/** Changed paths an open conflict shows in a report. */
const SHOWN = 3;

/**
 * The open conflicts (issue #15): changes one agent pushed into a resource another agent holds an
 * exclusive lease on, or owns, that no `resource.conflict_resolved` event has ended yet. Undefined
 * when there are none, or when the context did not read them.
 */
export function openConflictsSection(index: ReportIndex): ReportSection | undefined {
  const open = index.ctx.openConflicts ?? [];
  if (open.length === 0) return undefined;
  const items: ListItem[] = open.map((conflict) => {
    const paths = joinRich(conflict.paths.slice(0, SHOWN).map((path) => [code(path)]));
    const more = conflict.changedPaths > SHOWN ? [` and ${conflict.changedPaths - SHOWN} more`] : [];
    const change =
      conflict.source === 'push'
        ? `push ${conflict.commit?.slice(0, 7) ?? ''}`.trim()
        : `PR #${conflict.pr ?? '?'}`;
    const what: Inline[] = conflict.resource !== undefined ? [code(conflict.resource)] : ['leased paths'];
    const against: Inline[] = conflict.holder
      ? [`, under ${agentName(index, conflict.other)}'s exclusive lease`]
      : [`, owned by ${agentName(index, conflict.other)}, without a lease`];
    const owner =
      conflict.owner !== undefined && conflict.owner !== conflict.other
        ? [`; owner ${agentName(index, conflict.owner)}`]
        : [];
    return {
      text: [
        '⚠️ ',
        strong(agentName(index, conflict.changedBy)),
        ' changed ',
        ...what,
        ' (',
        ...paths,
        ...more,
        `) in ${change}`,
        ...against,
        ...owner,
        ` — open since ${formatInstant(conflict.at, index.timeZone, index.ctx.now)}`,
      ],
      agent: conflict.changedBy,
    };
  });
  return {
    id: 'conflicts',
    heading: 'Open conflicts',
    blocks: [
      paragraph(
        `${plural(open.length, 'conflict')} open; record a `,
        code('resource.conflict_resolved'),
        ' event naming the resource once it is sorted out.',
      ),
      { kind: 'list', items },
    ],
  };
}
