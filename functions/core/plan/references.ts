import { dependencyOrder, findCycles } from './graph.js';
import { JIRA_KEY_PATTERN, JIRA_PROJECT_PATTERN } from './lexical.js';
import { didYouMean } from './suggest.js';

/** Where a problem is, as keys and indexes into the plan document. */
export type Path = readonly (string | number)[];

export interface Issue {
  readonly path: Path;
  readonly message: string;
}

/**
 * The edit-distance cells "did you mean" may compute over the whole plan (each comparison of a
 * name with a candidate costs the product of their lengths): a few tenths of a second at most.
 */
const SUGGESTION_BUDGET = 20_000_000;

/** Escalation targets that resolve through the agent an escalation is about. */
const ROLE_TARGETS = ['owner', 'backup'] as const;

type Raw = Record<string, unknown>;

const records = (value: unknown): [Raw, number][] =>
  Array.isArray(value)
    ? value.flatMap((item, index): [Raw, number][] =>
        item !== null && typeof item === 'object' && !Array.isArray(item) ? [[item as Raw, index]] : [],
      )
    : [];

const strings = (value: unknown): [string, number][] =>
  Array.isArray(value)
    ? value.flatMap((item, index): [string, number][] => (typeof item === 'string' ? [[item, index]] : []))
    : [];

const record = (value: unknown): Raw =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {};

interface Declared {
  readonly path: Path;
  readonly index: number;
}

/** Collects the ids of one kind, reporting duplicates; returns id → where it is declared. */
function declare(kind: string, entries: [Raw, Path][], issues: Issue[]): Map<string, Declared> {
  const ids = new Map<string, Declared>();
  for (const [entry, path] of entries) {
    const id = entry.id;
    if (typeof id !== 'string') continue;
    const first = ids.get(id);
    if (first) {
      issues.push({
        path: [...path, 'id'],
        message: `duplicate ${kind} id "${id}" (first declared at ${formatPath(first.path)})`,
      });
    } else {
      ids.set(id, { path, index: ids.size });
    }
  }
  return ids;
}

/** `phases[1].tasks[0].dependsOn[0]` */
export function formatPath(path: Path): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

interface TaskRef {
  readonly id: string;
  readonly phase: number;
  readonly path: Path;
  readonly node: number;
}

/** The ids the plan declares, by kind, and where the phases and tasks are. */
interface Declarations {
  readonly people: Map<string, Declared>;
  readonly agents: Map<string, Declared>;
  readonly phases: Map<string, Declared>;
  readonly gates: Map<string, Declared>;
  readonly resources: Map<string, Declared>;
  readonly tasks: Map<string, Declared>;
  readonly phaseEntries: [Raw, number][];
  readonly taskEntries: [Raw, Path][];
}

/** What every check below reports to and resolves names with. */
interface Checking {
  readonly root: Raw;
  readonly declared: Declarations;
  readonly issues: Issue[];
  /** The keys of `integrations.jira.projects`. */
  readonly jiraProjects: readonly string[];
  /** Reports `value` at `path` unless it is one of `ids` (or `extra`), with a did-you-mean. */
  readonly refer: (
    path: Path,
    value: unknown,
    kind: string,
    ids: ReadonlyMap<string, unknown>,
    extra?: readonly string[],
  ) => void;
  /** ` (did you mean "…"?)`, or '' when nothing is close or the suggestion budget is spent. */
  readonly suggest: (value: string, count: number, candidates: () => readonly string[]) => string;
}

/**
 * The rules a schema cannot express: unique ids, references that resolve, no dependency cycles
 * among phases or tasks, and no task depending on a later phase. Works on the raw document so it can
 * report these problems alongside structural ones, ignoring whatever is malformed.
 */
