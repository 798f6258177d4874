import { useState } from 'preact/hooks';
import { projectPath } from '../api.js';
import { ActionButton } from '../components/action.js';
import { Loading, Problem, StatusBadge, useHashTarget, View } from '../components/ui.js';
import { useLive, useProjectData } from '../live.js';
import { formatTime, span } from '../logic/format.js';
import type { EscalationsPage } from '../types.js';

const FILTERS = [
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
] as const;

/** Escalations by state, with Acknowledge and Resolve for the people they reached (the server checks). */
export function EscalationsView() {
  const { project, now } = useLive();
  const [filter, setFilter] = useState<(typeof FILTERS)[number][0]>('open');
  const page = useProjectData<EscalationsPage>(`/escalations?status=${filter}&limit=50`);
  useHashTarget(page.data !== undefined);
  return (
    <View
      name="escalations"
      title="Escalations"
      busy={page.loading}
      actions={
        <fieldset class="toggle">
          <legend>Show</legend>
          {FILTERS.map(([value, label]) => (
            <label key={value}>
              <input
                type="radio"
                name="escalation-filter"
                value={value}
                checked={filter === value}
                onChange={() => setFilter(value)}
              />{' '}
              {label}
            </label>
          ))}
        </fieldset>
      }
    >
      <Loading loading={page.loading && !page.data} what="escalations" />
      <Problem error={page.error} />
      {page.data && page.data.escalations.length === 0 ? <p>No {filter} escalations.</p> : null}
      <ul class="escalations">
        {page.data?.escalations.map((escalation) => {
          const path = (action: string) =>
            projectPath(project, `/escalations/${encodeURIComponent(escalation.id)}/${action}`);
          const left = (Date.parse(escalation.dueAt) - now) / 1000;
          return (
            <li
              key={escalation.id}
              id={`escalation-${encodeURIComponent(escalation.id)}`}
              class="escalation"
              data-escalation-id={escalation.id}
              data-status={escalation.status}
            >
              <h2>
                {escalation.rule} <StatusBadge status={escalation.status} />
              </h2>
              <p>
                {escalation.reason ?? escalation.subject} · level {escalation.level}
                {escalation.levels ? ` of ${escalation.levels}` : ''} · reached{' '}
                {escalation.targets.join(', ') || '—'}
              </p>
              <p class="sub">
                opened {formatTime(escalation.openedAt)}
                {escalation.status !== 'resolved'
                  ? left >= 0
                    ? ` · SLA left ${span(left)}`
                    : ` · SLA ${span(left)} overdue`
                  : ''}
                {escalation.acknowledgedBy ? ` · acknowledged by ${escalation.acknowledgedBy}` : ''}
                {escalation.resolvedBy ? ` · resolved by ${escalation.resolvedBy}` : ''}
              </p>
              {escalation.status !== 'resolved' ? (
                <div class="actions">
                  {escalation.status === 'open' ? (
                    <ActionButton
                      label="Acknowledge"
                      class="primary"
                      path={path('ack')}
                      body={{ note: 'acknowledged in the dashboard' }}
                      done="Acknowledged."
                    />
                  ) : null}
                  <ActionButton
                    label="Resolve"
                    path={path('resolve')}
                    body={{ note: 'resolved in the dashboard' }}
                    done="Resolved."
                  />
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </View>
  );
}
