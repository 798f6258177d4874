import { Loading, Problem, View } from '../components/ui.js';
import { useLive, useProjectData } from '../live.js';
import { attentionItems } from '../logic/attention.js';
import type { EventsPage, StatusView } from '../types.js';

const SEVERITY_LABEL = { critical: '‼ Urgent', warning: '! Attention', notice: 'ⓘ Notice' } as const;

/** The home view: everything that waits for a person, most urgent first, each linking to its view. */
export function AttentionView() {
  const { now } = useLive();
  const status = useProjectData<StatusView>('/status');
  const conflicts = useProjectData<EventsPage>('/events?type=resource.conflict&limit=20');
  const items = status.data ? attentionItems(status.data, now, conflicts.data?.events ?? []) : [];
  return (
    <View name="attention" title="Needs attention" busy={status.loading}>
      <Loading loading={status.loading && !status.data} what="the status" />
      <Problem error={status.error} />
      {status.data && items.length === 0 ? (
        <p class="all-clear">
          <span aria-hidden="true">✓ </span>Nothing needs attention right now.
        </p>
      ) : null}
      <ul class="attention">
        {items.map((item) => (
          <li key={item.key} class={`attention-item severity-${item.severity}`} data-kind={item.kind}>
            <span class="severity">{SEVERITY_LABEL[item.severity]}</span>
            <a href={item.href}>{item.title}</a>
            <span class="detail">{item.detail}</span>
          </li>
        ))}
      </ul>
    </View>
  );
}