export function checkReferences(plan: unknown): Issue[] {
  const issues: Issue[] = [];
  const root = record(plan);
  const declared = declareAll(root, issues);
  const checking: Checking = {
    root,
    declared,
    issues,
    jiraProjects: strings(record(record(root.integrations).jira).projects).map(([key]) => key),
    ...resolver(issues),
  };
  checkPeople(checking);
  checkPhases(checking);
  checkTasks(checking);
  checkGates(checking);
  checkEscalations(checking);
  checkDependencies(declared.phaseEntries, declared.phases, declared.tasks, issues);
  return issues;
}

/** Every id of every kind, reporting duplicates. */
function declareAll(root: Raw, issues: Issue[]): Declarations {
  const list = (key: string) => records(root[key]).map(([entry, i]): [Raw, Path] => [entry, [key, i]]);
  const people = declare('person', list('people'), issues);
  const agents = declare('agent', list('agents'), issues);
  const phaseEntries = records(root.phases);
  const phases = declare('phase', list('phases'), issues);
  const gates = declare('gate', list('gates'), issues);
  const resources = declare('resource', list('resources'), issues);
  declare('escalation rule', list('escalations'), issues);
  declare('schedule', list('schedules'), issues);
  const taskEntries = phaseEntries.flatMap(([phase, p]) =>
    records(phase.tasks).map(([task, t]): [Raw, Path] => [task, ['phases', p, 'tasks', t]]),
  );
  const tasks = declare('task', taskEntries, issues);
  return { people, agents, phases, gates, resources, tasks, phaseEntries, taskEntries };
}

/** `refer` and `suggest` over one shared suggestion budget. */
function resolver(issues: Issue[]): Pick<Checking, 'refer' | 'suggest'> {
  // "Did you mean" compares a name with every id of its kind: a budget keeps a plan full of unknown
  // references linear; past it, the errors come without suggestions.
  let cells = SUGGESTION_BUDGET;
  const suggest: Checking['suggest'] = (value, count, candidates) => {
    // Ids have at most 63 characters, other names 200.
    const cost = (value.length + 1) * count * 201;
    if (cost > cells) return '';
    cells -= cost;
    return didYouMean(value, candidates());
  };
  const refer: Checking['refer'] = (path, value, kind, ids, extra = []) => {
    if (typeof value !== 'string' || ids.has(value) || extra.includes(value)) return;
    const hint = suggest(value, ids.size + extra.length, () => [...ids.keys(), ...extra]);
    issues.push({ path, message: `unknown ${kind} "${value}"${hint}` });
  };
  return { refer, suggest };
}

/** No person named like an escalation role; agents' owners and backups and resources' owners exist. */
function checkPeople({ root, declared, issues, refer }: Checking): void {
  for (const [person, i] of records(root.people)) {
    if ((ROLE_TARGETS as readonly unknown[]).includes(person.id)) {
      issues.push({
        path: ['people', i, 'id'],
        message: `"${person.id}" is reserved for escalation targets; choose another person id`,
      });
    }
  }
  // A GitHub login is one agent's: a push by it must name one agent. Logins are case-insensitive.
  const logins = new Map<string, string>();
  for (const [agent, i] of records(root.agents)) {
    refer(['agents', i, 'owner'], agent.owner, 'person', declared.people);
    refer(['agents', i, 'backup'], agent.backup, 'person', declared.people);
    for (const [login, l] of strings(agent.github)) {
      const holder = logins.get(login.toLowerCase());
      if (holder !== undefined)
        issues.push({
          path: ['agents', i, 'github', l],
          message: `GitHub login "${login}" already belongs to agent "${holder}"; a login belongs to one agent`,
        });
      else logins.set(login.toLowerCase(), String(agent.id));
    }
  }
  for (const [resource, i] of records(root.resources))
    refer(['resources', i, 'owner'], resource.owner, 'agent', declared.agents);
}

