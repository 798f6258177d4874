import { useState } from 'preact/hooks';
import { Loading, Problem, View } from '../components/ui.js';
import { useProjectData } from '../live.js';
import { formatTime } from '../logic/format.js';
import type { EventsPage, StatusView } from '../types.js';

const PAGE = 50;

/** The audit trail, newest first, a page at a time (the API's cursor); the first page follows changes. */
export function ActivityView() {
  const [cursors, setCursors] = useState<string[]>([]);
  const type = new URLSearchParams(location.search).get('type');
  const cursor = cursors[cursors.length - 1];
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (type) query.set('type', type);
  if (cursor) query.set('cursor', cursor);
  const page = useProjectData<EventsPage>(`/events?${query}`, { live: cursors.length === 0 });
  const status = useProjectData<StatusView>('/status', { live: false });
  const zone = status.data?.timezone;
  return (
    <View name="activity" title={type ? `Activity: ${type}` : 'Activity'} busy={page.loading}>
      <Loading loading={page.loading && !page.data} what="the audit trail" />
      <Problem error={page.error} />
      {page.data && page.data.events.length === 0 ? <p>Nothing recorded yet.</p> : null}
      <ol class="activity">
        {page.data?.events.map((event) => (
          <li key={event.id} data-event-type={event.type}>
            <time dateTime={event.at}>{formatTime(event.at, zone)}</time> <code>{event.type}</code>
            {event.subject ? <strong> {event.subject}</strong> : null}{' '}
            <span class="sub">by {event.actor}</span>
            {event.note ? <span class="note"> — {event.note}</span> : null}
          </li>
        ))}
      </ol>
      <nav class="pager" aria-label="Pages of the audit trail">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← Newer
        </button>
        <span>Page {cursors.length + 1}</span>
        <button
          type="button"
          disabled={!page.data?.cursor}
          onClick={() => page.data?.cursor && setCursors([...cursors, page.data.cursor])}
        >
          Older →
        </button>
      </nav>
    </View>
  );
}
