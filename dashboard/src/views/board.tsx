import { useState } from 'preact/hooks';
import { Loading, Problem, StatusBadge, useHashTarget, View } from '../components/ui.js';
import { useLive, useProjectData } from '../live.js';
import { type BoardCard, buildBoard, COLUMNS, columnTotals, type Grouping } from '../logic/board.js';
import { jiraUrl, STATUS_LABEL, span } from '../logic/format.js';
import type { PlanResponse, StatusView } from '../types.js';

/** Tasks in columns by status, in lanes by phase or by agent. */
export function BoardView() {
  const { now } = useLive();
  const [grouping, setGrouping] = useState<Grouping>('phase');
  const status = useProjectData<StatusView>('/status');
  const plan = useProjectData<PlanResponse>('/plan', { live: false });
  const site = plan.data?.plan?.integrations?.jira?.site;
  const lanes = status.data ? buildBoard(status.data, grouping, now) : [];
  const totals = columnTotals(lanes);
  useHashTarget(status.data !== undefined);
  return (
    <View
      name="board"
      title="Board"
      busy={status.loading}
      actions={
        <fieldset class="toggle">
          <legend>Group by</legend>
          {(['phase', 'agent'] as const).map((g) => (
            <label key={g}>
              <input
                type="radio"
                name="grouping"
                value={g}
                checked={grouping === g}
                onChange={() => setGrouping(g)}
              />{' '}
              {g === 'phase' ? 'Phase' : 'Agent'}
            </label>
          ))}
        </fieldset>
      }
    >
      <Loading loading={status.loading && !status.data} what="the board" />
      <Problem error={status.error} />
      {lanes.map((lane) => (
        <section class="lane" key={lane.key} aria-labelledby={`lane-${lane.key}`}>
          <h2 id={`lane-${lane.key}`}>
            {lane.label} <span class="count">({lane.total} tasks)</span>
          </h2>
          <div class="columns">
            {COLUMNS.map((column) => (
              <section
                class="column"
                key={column}
                data-column={column}
                aria-label={`${lane.label}: ${STATUS_LABEL[column]}`}
              >
                <h3>
                  <StatusBadge status={column} /> <span class="count">{lane.columns[column].length}</span>
                </h3>
                <ul>
                  {lane.columns[column].map((card) => (
                    <Card key={card.task.id} card={card} site={site} />
                  ))}
                </ul>
              </section>
            ))}
          </div>
        </section>
      ))}
      {status.data ? (
        <p class="totals">{COLUMNS.map((c) => `${STATUS_LABEL[c]}: ${totals[c]}`).join(' · ')}</p>
      ) : null}
    </View>
  );
}

function Card(props: { card: BoardCard; site: string | undefined }) {
  const { task, who, claimed, ageMs } = props.card;
  const link = jiraUrl(props.site, task.jira);
  return (
    <li
      class={`card${task.blocked ? ' blocked' : ''}`}
      id={`task-${task.id}`}
      data-task-id={task.id}
      data-status={task.status}
      data-blocked={task.blocked ? 'true' : 'false'}
    >
      <div class="card-title">
        <strong>{task.id}</strong> <span>{task.title}</span>
      </div>
      <div class="card-meta">
        <span class="who" data-claimed={claimed ? 'true' : 'false'}>
          {claimed ? 'claimed by ' : who ? 'agent ' : ''}
          <strong>{who ?? 'unassigned'}</strong>
        </span>
        {task.jira ? (
          link ? (
            <a class="jira" href={link} target="_blank" rel="noopener noreferrer">
              {task.jira}
            </a>
          ) : (
            <span class="jira">{task.jira}</span>
          )
        ) : null}
        <span class="age">{`${span(ageMs / 1000)} in ${STATUS_LABEL[task.status] ?? task.status}`}</span>
      </div>
      {task.blocked ? (
        <p class="blocked-reason">
          <span aria-hidden="true">⊘ </span>
          <strong>Blocked:</strong> {task.reason ?? 'no reason given'}
        </p>
      ) : null}
    </li>
  );
}
