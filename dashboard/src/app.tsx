import { useCallback, useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { session, setUnauthorizedHandler } from './api.js';
import { LiveProvider, useLive } from './live.js';
import { type Signed, signIn } from './signin-flow.js';
import { ActivityView } from './views/activity.js';
import { AgentsView } from './views/agents.js';
import { AttentionView } from './views/attention.js';
import { BoardView } from './views/board.js';
import { EscalationsView } from './views/escalations.js';
import { GatesView } from './views/gates.js';
import { GraphView } from './views/graph.js';
import { ProgressView } from './views/progress.js';
import { SignIn } from './views/signin.js';

const NAV = [
  ['/', 'Needs attention'],
  ['/board', 'Board'],
  ['/graph', 'Plan graph'],
  ['/agents', 'Agents'],
  ['/gates', 'Gates'],
  ['/escalations', 'Escalations'],
  ['/progress', 'Progress'],
  ['/activity', 'Activity'],
] as const;

export function App() {
  const [signed, setSigned] = useState<Signed | null>(null);
  const [checking, setChecking] = useState(true);
  const [message, setMessage] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const signOut = useCallback((why: string | null) => {
    session.clear();
    setSigned(null);
    setMessage(why);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler((why) => signOut(why));
    const stored = session.get();
    if (!stored) {
      setChecking(false);
      return;
    }
    signIn(stored.token, stored.project).then(
      (result) => {
        setSigned(result);
        setChecking(false);
      },
      (error: Error) => {
        session.clear();
        setMessage(error.message);
        setChecking(false);
      },
    );
  }, [signOut]);

  const announce = useCallback((text: string) => setAnnouncement(text), []);

  return (
    <LocationProvider>
      <div class="live-region visually-hidden" aria-live="polite" role="status">
        {announcement}
      </div>
      {checking ? (
        <main class="signin" aria-busy="true">
          <p>Signing in…</p>
        </main>
      ) : signed ? (
        <LiveProvider project={signed.project} isAdmin={signed.isAdmin} announce={announce}>
          <Shell
            signed={signed}
            onSignOut={() => signOut('You signed out.')}
            onProject={(project) => {
              session.save(signed.token, project);
              setSigned({ ...signed, project });
            }}
          />
        </LiveProvider>
      ) : (
        <SignIn
          message={message}
          onSignedIn={(result) => {
            setMessage(null);
            setSigned(result);
          }}
        />
      )}
    </LocationProvider>
  );
}

function Shell(props: { signed: Signed; onSignOut: () => void; onProject: (project: string) => void }) {
  const { path } = useLocation();
  const { live } = useLive();
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Convoy</span>
        {props.signed.isAdmin && props.signed.projects.length > 1 ? (
          <label class="project" data-project={props.signed.project}>
            Project{' '}
            <select
              value={props.signed.project}
              onChange={(event) => props.onProject((event.currentTarget as HTMLSelectElement).value)}
            >
              {props.signed.projects.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span class="project" data-project={props.signed.project}>
            Project <strong>{props.signed.project}</strong>
          </span>
        )}
        <span class="live-state">
          {live === true ? '● Live' : live === false ? '○ Refreshing every 15 s' : '○ Connecting…'}
        </span>
        <span class="who">{props.signed.isAdmin ? 'admin' : 'person'}</span>
        <button type="button" class="signout" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <nav class="views" aria-label="Views">
        <ul>
          {NAV.map(([href, label]) => (
            <li key={href}>
              <a href={href} aria-current={path === href ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Router>
          <Route path="/" component={AttentionView} />
          <Route path="/board" component={BoardView} />
          <Route path="/graph" component={GraphView} />
          <Route path="/agents" component={AgentsView} />
          <Route path="/gates" component={GatesView} />
          <Route path="/escalations" component={EscalationsView} />
          <Route path="/progress" component={ProgressView} />
          <Route path="/activity" component={ActivityView} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section data-view="notfound">
      <h1>Not found</h1>
      <p>
        No such view. <a href="/">Go to Needs attention</a>.
      </p>
    </section>
  );
}
