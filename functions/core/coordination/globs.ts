/**
 * Whether two path globs of leases can name the same file: `src/**` and `src/api/*.ts` can, `src/*.ts`
 * and `docs/**` cannot. Globs are those of `resources[].paths` (plan/lexical.ts, GLOB_PATTERN): `/`
 * between segments, `**` a whole segment matching any number of segments (none included), and inside
 * a segment `*` for any run of characters and `?` for one.
 *
 * Both levels are the same question, whether two patterns with a wildcard-star intersect, answered by
 * walking both at once: a breadth-first search over pairs of positions (at most 201 × 201 per segment
 * pair, 21 × 21 segment pairs), so it never backtracks exponentially.
 */
export function globsOverlap(a: string, b: string): boolean {
  return intersects(a.split('/'), b.split('/'), (token) => token === '**', segmentsOverlap);
}

/** Whether two segment patterns (`*.ts`, `api?`, `index.ts`) can match the same segment. */
function segmentsOverlap(a: string, b: string): boolean {
  return intersects(
    [...a],
    [...b],
    (token) => token === '*',
    (x, y) => x === '?' || y === '?' || x === y,
  );
}

/**
 * Whether some sequence matches both patterns. A star matches any run of elements (none included);
 * any other token matches one element, and two such tokens can match the same element when
 * `compatible` says so.
 */
function intersects<T>(
  a: readonly T[],
  b: readonly T[],
  isStar: (token: T) => boolean,
  compatible: (x: T, y: T) => boolean,
): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const queue: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const key = i * width + j;
    if (seen[key]) return;
    seen[key] = 1;
    queue.push(key);
  };
  while (queue.length > 0) {
    const key = queue.pop() as number;
    const i = Math.floor(key / width);
    const j = key % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    const starX = i < a.length && isStar(x as T);
    const starY = j < b.length && isStar(y as T);
    // A star may stop matching (match nothing more).
    if (starX) visit(i + 1, j);
    if (starY) visit(i, j + 1);
    if (i === a.length || j === b.length) continue;
    // One element matched by both: a star stays where it is, any other token moves on.
    if (starX && starY) continue; // two stars consume nothing useful together; each can stop alone
    if (starX) visit(i, j + 1);
    else if (starY) visit(i + 1, j);
    else if (compatible(x as T, y as T)) visit(i + 1, j + 1);
  }
  return false;
}

/**
 * Whether a concrete path (`src/api/server.ts`) is named by a glob of `resources[].paths`, with the
 * semantics of {@link globsOverlap}: `**` a whole segment matching any number of segments (none
 * included, so `src/**` names `src` too), `*` any run of characters inside a segment, `?` one.
 */
export function pathMatches(path: string, glob: string): boolean {
  return globMatcher(glob)(path);
}

const compiled = new Map<string, (path: string) => boolean>();
/** Compiled globs kept for reuse; a plan has at most a few thousand. */
const MAX_COMPILED = 10_000;

/**
 * A glob compiled once into a test of concrete paths (a regular expression without backtracking
 * hazards: every star is bounded by `/`), so matching 1,000 paths against 200 globs is 200,000 cheap
 * tests rather than 200,000 glob walks.
 */
export function globMatcher(glob: string): (path: string) => boolean {
  const known = compiled.get(glob);
  if (known) return known;
  const regex = new RegExp(`^${globSource(glob)}$`, 'u');
  const test = (path: string) => regex.test(`/${path}`);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(glob, test);
  return test;
}

/** The glob as a regular expression over `/` + the path: each segment is `/segment`, `**` any number of them. */
function globSource(glob: string): string {
  let source = '';
  for (const segment of glob.split('/')) {
    if (segment === '**') {
      source += '(?:/[^/]+)*';
      continue;
    }
    source += '/';
    for (const char of segment)
      source += char === '*' ? '[^/]*' : char === '?' ? '[^/]' : char.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return source;
}
