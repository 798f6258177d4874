/**
 * The single-table key schema of the coordination table, in one place. Every item has a partition
 * key `pk` and sort key `sk`; `gsi1pk`/`gsi1sk` index the items that need a second access path;
 * `expiresAt` (epoch seconds) lets DynamoDB delete items whose time is up.
 *
 * | item                  | pk                          | sk                         | gsi1pk / gsi1sk                    |
 * | --------------------- | --------------------------- | -------------------------- | ---------------------------------- |
 * | current plan pointer  | `PROJECT#<project>`         | `PLAN`                     |                                    |
 * | plan version N        | `PROJECT#<project>#PLANS`   | `V#<N, 8 digits>`          |                                    |
 * | phase state           | `PROJECT#<project>`         | `PHASE#<phase>`            |                                    |
 * | task state            | `PROJECT#<project>`         | `TASK#<task>`              |                                    |
 * | agent state           | `PROJECT#<project>`         | `AGENT#<agent>`            |                                    |
 * | latest metric value   | `PROJECT#<project>`         | `METRIC#<name>`            |                                    |
 * | phase done counter    | `PROJECT#<project>`         | `DONE#<phase>`             |                                    |
 * | resource leases       | `PROJECT#<project>`         | `LEASES`                   |                                    |
 * | metric point          | `PROJECT#<project>#METRIC#<name>` | `<ISO time>#<value>` |                                    |
 * | audit event           | `PROJECT#<project>#EVENTS`  | `<event id>`               | `PROJECT#<project>#EVENT#<type>` / `<event id>` |
 * | handoff               | `PROJECT#<project>#HANDOFFS`| `<handoff id>`             |                                    |
 * | gate state            | `PROJECT#<project>#GATES`   | `STATE#<gate>`             |                                    |
 * | gate decision         | `PROJECT#<project>#GATES`   | `DECISION#<gate>#<attempt, 6 digits>#<evaluation, 3 digits>` |         |
 * | report chart (PNG)    | `PROJECT#<project>#CHARTS`  | `<name>#<ISO time>`        | (expires via `expiresAt`, 90 days) |
 * | unresolved escalation | `PROJECT#<project>#ESCALATIONS` | `OPEN#<dedup key>`     | `PROJECT#<project>#ESCALATIONS` / `<openedAt>#<id>` |
 * | resolved escalation   | `PROJECT#<project>#ESCALATIONS` | `RESOLVED#<id>`        | `PROJECT#<project>#ESCALATIONS` / `<openedAt>#<id>` |
 * | API token             | `TOKEN#<token id>`          | `TOKEN`                    | `PROJECT#<project>#TOKENS` or `TOKENS#ADMIN` / `<createdAt>#<id>` |
 * | handoff claim         | `IDEMPOTENCY#<key>`         | `IDEMPOTENCY`              | (expires via `expiresAt`)          |
 * | run-once record       | `IDEMPOTENCY`               | `<scope>#<sha256 of key>`  | (Powertools idempotency; expires via `expiresAt`) |
 * | project registry      | `PROJECTS`                  | `<project>`                |                                    |
 * | outbox entry          | `OUTBOX#<id>`               | `OUTBOX`                   | `OUTBOX#PENDING` or `OUTBOX#DEAD` / `<notBefore>#<id>` |
 * | rate-limit bucket     | `RATELIMIT#<name>`          | `BUCKET`                   |                                    |
 * | Slack message ref     | `SLACKMSG#<key>`            | `MESSAGE`                  | (expires via `expiresAt`)          |
 * | domain event (outbox) | `DOMAINEVENT#<event id>`    | `DOMAINEVENT`              | (expires via `expiresAt`, 7 days)  |
 * | stream checkpoint     | `PUBLISHER#<stream shard>`  | `CHECKPOINT`               | (convoy dev only)                  |
 *
 * The project partition (`PROJECT#<project>`) holds exactly the state a status needs, so a status
 * is one Query however many tasks the plan has; time series and the audit trail live in their own
 * partitions so they never slow that Query down.
 *
 * An unresolved escalation is keyed by its dedup key (`<rule>:<subject>`), so the conditional put
 * that opens one is also the lock that keeps a rule and subject from being open twice; resolving
 * moves it to `RESOLVED#<id>` in the same transaction. The unresolved set is one Query (`OPEN#`);
 * an id is found in it or at `RESOLVED#<id>` (two reads at most); gsi1 lists both kinds newest first.
 */

export type Key = { pk: string; sk: string };

/** The pk prefix of domain event items: the stream filter of the publisher matches it. */
export const DOMAIN_EVENT_PREFIX = 'DOMAINEVENT#';

const project = (id: string) => `PROJECT#${id}`;

