import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { useLive } from '../live.js';

/**
 * A button that calls a write route, says what happened next to it (and to screen readers), and
 * refreshes the views. The server decides who may: a refusal (403, 409) is shown as it answers.
 */
export function ActionButton(props: {
  label: string;
  path: string;
  body?: unknown;
  done: string;
  class?: string;
}) {
  const { refresh, announce } = useLive();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async () => {
    setBusy(true);
    setResult(null);
    try {
      await api(props.path, { method: 'POST', body: props.body ?? {} });
      setResult({ ok: true, text: props.done });
      announce(props.done);
      refresh();
    } catch (error) {
      const text =
        error instanceof ApiError
          ? `${error.status === 403 ? 'Not allowed' : 'Refused'}: ${error.message}`
          : `Failed: ${(error as Error).message}`;
      setResult({ ok: false, text });
      announce(text);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={props.class} disabled={busy} onClick={run}>
        {busy ? `${props.label}…` : props.label}
      </button>
      {result ? (
        <span class={result.ok ? 'ok' : 'problem'} role={result.ok ? 'status' : 'alert'}>
          <span aria-hidden="true">{result.ok ? '✓ ' : '⚠ '}</span>
          {result.text}
        </span>
      ) : null}
    </span>
  );
}
