import { describe, expect, it } from 'vitest';
import {
  clearSession,
  type KeyValueStore,
  normalizeToken,
  readSession,
  saveSession,
  takeFragment,
} from '../../../dashboard/src/logic/session.js';

const memory = (): KeyValueStore & { items: Map<string, string> } => {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
};

describe('the dashboard session', () => {
  it('takes the token and project from the fragment and gives the URL without them', () => {
    expect(takeFragment('http://127.0.0.1:3000/#token=cvy_0123_abc-_&project=demo')).toEqual({
      token: 'cvy_0123_abc-_',
      project: 'demo',
      cleaned: 'http://127.0.0.1:3000/',
    });
    expect(takeFragment('http://h/board#token=t&other=1')).toEqual({
      token: 't',
      cleaned: 'http://h/board#other=1',
    });
    expect(takeFragment('http://h/board#gate-g1')).toBeNull();
    expect(takeFragment('http://h/board')).toBeNull();
  });

  it('keeps the token and project in the store until sign-out', () => {
    const store = memory();
    expect(readSession(store)).toBeNull();
    saveSession(store, { token: 't', project: 'demo' });
    expect(readSession(store)).toEqual({ token: 't', project: 'demo' });
    saveSession(store, { token: 't2', project: null });
    expect(readSession(store)).toEqual({ token: 't2', project: null });
    clearSession(store);
    expect(store.items.size).toBe(0);
  });

  it('accepts a pasted token with blanks or a Bearer prefix', () => {
    expect(normalizeToken('  Bearer cvy_1_x \n')).toBe('cvy_1_x');
    expect(normalizeToken('cvy_1_x')).toBe('cvy_1_x');
  });
});
