import { type DomainEvent, domainEvent } from '../domain-events.js';
import {
  ConflictError,
  ForbiddenError,
  LeaseConflictError,
  NotFoundError,
  ValidationError,
  VersionConflictError,
} from '../errors.js';
import { globProblem, LIMITS, leaseDuration, type Plan } from '../plan/index.js';
import { didYouMean } from '../plan/suggest.js';
import {
  type CoordinationPorts,
  leaseData,
  leaseDetail,
  queued,
  requireTask,
  slackNotices,
  withRetries,
} from './commands.js';
import { newLeaseId } from './fencing.js';
import { globsOverlap } from './globs.js';
import { type Actor, type AuditEvent, describeActor, type LeaseMode, type ResourceLease } from './model.js';
import { auditEvent, requirePlan } from './records.js';

/** Active resource leases one project may hold at once: they live in one item (DynamoDB: 400 KB). */
export const MAX_ACTIVE_LEASES = 100;
/** Bounds of a lease's time to live, in seconds. */
export const MIN_LEASE_SECONDS = 60;
export const MAX_LEASE_SECONDS = LIMITS.maxLeaseMinutes * 60;
/** A person's lease without `ttl`. */
const DEFAULT_PERSON_LEASE_SECONDS = 30 * 60;
/** Expired leases one write clears, so a write stays well inside one transaction's 100 items. */
const EXPIRED_PER_WRITE = 20;

/** What a lease covers and how, for the overlap test. */
interface Coverage {
  readonly resource?: string;
  readonly paths: readonly string[];
  readonly mode: LeaseMode;
  readonly holder: string;
}

/** Two leases cover something in common: the same resource, or path globs that can name one file. */
function overlaps(a: Coverage, b: Coverage): boolean {
  if (a.resource !== undefined && a.resource === b.resource) return true;
  return a.paths.some((x) => b.paths.some((y) => globsOverlap(x, y)));
}

/**
 * The live leases of other holders that `wanted` collides with: an exclusive lease conflicts with
 * any overlapping lease, a shared one only with an exclusive one. A holder never conflicts with itself.
 */
export function leaseConflicts(live: readonly ResourceLease[], wanted: Coverage): ResourceLease[] {
  return live.filter(
    (lease) =>
      lease.holder !== wanted.holder &&
      (lease.mode === 'exclusive' || wanted.mode === 'exclusive') &&
      overlaps(lease, wanted),
  );
}

export interface LeaseRequest {
  readonly project: string;
  readonly actor: Actor;
  readonly resource?: string;
  readonly paths?: readonly string[];
  readonly mode: LeaseMode;
  /** Seconds; default: the agent's lease (plan `agents[].lease`), 30 minutes for a person. */
  readonly ttlSeconds?: number;
  readonly task?: string;
}

/**
 * Takes a lease on a resource of the plan or on path globs. A lease that collides with another
 * holder's is refused with `LeaseConflictError` naming the holder, its task and expiry, and recorded
 * as `resource.conflict` so everyone hears of it; the resource's owner always gets its lease, and the
 * conflict is recorded all the same. The same holder asking again for what it holds (a retry) gets its
 * lease back, renewed.
 */
export async function acquireLease(ports: CoordinationPorts, input: LeaseRequest): Promise<ResourceLease> {
  const stored = await requirePlan(ports, input.project);
  const plan = stored.plan;
  const holder = leaseHolder(input.actor);
  const { resource, paths } = coverage(plan, input);
  if (input.task !== undefined) requireTask(plan, input.task);
  const ttl = ttlSeconds(plan, input);
  return withRetries(ports, async () => {
    const set = await ports.store.getLeases(input.project);
    const now = ports.clock.now();
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
    const live = set.leases.filter((lease) => lease.expiresAt > at);
    const expired = set.leases.filter((lease) => lease.expiresAt <= at).slice(0, EXPIRED_PER_WRITE);
    const wanted = { ...(resource !== undefined ? { resource } : {}), paths, mode: input.mode, holder };
    const same = live.find(
      (lease) =>
        lease.holder === holder &&
        lease.resource === resource &&
        lease.mode === input.mode &&
        lease.task === input.task &&
        lease.paths.join('\n') === paths.join('\n'),
    );
    const conflicts = leaseConflicts(live, wanted);
    const owner = resource !== undefined && plan.resources.find((r) => r.id === resource)?.owner;
    const isOwner = owner !== undefined && owner !== false && holder === `agent:${owner}`;
    const [first] = conflicts;
    if (first && !isOwner) {
      await recordConflict(ports, plan, input, wanted, first, false, at);
      throw new LeaseConflictError(
        `${describeWanted(wanted)} overlaps ${first.mode === 'exclusive' ? 'an exclusive' : 'a'} lease of ${first.holder}${
          first.task ? ` for task ${first.task}` : ''
        } (${describeWanted(first)}) until ${first.expiresAt}; wait for it to end, or ask its holder`,
        {
          lease: first.id,
          holder: first.holder,
          expiresAt: first.expiresAt,
          ...(first.task ? { task: first.task } : {}),
        },
      );
    }
    const lease: ResourceLease = same
      ? { ...same, expiresAt }
      : {
          id: newLeaseId(ports.ids, at),
          holder,
          ...(resource !== undefined ? { resource } : {}),
          paths,
          mode: input.mode,
          ...(input.task !== undefined ? { task: input.task } : {}),
          acquiredAt: at,
          expiresAt,
        };
    const others = live.filter((existing) => existing.id !== lease.id);
    if (others.length + 1 > MAX_ACTIVE_LEASES)
      throw new ConflictError(
        `project ${input.project} holds ${others.length} active leases, the most it may hold is ${MAX_ACTIVE_LEASES}; release some first`,
      );
    const events: AuditEvent[] = [
      auditEvent(ports, at, input.actor, {
        type: 'lease.acquired',
        subject: lease.id,
        data: leaseData(lease),
      }),
      ...expiredEvents(ports, expired, at),
    ];
    const published: DomainEvent[] = [
      domainEvent('lease.acquired', { project: input.project, ...leaseDetail(lease), at }),
      ...expired.map((gone) =>
        domainEvent('lease.expired', { project: input.project, ...leaseDetail(gone), at }),
      ),
    ];
    const stillExpired = set.leases.filter((l) => l.expiresAt <= at).slice(EXPIRED_PER_WRITE);
    await ports.store.commit(input.project, {
      leases: {
        next: { leases: [...others, ...stillExpired, lease], version: set.version + 1 },
        expectedVersion: set.version,
      },
      events,
      published,
    });
    if (first) await recordConflict(ports, plan, input, wanted, first, true, at);
    return lease;
  });
}

