import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../../functions/core/coordination/model.js';
import { ConflictError, ForbiddenError } from '../../../../functions/core/errors.js';
import {
  acknowledge,
  type Escalation,
  mayHandle,
  onEvent,
  onTick,
  resolve,
} from '../../../../functions/core/escalations/index.js';
import { at, HOUR, MemoryEscalations, PLAN } from './support.js';

const person = (id: string): Actor => ({ kind: 'person', id });

/** blocked:task-1 at level 1 (owner b1 of alpha) and, an hour later, level 2 (backup b2, lead). */
function blockedEscalation(level: 1 | 2): Escalation {
  const store = new MemoryEscalations();
  store.apply(onEvent(PLAN, [], { type: 'task.blocked', subject: 'task-1', at: at(0).toISOString() }, at(0)));
  if (level === 2) store.apply(onTick(PLAN, store.unresolved(), at(HOUR)));
  const [escalation] = store.unresolved();
  if (!escalation) throw new Error('no escalation');
  expect(escalation.level).toBe(level);
  return escalation;
}

describe('acknowledge and resolve permissions', () => {
  const allowedAtLevel2: [string, Actor][] = [
    ['the owner reached at level 1', person('b1')],
    ['the backup reached at level 2', person('b2')],
    ['a named person of level 2', person('lead')],
    ['an admin', { kind: 'admin' }],
  ];
  const forbiddenAtLevel2: [string, Actor][] = [
    ['a person the escalation never reached', person('cto')],
    ['the agent itself', { kind: 'agent', id: 'alpha' }],
    ['the system', { kind: 'system' }],
    ['an integration', { kind: 'integration', id: 'github' }],
  ];

  for (const [who, actor] of allowedAtLevel2) {
    it(`allows ${who} to acknowledge and to resolve`, () => {
      const escalation = blockedEscalation(2);

      expect(mayHandle(PLAN, escalation, actor)).toBe(true);
      expect(acknowledge(PLAN, escalation, actor, at(HOUR))?.escalation.status).toBe('acknowledged');
      expect(resolve(PLAN, escalation, actor, at(HOUR))?.escalation.status).toBe('resolved');
    });
  }

  for (const [who, actor] of forbiddenAtLevel2) {
    it(`refuses ${who} with a ForbiddenError`, () => {
      const escalation = blockedEscalation(2);

      expect(mayHandle(PLAN, escalation, actor)).toBe(false);
      expect(() => acknowledge(PLAN, escalation, actor, at(HOUR))).toThrow(ForbiddenError);
      expect(() => resolve(PLAN, escalation, actor, at(HOUR))).toThrow(ForbiddenError);
    });
  }

  it('refuses the people of a later level while the escalation has not reached them', () => {
    const escalation = blockedEscalation(1);

    expect(() => acknowledge(PLAN, escalation, person('lead'), at(0))).toThrow(
      new ForbiddenError(
        `person:lead may not acknowledge escalation ${escalation.id}; only the people it has reached (b1) or an admin may`,
      ),
    );
    expect(() => resolve(PLAN, escalation, person('b2'), at(0))).toThrow(ForbiddenError);
  });

  it('checks permission before state: a stranger gets 403 even on a resolved escalation', () => {
    const escalation = blockedEscalation(1);
    const done = resolve(PLAN, escalation, person('b1'), at(HOUR))?.escalation;
    if (!done) throw new Error('not resolved');

    expect(() => acknowledge(PLAN, done, person('cto'), at(HOUR))).toThrow(ForbiddenError);
    expect(() => acknowledge(PLAN, done, person('b1'), at(HOUR))).toThrow(ConflictError);
  });

  it('changes nothing on a second acknowledgement', () => {
    const escalation = blockedEscalation(1);
    const acknowledged = acknowledge(PLAN, escalation, person('b1'), at(0))?.escalation;
    if (!acknowledged) throw new Error('not acknowledged');

    expect(acknowledge(PLAN, acknowledged, { kind: 'admin' }, at(0))).toBeNull();
  });
});