export const keys = {
  planPointer: (p: string): Key => ({ pk: project(p), sk: 'PLAN' }),
  planVersion: (p: string, version: number): Key => ({
    pk: `${project(p)}#PLANS`,
    sk: `V#${String(version).padStart(8, '0')}`,
  }),
  phase: (p: string, id: string): Key => ({ pk: project(p), sk: `PHASE#${id}` }),
  task: (p: string, id: string): Key => ({ pk: project(p), sk: `TASK#${id}` }),
  agent: (p: string, id: string): Key => ({ pk: project(p), sk: `AGENT#${id}` }),
  latestMetric: (p: string, name: string): Key => ({ pk: project(p), sk: `METRIC#${name}` }),
  phaseDoneCount: (p: string, phase: string): Key => ({ pk: project(p), sk: `DONE#${phase}` }),
  /** Every resource lease of a project in one item: taking a lease is one conditional write on it. */
  leases: (p: string): Key => ({ pk: project(p), sk: 'LEASES' }),
  /**
   * A point is its name, time and value: the same point posted twice is one item (a retry is
   * idempotent), two values at the same instant are two.
   */
  metricPoint: (p: string, name: string, at: string, value: number): Key => ({
    pk: `${project(p)}#METRIC#${name}`,
    sk: `${at}#${String(value)}`,
  }),
  events: (p: string) => `${project(p)}#EVENTS`,
  event: (p: string, id: string): Key => ({ pk: `${project(p)}#EVENTS`, sk: id }),
  eventsOfType: (p: string, type: string) => `${project(p)}#EVENT#${type}`,
  handoff: (p: string, id: string): Key => ({ pk: `${project(p)}#HANDOFFS`, sk: id }),
  handoffs: (p: string) => `${project(p)}#HANDOFFS`,
  metricSeries: (p: string, name: string) => `${project(p)}#METRIC#${name}`,
  chart: (p: string, name: string, at: string): Key => ({ pk: `${project(p)}#CHARTS`, sk: `${name}#${at}` }),
  charts: (p: string) => `${project(p)}#CHARTS`,
  gates: (p: string) => `${project(p)}#GATES`,
  gateState: (p: string, gate: string): Key => ({ pk: `${project(p)}#GATES`, sk: `STATE#${gate}` }),
  gateDecision: (p: string, gate: string, attempt: number, evaluation: number): Key => ({
    pk: `${project(p)}#GATES`,
    sk: `DECISION#${gate}#${String(attempt).padStart(6, '0')}#${String(evaluation).padStart(3, '0')}`,
  }),
  token: (id: string): Key => ({ pk: `TOKEN#${id}`, sk: 'TOKEN' }),
  /** gsi1pk of a project's agent and person tokens, and of the admin tokens (gsi1sk `<createdAt>#<id>`). */
  projectTokens: (p: string) => `${project(p)}#TOKENS`,
  adminTokens: 'TOKENS#ADMIN',
  idempotency: (key: string): Key => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' }),
  project: (p: string): Key => ({ pk: 'PROJECTS', sk: p }),
  outboxEntry: (id: string): Key => ({ pk: `OUTBOX#${id}`, sk: 'OUTBOX' }),
  /** gsi1pk of outbox entries waiting to run (gsi1sk `<notBefore>#<id>`) and of dead letters. */
  outboxPending: 'OUTBOX#PENDING',
  outboxDead: 'OUTBOX#DEAD',
  rateLimit: (name: string): Key => ({ pk: `RATELIMIT#${name}`, sk: 'BUCKET' }),
  slackMessage: (key: string): Key => ({ pk: `SLACKMSG#${key}`, sk: 'MESSAGE' }),
  /**
   * A domain event written in the transaction of the change it reports; the table's stream hands it
   * to the publisher (the pk prefix is what the stream filter matches).
   */
  domainEvent: (id: string): Key => ({ pk: `${DOMAIN_EVENT_PREFIX}${id}`, sk: 'DOMAINEVENT' }),
  /** Where convoy dev's stream publisher keeps how far it read a shard. */
  publisherCheckpoint: (shard: string): Key => ({ pk: `PUBLISHER#${shard}`, sk: 'CHECKPOINT' }),
  /** The partition of a project's escalations, and the gsi1pk that lists them by opening time. */
  escalations: (p: string) => `${project(p)}#ESCALATIONS`,
  openEscalation: (p: string, dedupKey: string): Key => ({
    pk: `${project(p)}#ESCALATIONS`,
    sk: `OPEN#${dedupKey}`,
  }),
  resolvedEscalation: (p: string, id: string): Key => ({
    pk: `${project(p)}#ESCALATIONS`,
    sk: `RESOLVED#${id}`,
  }),
  /** gsi1sk of an escalation: newest first when read backwards. */
  escalationOrder: (openedAt: string, id: string) => `${openedAt}#${id}`,
  /** The partition holding a project's state items. */
  projectPartition: project,
} as const;

/** The kind of a project-partition item, from its sort key. */
export function itemKind(sk: string): 'plan' | 'phase' | 'task' | 'agent' | 'metric' | undefined {
  if (sk === 'PLAN') return 'plan';
  if (sk.startsWith('PHASE#')) return 'phase';
  if (sk.startsWith('TASK#')) return 'task';
  if (sk.startsWith('AGENT#')) return 'agent';
  if (sk.startsWith('METRIC#')) return 'metric';
  return undefined;
}

/** The id part of a project-partition sort key (`TASK#task-2a` → `task-2a`). */
export const idOf = (sk: string) => sk.slice(sk.indexOf('#') + 1);
