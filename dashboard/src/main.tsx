import { render } from 'preact';
import { session } from './api.js';
import { App } from './app.js';
import { takeFragment } from './logic/session.js';
import './styles.css';

// A token in the fragment (`convoy dashboard`) goes to sessionStorage and leaves the address bar and
// the history before anything renders; it is only ever sent in the Authorization header.
const taken = takeFragment(location.href);
if (taken?.token) {
  history.replaceState(history.state, '', taken.cleaned);
  session.save(taken.token, taken.project ?? null);
}

const root = document.getElementById('app');
if (root) render(<App />, root);