/** The project's live leases, soonest to expire first. */
export async function listLeases(
  ports: CoordinationPorts,
  input: { project: string },
): Promise<{ leases: ResourceLease[] }> {
  await requirePlan(ports, input.project);
  const at = ports.clock.now().toISOString();
  const set = await ports.store.getLeases(input.project);
  const leases = set.leases
    .filter((lease) => lease.expiresAt > at)
    .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : a.id < b.id ? -1 : 1));
  return { leases };
}

/**
 * Ends a lease before it expires: its holder, or a person or admin (who steer), may. A lease that
 * is gone already (released, expired and cleared) is a 404 saying so.
 */
export async function releaseLease(
  ports: CoordinationPorts,
  input: { project: string; id: string; actor: Actor },
): Promise<{ released: boolean; lease: ResourceLease }> {
  await requirePlan(ports, input.project);
  return withRetries(ports, async () => {
    const set = await ports.store.getLeases(input.project);
    const at = ports.clock.now().toISOString();
    const lease = set.leases.find((candidate) => candidate.id === input.id);
    if (!lease || lease.expiresAt <= at)
      throw new NotFoundError(
        `lease ${input.id} is not active in project ${input.project} (it was released, or it expired)`,
      );
    const actor = describeActor(input.actor);
    if (input.actor.kind === 'agent' && lease.holder !== actor)
      throw new ForbiddenError(
        `${actor} may not release lease ${lease.id} of ${lease.holder}; only its holder, a person or an admin may`,
      );
    await ports.store.commit(input.project, {
      leases: {
        next: { leases: set.leases.filter((l) => l.id !== lease.id), version: set.version + 1 },
        expectedVersion: set.version,
      },
      events: [
        auditEvent(ports, at, input.actor, {
          type: 'lease.released',
          subject: lease.id,
          data: leaseData(lease),
        }),
      ],
      published: [domainEvent('lease.released', { project: input.project, ...leaseDetail(lease), at })],
    });
    return { released: true, lease };
  });
}