/** Phases depend on phases that exist, and each has a gate of its own. */
function checkPhases({ declared, issues, refer }: Checking): void {
  const gateUsers = new Map<string, string>();
  for (const [phase, p] of declared.phaseEntries) {
    strings(phase.dependsOn).forEach(([dependency, d]) => {
      refer(['phases', p, 'dependsOn', d], dependency, 'phase', declared.phases);
    });
    refer(['phases', p, 'gate'], phase.gate, 'gate', declared.gates);
    if (typeof phase.gate === 'string' && declared.gates.has(phase.gate)) {
      const user = gateUsers.get(phase.gate);
      if (user !== undefined) {
        issues.push({
          path: ['phases', p, 'gate'],
          message: `gate "${phase.gate}" is already the gate of phase "${user}"; each phase needs its own gate`,
        });
      } else gateUsers.set(phase.gate, String(phase.id));
    }
  }
}

/** A task's agent, pool, resources and dependencies exist, once each, and its issue key is in a linked JIRA project. */
function checkTasks({ declared, issues, refer, jiraProjects }: Checking): void {
  for (const [task, path] of declared.taskEntries) {
    refer([...path, 'agent'], task.agent, 'agent', declared.agents);
    // Each agent once: a repeat is reported where it first repeats.
    const pool = new Map<string, boolean>();
    for (const [agent, a] of strings(task.pool)) {
      const repeated = pool.get(agent);
      if (repeated === false)
        issues.push({ path: [...path, 'pool', a], message: `agent "${agent}" is listed twice` });
      else if (repeated === undefined) refer([...path, 'pool', a], agent, 'agent', declared.agents);
      pool.set(agent, repeated !== undefined);
    }
    strings(task.touches).forEach(([resource, r]) => {
      refer([...path, 'touches', r], resource, 'resource', declared.resources);
    });
    const seen = new Set<string>();
    for (const [dependency, d] of strings(task.dependsOn)) {
      if (dependency === task.id)
        issues.push({ path: [...path, 'dependsOn', d], message: `task "${dependency}" depends on itself` });
      else if (seen.has(dependency))
        issues.push({ path: [...path, 'dependsOn', d], message: `"${dependency}" is listed twice` });
      else refer([...path, 'dependsOn', d], dependency, 'task', declared.tasks);
      seen.add(dependency);
    }
    const key = typeof task.jira === 'string' ? JIRA_KEY_PATTERN.exec(task.jira) : null;
    if (key && jiraProjects.length > 0 && !jiraProjects.includes(key[1] as string)) {
      issues.push({
        path: [...path, 'jira'],
        message: `issue key "${task.jira}" is not in integrations.jira.projects (${jiraProjects.join(', ')}), so Convoy would never link it`,
      });
    }
  }
}

/** A gate's approvers are people of the plan. */
function checkGates({ root, declared, refer }: Checking): void {
  for (const [gate, g] of records(root.gates)) {
    strings(gate.approvers).forEach(([approver, a]) => {
      refer(['gates', g, 'approvers', a], approver, 'person', declared.people);
    });
  }
}

/**
 * An escalation rule has exactly one of `when` and `on`, `resolvedBy` only with `on`, targets that
 * are people or roles, and a JIRA project the plan links.
 */
function checkEscalations({ root, declared, issues, refer, suggest, jiraProjects }: Checking): void {
  for (const [rule, e] of records(root.escalations)) {
    const hasWhen = rule.when !== undefined;
    const hasOn = rule.on !== undefined;
    if (hasWhen === hasOn) {
      issues.push({
        path: ['escalations', e],
        message: hasWhen
          ? 'has both "when" and "on"; a rule needs exactly one of them'
          : 'needs exactly one of "when" (a condition) or "on" (an event type)',
      });
    }
    if (rule.resolvedBy !== undefined && hasWhen && !hasOn) {
      issues.push({
        path: ['escalations', e, 'resolvedBy'],
        message:
          'applies to event rules ("on") only; a "when" rule resolves itself when its condition stops holding',
      });
    }
    const targets = (path: Path, list: unknown) =>
      strings(list).forEach(([target, t]) => {
        refer([...path, t], target, 'person', declared.people, ROLE_TARGETS);
      });
    targets(['escalations', e, 'notify'], rule.notify);
    records(rule.levels).forEach(([level, l]) => {
      targets(['escalations', e, 'levels', l, 'notify'], level.notify);
    });
    // Creating an issue needs a project the plan declares: the check catches a typo before JIRA does.
    const project = record(rule.jira).project;
    if (
      typeof project === 'string' &&
      JIRA_PROJECT_PATTERN.test(project) &&
      !jiraProjects.includes(project)
    ) {
      issues.push({
        path: ['escalations', e, 'jira', 'project'],
        message:
          jiraProjects.length > 0
            ? `JIRA project "${project}" is not in integrations.jira.projects (${jiraProjects.join(', ')})${suggest(project, jiraProjects.length, () => jiraProjects)}`
            : `JIRA project "${project}" is not in integrations.jira.projects (the plan lists none); add it there`,
      });
    }
  }
}

