import { useState } from 'preact/hooks';
import { normalizeToken } from '../logic/session.js';
import { type Signed, signIn } from '../signin-flow.js';

/**
 * Sign-in: paste a person or admin token (kept in this tab's sessionStorage only). The project may be
 * left empty: a person token's own is asked of the API (`/v1/whoami`); for an admin token the first
 * project is chosen, and the header switches between them.
 */
export function SignIn(props: { message: string | null; onSignedIn: (signed: Signed) => void }) {
  const [token, setToken] = useState('');
  const [project, setProject] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const cleaned = normalizeToken(token);
    if (!cleaned) {
      setError('Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await signIn(cleaned, project.trim() || null));
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const shown = error ?? props.message;
  return (
    <main class="signin" id="main">
      <section class="view signin-card" data-view="signin" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Convoy</h1>
        <p>
          Paste a person or admin token (<code>convoy tokens</code> makes one; <code>convoy dashboard</code>{' '}
          signs you in with the local admin token). It stays in this browser tab only.
        </p>
        {shown ? (
          <p class={error || !props.message?.startsWith('You signed out') ? 'problem' : 'info'} role="alert">
            {shown}
          </p>
        ) : null}
        <form onSubmit={submit}>
          <label for="token">Token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={token}
            onInput={(event) => setToken((event.currentTarget as HTMLInputElement).value)}
          />
          <label for="project">
            Project{' '}
            <span class="hint">(optional: a person token knows its own; an admin's opens the first)</span>
          </label>
          <input
            id="project"
            name="project"
            type="text"
            autocomplete="off"
            value={project}
            onInput={(event) => setProject((event.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </section>
    </main>
  );
}
