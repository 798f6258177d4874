import { sha256Hex } from '../node/sha256.js';

/** Step Functions' limit on an execution name's length. */
export const MAX_EXECUTION_NAME_LENGTH = 80;

// Plan ids (docs/plan-format.md); a `--` inside one would make `<project>--<phase>` ambiguous.
const PLAN_ID = /^[a-z][a-z0-9-]{0,62}$/;
// The characters CloudWatch Logs accepts in the execution names it logs, a subset of what Step Functions allows.
const UNSAFE = /[^A-Za-z0-9_-]/g;
const HASH_LENGTH = 16;

/**
 * The name of the phase-gate execution for one attempt at a phase's gate: `<project>--<phase>--<attempt>`,
 * so a second start of the same attempt is refused by Step Functions (and by the local runner) instead of
 * running the gate twice.
 *
 * Names longer than 80 characters, and ids that are not plan ids, get a readable prefix followed by
 * `--h` and 16 hex digits of a SHA-256 over the three parts; such a name never equals a plain one, which
 * always ends in `--<digits>`.
 *
 * @throws RangeError when `attempt` is not a positive integer or an id is empty.
 */
export function gateExecutionName(project: string, phase: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  if (project === '' || phase === '') {
    throw new RangeError('project and phase must not be empty');
  }
  const plain = `${project}--${phase}--${attempt}`;
  const readable = [project, phase].every((id) => PLAN_ID.test(id) && !id.includes('--'));
  if (readable && plain.length <= MAX_EXECUTION_NAME_LENGTH) return plain;

  const hash = sha256Hex(`${project}\n${phase}\n${attempt}`, HASH_LENGTH);
  const suffix = `--h${hash}`;
  const prefix = plain.replace(UNSAFE, '_').slice(0, MAX_EXECUTION_NAME_LENGTH - suffix.length);
  return `${prefix}${suffix}`;
}