/**
 * Whether phase `later` waits for phase `earlier`, directly or not. A task depending on a task of
 * a later phase is reported as such, with a clearer message than the cycle it also makes. Most
 * questions are answered by the topological order alone (a phase never waits for one ordered after
 * it); the others walk the phase graph from `later`, memoized, within a budget of visited phases so
 * that a plan of many phases stays linear. Past the budget the answer is no, and the cycle check
 * reports the dependency instead.
 */
function phaseReachability(phaseDeps: number[][], acyclic: boolean) {
  let position: Int32Array | undefined;
  if (acyclic) {
    position = new Int32Array(phaseDeps.length);
    dependencyOrder(phaseDeps).forEach((phase, index) => {
      (position as Int32Array)[phase] = index;
    });
  }
  const ancestors = new Map<number, Set<number>>();
  let budget = 200_000;
  return (later: number, earlier: number): boolean => {
    // Dependencies come first in the order: `earlier` after `later` cannot be waited for.
    if (position && (position[earlier] as number) > (position[later] as number)) return false;
    let seen = ancestors.get(later);
    if (!seen) {
      if (budget <= 0) return false;
      seen = new Set<number>();
      const todo = [...(phaseDeps[later] as number[])];
      while (todo.length > 0) {
        const phase = todo.pop() as number;
        if (seen.has(phase)) continue;
        seen.add(phase);
        budget -= 1 + (phaseDeps[phase] as number[]).length;
        for (const dependency of phaseDeps[phase] as number[]) todo.push(dependency);
      }
      ancestors.set(later, seen);
    }
    return seen.has(earlier);
  };
}

