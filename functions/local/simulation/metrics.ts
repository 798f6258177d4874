import { type Condition, type Plan, parseCondition } from '../../core/plan/index.js';

/** Metrics Convoy computes itself: the simulation never posts them. */
export const COMPUTED_METRICS: ReadonlySet<string> = new Set([
  'schedule.slip_days',
  'tasks.stale',
  'tasks.blocked',
  'agents.down',
]);

/** Chance, per posting, that a metric suffers a setback (a regression, a flaky suite, a bad deploy). */
const SETBACK_CHANCE = 0.01;
/** Share of a setback still felt at the next posting: setbacks are repaired over a few days. */
const SETBACK_DECAY = 0.4;
/** Day-to-day noise while the work is far from done, as a share of the distance to travel. */
const NOISE = 0.08;

/** Names of metrics that count things, posted as whole numbers. */
const COUNTS =
  /count|errors|failed|critical|violations|regressions|endpoints|scripts|agents|clouds|protocols|dependencies|approved/;

/** Which way is better for a metric. */
type Direction = 'up' | 'down';

/** The synthetic course of one metric a plan reads (docs/rhythm.md, "The synthetic model"). */
export interface MetricCourse {
  readonly name: string;
  readonly start: number;
  /** Where it settles once its work is done: on the right side of every GO bound that reads it. */
  readonly target: number;
  /** The phases whose gates read it, in plan order; empty: it follows the whole plan. */
  readonly phases: readonly string[];
  /** Counts (errors, endpoints, `== N`) are posted as whole numbers. */
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
}

/** Where the work stands, as the metrics see it. */
export interface WorkProgress {
  /** Share of each phase's estimate that is done, 0 to 1. */
  readonly phaseDone: ReadonlyMap<string, number>;
  readonly passed: ReadonlySet<string>;
  /** Share of the whole plan's estimate that is done. */
  readonly planDone: number;
}

/**
 * The course of every metric the plan's gates (GO and CAUTION bounds) and escalation conditions read,
 * except the ones Convoy computes. The target lies on the right side of the strictest GO bound (or,
 * for a metric only an escalation reads, well clear of its trigger); the start lies on the wrong
 * side of every bound, CAUTION included, so gates and escalations have something to say early on.
 */
export function metricCourses(plan: Plan, random: () => number): MetricCourse[] {
  const go = new Map<string, Condition[]>();
  const caution = new Map<string, Condition[]>();
  const alarms = new Map<string, Condition[]>();
  const phasesOf = new Map<string, string[]>();
  const add = (map: Map<string, Condition[]>, condition: Condition) => {
    if (COMPUTED_METRICS.has(condition.metric)) return;
    map.set(condition.metric, [...(map.get(condition.metric) ?? []), condition]);
  };
  for (const phase of plan.phases) {
    const gate = plan.gates.find((candidate) => candidate.id === phase.gate);
    for (const criterion of gate?.criteria ?? []) {
      const condition = parseCondition(criterion.go);
      add(go, condition);
      if (criterion.caution) add(caution, parseCondition(criterion.caution));
      const phases = phasesOf.get(condition.metric) ?? [];
      if (!phases.includes(phase.id)) phasesOf.set(condition.metric, [...phases, phase.id]);
    }
  }
  for (const rule of plan.escalations) if (rule.when) add(alarms, parseCondition(rule.when));
  const names = [...new Set([...go.keys(), ...caution.keys(), ...alarms.keys()])];
  return names.map((name) => {
    const goBounds = go.get(name) ?? [];
    const all = [...goBounds, ...(caution.get(name) ?? []), ...(alarms.get(name) ?? [])];
    const percent = /pct|percent|rate|coverage|completion|accuracy|compat|uptime|success/.test(name);
    const integer =
      all.some((condition) => condition.op === '==' && Number.isInteger(condition.value)) ||
      (!percent &&
        all.every((condition) => Number.isInteger(condition.value)) &&
        (COUNTS.test(name) || all.every((condition) => Math.abs(condition.value) <= 20)));
    const { start, target } =
      goBounds.length > 0 ? fromGates(goBounds, all, integer) : fromAlarms(all, integer);
    const scale = Math.max(1, Math.abs(target - start));
    // A count starts a few above or below; anything else a seeded share of the way further out.
    const jitter = integer ? Math.floor(random() * 3) : 0.1 * scale * random();
    const from = start + (start >= target ? jitter : -jitter);
    return {
      name,
      start: percent ? clamp(from, 0, 100) : Math.max(from, target >= 0 ? 0 : from),
      target,
      phases: phasesOf.get(name) ?? [],
      integer,
      min: 0,
      max: percent && all.every((condition) => condition.value <= 100) ? 100 : Number.POSITIVE_INFINITY,
    };
  });
}

const direction = (condition: Condition): Direction | undefined =>
  condition.op === '>=' || condition.op === '>'
    ? 'up'
    : condition.op === '<' || condition.op === '<='
      ? 'down'
      : undefined;

