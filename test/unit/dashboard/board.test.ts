import { describe, expect, it } from 'vitest';
import { buildBoard, columnTotals } from '../../../dashboard/src/logic/board.js';
import { agent, HOUR, iso, NOW, status, task } from './fixtures.js';

const project = status({
  agents: [agent({ id: 'alpha', name: 'Alpha' }), agent({ id: 'beta', name: 'Beta' })],
  tasks: [
    task({ id: 'a', status: 'done' }),
    task({ id: 'b', status: 'in_progress', updatedAt: iso(-3 * HOUR) }),
    task({
      id: 'c',
      phase: 'ship',
      status: 'in_progress',
      agent: null,
      holder: 'beta',
      claim: { agent: 'beta', at: iso(-HOUR), expiresAt: iso(HOUR) },
    }),
    task({ id: 'd', phase: 'ship', agent: null, holder: null }),
  ],
});

describe('the board', () => {
  it('puts each task in its status column, in lanes by phase in plan order', () => {
    const lanes = buildBoard(project, 'phase', NOW);
    expect(lanes.map((lane) => [lane.key, lane.label, lane.total])).toEqual([
      ['build', 'Build', 2],
      ['ship', 'Ship', 2],
    ]);
    expect(lanes[0]?.columns.done.map((card) => card.task.id)).toEqual(['a']);
    expect(lanes[0]?.columns.in_progress.map((card) => card.task.id)).toEqual(['b']);
    expect(lanes[1]?.columns.todo.map((card) => card.task.id)).toEqual(['d']);
    expect(columnTotals(lanes)).toEqual({ todo: 1, in_progress: 2, in_review: 0, done: 1 });
  });

  it('groups by agent: the claim holder first, then the plan’s agent; unassigned tasks last', () => {
    const lanes = buildBoard(project, 'agent', NOW);
    expect(lanes.map((lane) => [lane.key, lane.total])).toEqual([
      ['alpha', 2],
      ['beta', 1],
      ['(unassigned)', 1],
    ]);
    const claimed = lanes[1]?.columns.in_progress[0];
    expect(claimed).toMatchObject({ who: 'beta', claimed: true });
  });

  it('gives each card its age in its status', () => {
    const lanes = buildBoard(project, 'phase', NOW);
    expect(lanes[0]?.columns.in_progress[0]?.ageMs).toBe(3 * HOUR);
  });
});