function checkDependencies(
  phaseEntries: [Raw, number][],
  phases: ReadonlyMap<string, Declared>,
  taskIds: ReadonlyMap<string, Declared>,
  issues: Issue[],
): void {
  // Phase graph, by declaration index (duplicates are already reported and ignored here).
  const phaseOf = new Map<string, number>();
  const phasePaths: Path[] = [];
  const phaseIds: string[] = [];
  const phaseDeps: number[][] = [];
  const phaseDepIndex: number[][] = [];
  for (const [phase, p] of phaseEntries) {
    if (typeof phase.id !== 'string' || phases.get(phase.id)?.path[1] !== p) continue;
    phaseOf.set(phase.id, phaseIds.length);
    phaseIds.push(phase.id);
    phasePaths.push(['phases', p]);
  }
  for (const [phase, p] of phaseEntries) {
    if (typeof phase.id !== 'string' || phases.get(phase.id)?.path[1] !== p) continue;
    const deps: number[] = [];
    const indexes: number[] = [];
    for (const [dependency, d] of strings(phase.dependsOn)) {
      const target = phaseOf.get(dependency);
      if (target !== undefined && !deps.includes(target)) {
        deps.push(target);
        indexes.push(d);
      }
    }
    phaseDeps.push(deps);
    phaseDepIndex.push(indexes);
  }
  const phaseCycles = findCycles(phaseDeps);
  for (const cycle of phaseCycles) {
    const first = cycle[0] as number;
    const next = cycle[1 % cycle.length] as number;
    const entry = phaseDepIndex[first]?.[phaseDeps[first]?.indexOf(next) ?? 0] ?? 0;
    issues.push({
      path: [...(phasePaths[first] as Path), 'dependsOn', entry],
      message: `dependency cycle among phases: ${[...cycle, first].map((i) => phaseIds[i]).join(' → ')} (each depends on the next)`,
    });
  }

  const waitsFor = phaseReachability(phaseDeps, phaseCycles.length === 0);

  // Task graph: tasks, then one node per phase standing for "all tasks of this phase done".
  const tasks: TaskRef[] = [];
  const taskNode = new Map<string, number>();
  const rawTasks: Raw[] = [];
  for (const [phase, p] of phaseEntries) {
    const phaseIndex = typeof phase.id === 'string' ? phaseOf.get(phase.id) : undefined;
    if (phaseIndex === undefined || phasePaths[phaseIndex]?.[1] !== p) continue;
    for (const [task, t] of records(phase.tasks)) {
      if (
        typeof task.id !== 'string' ||
        taskIds.get(task.id)?.path[3] !== t ||
        taskIds.get(task.id)?.path[1] !== p
      )
        continue;
      taskNode.set(task.id, tasks.length);
      tasks.push({ id: task.id, phase: phaseIndex, path: ['phases', p, 'tasks', t], node: tasks.length });
      rawTasks.push(task);
    }
  }
  const phaseNode = (phase: number) => tasks.length + phase;
  const adjacency: number[][] = Array.from({ length: tasks.length + phaseIds.length }, () => []);
  const explicitIndex = new Map<string, number>();
  tasks.forEach((task, n) => {
    for (const [dependency, d] of strings(rawTasks[n]?.dependsOn)) {
      const target = taskNode.get(dependency);
      if (target === undefined || target === n) continue;
      const targetPhase = (tasks[target] as TaskRef).phase;
      if (targetPhase !== task.phase && waitsFor(targetPhase, task.phase)) {
        issues.push({
          path: [...task.path, 'dependsOn', d],
          message: `task "${task.id}" of phase "${phaseIds[task.phase]}" depends on task "${dependency}" of the later phase "${phaseIds[targetPhase]}" (which waits for phase "${phaseIds[task.phase]}")`,
        });
        continue;
      }
      (adjacency[n] as number[]).push(target);
      explicitIndex.set(`${n}>${target}`, d);
    }
    if (phaseCycles.length === 0) {
      for (const dependency of phaseDeps[task.phase] as number[])
        (adjacency[n] as number[]).push(phaseNode(dependency));
      (adjacency[phaseNode(task.phase)] as number[]).push(n);
    }
  });
  if (phaseCycles.length === 0) {
    const populated = new Set(tasks.map((task) => task.phase));
    phaseDeps.forEach((deps, phase) => {
      if (!populated.has(phase)) {
        for (const dependency of deps) (adjacency[phaseNode(phase)] as number[]).push(phaseNode(dependency));
      }
    });
  }

  const label = (node: number) =>
    node < tasks.length
      ? (tasks[node] as TaskRef).id
      : `(every task of phase "${phaseIds[node - tasks.length]}")`;
  for (const cycle of findCycles(adjacency)) {
    // Start at a task whose next hop is an explicit dependsOn entry: that is where the error points.
    const rotation = Math.max(
      0,
      cycle.findIndex((node, i) => explicitIndex.has(`${node}>${cycle[(i + 1) % cycle.length]}`)),
    );
    const ordered = [...cycle.slice(rotation), ...cycle.slice(0, rotation)];
    const first = ordered[0] as number;
    const entry = explicitIndex.get(`${first}>${ordered[1 % ordered.length]}`) ?? 0;
    issues.push({
      path: [...(tasks[first] as TaskRef).path, 'dependsOn', entry],
      message: `dependency cycle: ${[...ordered, first].map(label).join(' → ')} (each depends on the next)`,
    });
  }
}
