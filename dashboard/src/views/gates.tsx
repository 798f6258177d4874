import { projectPath } from '../api.js';
import { ActionButton } from '../components/action.js';
import { Loading, Problem, StatusBadge, useHashTarget, View } from '../components/ui.js';
import { useLive, useProjectData } from '../live.js';
import { formatTime } from '../logic/format.js';
import type { AuditEvent, EventsPage, StatusGate, StatusView } from '../types.js';

/** Every gate: its criteria with the values used and the bounds, the decision history, Advance / Hold. */
export function GatesView() {
  const status = useProjectData<StatusView>('/status');
  const decided = useProjectData<EventsPage>('/events?type=gate.decided&limit=100');
  const evaluated = useProjectData<EventsPage>('/events?type=gate.evaluated&limit=100');
  const history = [...(decided.data?.events ?? []), ...(evaluated.data?.events ?? [])].sort((a, b) =>
    b.at.localeCompare(a.at),
  );
  useHashTarget(status.data !== undefined);
  return (
    <View name="gates" title="Gates" busy={status.loading}>
      <Loading loading={status.loading && !status.data} what="the gates" />
      <Problem error={status.error} />
      {status.data && status.data.gates.length === 0 ? <p>This plan has no gates.</p> : null}
      {status.data?.gates.map((gate) => (
        <Gate
          key={gate.gate}
          gate={gate}
          timezone={status.data?.timezone}
          history={history.filter((event) => event.subject === gate.gate)}
        />
      ))}
    </View>
  );
}

function Gate(props: { gate: StatusGate; timezone: string | undefined; history: AuditEvent[] }) {
  const { project } = useLive();
  const { gate } = props;
  const latest = gate.latest;
  const criteria = latest?.evaluation?.criteria ?? [];
  return (
    <article class="gate" id={`gate-${gate.gate}`} data-gate-id={gate.gate} data-status={gate.status}>
      <h2>
        Gate {gate.gate} <StatusBadge status={gate.status} />
      </h2>
      <p class="sub">
        {gate.phase ? `Phase ${gate.phase}` : 'No phase'} · approvers:{' '}
        {gate.approvers.join(', ') || 'admin only'}
        {gate.attempt > 0 ? ` · attempt ${gate.attempt}` : ''}
      </p>
      {gate.waitsFor ? <p>Waits for {gate.waitsFor}.</p> : null}
      {latest ? (
        <p>
          Latest: <strong>{latest.decision}</strong>
          {latest.override ? ` (overridden: ${latest.override} by ${latest.decidedBy ?? 'someone'})` : ''} at{' '}
          {formatTime(latest.at, props.timezone)}
          {latest.note ? ` — “${latest.note}”` : ''}
        </p>
      ) : (
        <p>Not evaluated yet.</p>
      )}
      {criteria.length > 0 ? (
        <>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table that scrolls sideways on a narrow screen must be reachable by keyboard (axe: scrollable-region-focusable) */}
          <section class="table-wrap" tabIndex={0} aria-label={`Criteria of gate ${gate.gate}`}>
            <table>
              <caption>Criteria of gate {gate.gate}</caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Value used</th>
                  <th scope="col">GO bound</th>
                  <th scope="col">CAUTION bound</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {criteria.map((criterion) => (
                  <tr key={`${criterion.metric}:${criterion.go}`}>
                    <th scope="row">{criterion.metric}</th>
                    <td>{criterion.value === null ? 'no value yet' : criterion.value}</td>
                    <td>
                      <code>{criterion.go}</code>
                    </td>
                    <td>{criterion.caution ? <code>{criterion.caution}</code> : '—'}</td>
                    <td>
                      {criterion.goHolds ? (
                        <StatusBadge status="green" label="GO holds" />
                      ) : criterion.cautionHolds ? (
                        <StatusBadge status="yellow" label="CAUTION" />
                      ) : (
                        <StatusBadge status="red" label="fails" />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
      {latest?.evaluation?.reasons?.length ? (
        <ul class="reasons">
          {latest.evaluation.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : null}
      {gate.status === 'awaiting-decision' ? (
        <div class="actions">
          <ActionButton
            label="Advance"
            class="primary"
            path={projectPath(project, `/gates/${encodeURIComponent(gate.gate)}/decision`)}
            body={{ decision: 'advance', note: 'decided in the dashboard' }}
            done={`Gate ${gate.gate} advanced.`}
          />
          <ActionButton
            label="Hold"
            path={projectPath(project, `/gates/${encodeURIComponent(gate.gate)}/decision`)}
            body={{ decision: 'hold', note: 'decided in the dashboard' }}
            done={`Gate ${gate.gate} held.`}
          />
        </div>
      ) : null}
      {props.history.length > 0 ? (
        <details>
          <summary>Decision history ({props.history.length})</summary>
          <ol class="history">
            {props.history.map((event) => (
              <li key={event.id}>
                {formatTime(event.at, props.timezone)}:{' '}
                {event.type === 'gate.decided' ? 'decided' : 'evaluated'}{' '}
                <strong>{String(event.data?.decision ?? '')}</strong> by {event.actor}
                {event.note ? ` — “${event.note}”` : ''}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </article>
  );
}
