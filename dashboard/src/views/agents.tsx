import { Loading, Problem, StatusBadge, useHashTarget, View } from '../components/ui.js';
import { useLive, useProjectData } from '../live.js';
import { ago } from '../logic/format.js';
import type { StatusView } from '../types.js';

interface PlanAgents {
  readonly plan?: { readonly agents?: readonly { id: string; owner?: string; backup?: string }[] };
}

/** Every agent: status, last heartbeat, current task, completion, risk, owner and backup. */
export function AgentsView() {
  const { now } = useLive();
  const status = useProjectData<StatusView>('/status');
  const plan = useProjectData<PlanAgents>('/plan', { live: false });
  const people = new Map((plan.data?.plan?.agents ?? []).map((agent) => [agent.id, agent]));
  useHashTarget(status.data !== undefined);
  return (
    <View name="agents" title="Agents" busy={status.loading}>
      <Loading loading={status.loading && !status.data} what="the agents" />
      <Problem error={status.error} />
      {status.data ? (
        <>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways on a narrow screen must be reachable by keyboard (axe: scrollable-region-focusable) */}
          <section class="table-wrap" tabIndex={0} aria-label={`Agents of ${status.data.name}`}>
            <table>
              <caption class="visually-hidden">Agents of {status.data.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">Current task</th>
                  <th scope="col">Completion</th>
                  <th scope="col">Risk</th>
                  {people.size > 0 ? <th scope="col">Owner / backup</th> : null}
                </tr>
              </thead>
              <tbody>
                {status.data.agents.map((agent) => (
                  <tr
                    key={agent.id}
                    id={`agent-${agent.id}`}
                    data-agent-id={agent.id}
                    data-status={agent.status}
                  >
                    <th scope="row">
                      {agent.name}
                      <span class="sub">
                        {agent.id} · {agent.kind === 'ai' ? 'AI' : 'human'}
                      </span>
                    </th>
                    <td>
                      <StatusBadge status={agent.status} />
                    </td>
                    <td>{ago(agent.lastHeartbeat, now)}</td>
                    <td>
                      {agent.currentTask ? (
                        <a href={`/board#task-${agent.currentTask}`}>{agent.currentTask}</a>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>
                      <progress max={100} value={agent.completion} aria-label={`${agent.name} completion`} />{' '}
                      {Math.round(agent.completion)}%
                      {agent.reportedCompletion !== null ? (
                        <span class="sub">current task {agent.reportedCompletion}%</span>
                      ) : null}
                    </td>
                    <td>
                      <StatusBadge status={agent.risk} label={agent.risk} />
                      {agent.blockers.length > 0 ? (
                        <span class="sub">{agent.blockers.length} blocked</span>
                      ) : null}
                    </td>
                    {people.size > 0 ? (
                      <td>
                        {people.get(agent.id)?.owner ?? '—'} / {people.get(agent.id)?.backup ?? '—'}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </View>
  );
}