/** Clears the leases whose time ran out, with `lease.expired` (the monitor calls it). */
export async function expireLeases(ports: CoordinationPorts, project: string): Promise<string[]> {
  const cleared: string[] = [];
  for (let round = 0; round < 10; round++) {
    const set = await ports.store.getLeases(project);
    const at = ports.clock.now().toISOString();
    const expired = set.leases.filter((lease) => lease.expiresAt <= at).slice(0, EXPIRED_PER_WRITE);
    if (expired.length === 0) break;
    const gone = new Set(expired.map((lease) => lease.id));
    try {
      await ports.store.commit(project, {
        leases: {
          next: { leases: set.leases.filter((lease) => !gone.has(lease.id)), version: set.version + 1 },
          expectedVersion: set.version,
        },
        events: expiredEvents(ports, expired, at),
        published: expired.map((lease) =>
          domainEvent('lease.expired', { project, ...leaseDetail(lease), at }),
        ),
      });
      cleared.push(...gone);
    } catch (error) {
      // A lease taken or released meanwhile: read again.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  return cleared;
}

function expiredEvents(
  ports: CoordinationPorts,
  expired: readonly ResourceLease[],
  at: string,
): AuditEvent[] {
  return expired.map((lease) =>
    auditEvent(
      ports,
      at,
      { kind: 'system' },
      {
        type: 'lease.expired',
        subject: lease.id,
        note: `${lease.holder}'s lease on ${describeWanted(lease)} expired at ${lease.expiresAt}`,
        data: leaseData(lease),
      },
    ),
  );
}

/** `resource.conflict` in the trail and on the bus, and a notice in Slack: everyone should know. */
async function recordConflict(
  ports: CoordinationPorts,
  plan: Plan,
  input: LeaseRequest,
  wanted: Coverage,
  existing: ResourceLease,
  overridden: boolean,
  at: string,
): Promise<void> {
  const requestedBy = wanted.holder;
  const detail = {
    project: input.project,
    ...(wanted.resource !== undefined ? { resource: wanted.resource } : {}),
    paths: [...wanted.paths],
    requestedBy,
    lease: existing.id,
    holder: existing.holder,
    ...(existing.task !== undefined ? { task: existing.task } : {}),
    overridden,
    at,
  };
  const event = domainEvent('resource.conflict', detail);
  const holderAgent = existing.holder.startsWith('agent:')
    ? existing.holder.slice('agent:'.length)
    : undefined;
  await ports.store.commit(input.project, {
    events: [
      auditEvent(ports, at, input.actor, {
        type: 'resource.conflict',
        subject: wanted.resource ?? wanted.paths.join(', '),
        note: `${requestedBy} asked for a ${wanted.mode} lease on ${describeWanted(wanted)}, held by ${existing.holder}${
          overridden ? '; taken anyway by the resource owner' : '; refused'
        }`,
        data: { ...detail },
      }),
    ],
    ...queued(
      ports,
      slackNotices(ports, plan, holderAgent, `resource-conflict:${event.id}`, {
        type: 'resource-conflict',
        project: input.project,
        what: describeWanted(wanted),
        requestedBy,
        holder: existing.holder,
        ...(existing.task !== undefined ? { task: existing.task } : {}),
        expiresAt: existing.expiresAt,
        overridden,
      }),
    ),
    published: [event],
  });
}

/** `resource db` or `paths src/**, docs/*`. */
function describeWanted(lease: { resource?: string; paths: readonly string[] }): string {
  return lease.resource !== undefined ? `resource ${lease.resource}` : `paths ${lease.paths.join(', ')}`;
}

/** Who holds a lease: an agent or a person of the plan, or the admin. */
function leaseHolder(actor: Actor): string {
  if (actor.kind === 'agent' || actor.kind === 'person' || actor.kind === 'admin')
    return describeActor(actor);
  throw new ForbiddenError(`${describeActor(actor)} may not take leases`);
}

/** The resource and path globs a request covers, checked against the plan and the glob rules. */
function coverage(plan: Plan, input: LeaseRequest): { resource?: string; paths: string[] } {
  if ((input.resource === undefined) === (input.paths === undefined))
    throw new ValidationError(
      'name exactly one of resource (a resource id of the plan) or paths (path globs)',
    );
  if (input.resource !== undefined) {
    const resource = plan.resources.find((candidate) => candidate.id === input.resource);
    if (!resource)
      throw new NotFoundError(
        `resource ${input.resource} is not in the plan of project ${input.project}${didYouMean(
          input.resource,
          plan.resources.map((r) => r.id),
        )}`,
      );
    return { resource: resource.id, paths: [...(resource.paths ?? [])] };
  }
  const paths = input.paths as readonly string[];
  if (paths.length === 0 || paths.length > LIMITS.maxResourcePaths)
    throw new ValidationError(`paths: give 1 to ${LIMITS.maxResourcePaths} path globs, got ${paths.length}`);
  for (const [index, glob] of paths.entries()) {
    if (glob.length > LIMITS.maxGlobLength)
      throw new ValidationError(
        `paths[${index}]: a glob is at most ${LIMITS.maxGlobLength} characters, got ${glob.length}`,
      );
    const problem = globProblem(glob);
    if (problem)
      throw new ValidationError(`paths[${index}]: invalid path glob ${JSON.stringify(glob)}: ${problem}`);
  }
  return { paths: [...new Set(paths)] };
}

function ttlSeconds(plan: Plan, input: LeaseRequest): number {
  if (input.ttlSeconds !== undefined) {
    if (
      !Number.isInteger(input.ttlSeconds) ||
      input.ttlSeconds < MIN_LEASE_SECONDS ||
      input.ttlSeconds > MAX_LEASE_SECONDS
    )
      throw new ValidationError(
        `ttl: a lease lives ${MIN_LEASE_SECONDS} s (1m) to ${MAX_LEASE_SECONDS} s (24h), got ${input.ttlSeconds}`,
      );
    return input.ttlSeconds;
  }
  if (input.actor.kind === 'agent') {
    const agent = plan.agents.find((candidate) => candidate.id === (input.actor as { id: string }).id);
    if (agent) return Math.round(leaseDuration(agent) / 1000);
  }
  return DEFAULT_PERSON_LEASE_SECONDS;
}
