/**
 * Directed graphs over dense integer node ids, as adjacency lists. Iterative throughout so plans with
 * long dependency chains never overflow the stack.
 */
export type Adjacency = readonly (readonly number[])[];

/**
 * One cycle per strongly connected component that has one (Tarjan), each as the list of nodes
 * `[a, b, …]` meaning a → b → … → a. Self-loops count.
 */
export function findCycles(adjacency: Adjacency): number[][] {
  const n = adjacency.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const component = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [node: number, edge: number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1] as [number, number];
      const [node, edge] = frame;
      const next = adjacency[node] as readonly number[];
      if (edge < next.length) {
        frame[1] = edge + 1;
        const target = next[edge] as number;
        if (index[target] === -1) {
          index[target] = low[target] = counter++;
          stack.push(target);
          onStack[target] = 1;
          work.push([target, 0]);
        } else if (onStack[target]) {
          low[node] = Math.min(low[node] as number, index[target] as number);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[node] as number);
      if (low[node] === index[node]) {
        const members: number[] = [];
        let member: number;
        do {
          member = stack.pop() as number;
          onStack[member] = 0;
          component[member] = components.length;
          members.push(member);
        } while (member !== node);
        components.push(members);
      }
    }
  }

  const cycles: number[][] = [];
  components.forEach((members, id) => {
    const start = Math.min(...members);
    if (members.length === 1 && !(adjacency[start] as readonly number[]).includes(start)) return;
    cycles.push(shortestCycleThrough(adjacency, start, (node) => component[node] === id));
  });
  return cycles.sort((a, b) => (a[0] as number) - (b[0] as number));
}

/** Breadth-first search for the shortest path from `start` back to itself inside a component. */
function shortestCycleThrough(
  adjacency: Adjacency,
  start: number,
  inside: (node: number) => boolean,
): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as number;
    for (const target of adjacency[node] as readonly number[]) {
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0] as number) as number);
        return path;
      }
      if (!inside(target) || previous.has(target)) continue;
      previous.set(target, node);
      queue.push(target);
    }
  }
  return [start];
}

/**
 * Kahn's topological order of an acyclic graph whose edges point from a node to the nodes it depends
 * on: every node comes after all of its dependencies. Ties keep the node order, so results are stable.
 */
export function dependencyOrder(dependencies: Adjacency): Int32Array {
  const n = dependencies.length;
  const remaining = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let node = 0; node < n; node++) {
    for (const dependency of dependencies[node] as readonly number[]) {
      remaining[node] = (remaining[node] as number) + 1;
      (dependents[dependency] as number[]).push(node);
    }
  }
  const order = new Int32Array(n);
  let tail = 0;
  for (let node = 0; node < n; node++) if (remaining[node] === 0) order[tail++] = node;
  for (let head = 0; head < tail; head++) {
    for (const dependent of dependents[order[head] as number] as number[]) {
      remaining[dependent] = (remaining[dependent] as number) - 1;
      if (remaining[dependent] === 0) order[tail++] = dependent;
    }
  }
  if (tail !== n) throw new Error('dependencyOrder: the graph has a cycle');
  return order;
}