/** A target that satisfies every GO bound, with a little room where the bound allows it. */
function fromGates(goBounds: readonly Condition[], all: readonly Condition[], integer: boolean) {
  const exact = goBounds.find((condition) => condition.op === '==');
  const ups = goBounds.filter((condition) => direction(condition) === 'up');
  const downs = goBounds.filter((condition) => direction(condition) === 'down');
  let target: number;
  let better: Direction;
  if (exact) {
    target = exact.value;
    // `== 0` counts something bad (errors) that falls to none; `== 100` something good that rises.
    better = exact.value === 0 ? 'down' : 'up';
  } else if (ups.length >= downs.length) {
    const bound = Math.max(...ups.map((condition) => condition.value));
    const strict = ups.some((condition) => condition.value === bound && condition.op === '>');
    target = integer ? bound + (strict ? 1 : 0) : bound + 0.04 * Math.max(1, Math.abs(bound));
    better = 'up';
  } else {
    const bound = Math.min(...downs.map((condition) => condition.value));
    const strict = downs.some((condition) => condition.value === bound && condition.op === '<');
    target = integer ? Math.max(0, bound - (strict ? 1 : 0)) : bound - 0.04 * Math.max(1, Math.abs(bound));
    better = 'down';
  }
  return { start: wrongSide(target, better, all, integer), target };
}

/** A metric only escalations read: it starts tripping them and settles well clear of them. */
function fromAlarms(alarms: readonly Condition[], integer: boolean) {
  const alarm = alarms[0] as Condition;
  // The alarm says what is bad: "> 0.2" is bad, so better is down.
  const better: Direction =
    alarm.op === '>' || alarm.op === '>='
      ? 'down'
      : alarm.op === '=='
        ? alarm.value === 0
          ? 'up'
          : 'down'
        : 'up';
  const scale = Math.max(1, Math.abs(alarm.value));
  const room = integer ? 1 : 0.25 * scale;
  const target = Math.max(0, better === 'down' ? alarm.value - room : alarm.value + room);
  const clean = alarm.op === '>' && alarm.value === 0 ? 0 : target;
  const start =
    better === 'down' ? alarm.value + (integer ? 2 : 0.3 * scale) : Math.max(0, alarm.value - room);
  return { start, target: clean };
}

/** A start beyond every bound on the metric (GO, CAUTION, escalation trigger), on the wrong side. */
function wrongSide(target: number, better: Direction, all: readonly Condition[], integer: boolean): number {
  const values = all.map((condition) => condition.value);
  const scale = Math.max(integer ? 2 : 1, ...values.map(Math.abs));
  if (better === 'up') {
    const lowest = Math.min(target, ...values);
    return integer
      ? Math.max(0, lowest - Math.max(2, Math.round(0.3 * scale)))
      : Math.max(0, lowest - 0.3 * scale);
  }
  const highest = Math.max(target, ...values);
  return integer ? highest + Math.max(2, Math.round(0.3 * scale)) : highest + 0.3 * scale;
}

/**
 * How far a metric's work has come, 0 to 1: the done share of the first phase reading it whose
 * gate has not passed (all the way once one has passed, since what passed stays built), or of the
 * whole plan for a metric no gate reads.
 */
export function progressOf(course: MetricCourse, work: WorkProgress): number {
  if (course.phases.length === 0) return work.planDone;
  if (course.phases.some((phase) => work.passed.has(phase))) return 1;
  return work.phaseDone.get(course.phases[0] as string) ?? 0;
}

/**
 * The metrics as a team would post them: each moves from its start toward its target as its work
 * gets done, with noise that fades as the work completes, and occasional setbacks that take a few
 * postings to repair. Everything random comes from `random`, so the same seed posts the same values.
 */
export class SyntheticMetrics {
  private readonly setback = new Map<string, number>();

  constructor(
    readonly courses: readonly MetricCourse[],
    private readonly random: () => number,
  ) {}

  /** The values to post now. */
  next(work: WorkProgress): { name: string; value: number }[] {
    return this.courses.map((course) => {
      const progress = progressOf(course, work);
      const span = course.target - course.start;
      const noise = NOISE * Math.abs(span) * (1 - progress) * (2 * this.random() - 1);
      let setback = (this.setback.get(course.name) ?? 0) * SETBACK_DECAY;
      if (this.random() < SETBACK_CHANCE) setback += (0.15 + 0.2 * this.random()) * Math.abs(span);
      if (setback < 0.02 * Math.abs(span)) setback = 0;
      this.setback.set(course.name, setback);
      // A setback pushes back toward the start, whichever way that is.
      const raw = course.start + span * progress + noise - Math.sign(span) * setback;
      const value = clamp(raw, course.min, course.max);
      return { name: course.name, value: course.integer ? Math.round(value) : Math.round(value * 100) / 100 };
    });
  }
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
