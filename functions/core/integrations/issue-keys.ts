import { MINUTES_PER_WORKING_DAY } from '../plan/lexical.js';

/**
 * JIRA issue keys and smart commits in the text GitHub sends: commit messages, branch names, PR
 * titles and bodies. Both scanners run in time linear in the text, whatever the text.
 */

export interface IssueKeyOptions {
  /**
   * The JIRA projects whose keys count (the plan's `integrations.jira.projects`), in any case.
   * Without it every key-shaped word counts, `UTF-8` and `SHA-256` included, and `_` separates
   * words, so `MY_PROJ-12` reads as `PROJ-12`: plans should list their projects. An empty list
   * means that no key counts.
   */
  readonly projects?: readonly string[];
}

/** One smart-commit command for one issue, in the order the message gives them. */
export type SmartCommit =
  | { readonly issue: string; readonly kind: 'comment'; readonly text: string }
  | { readonly issue: string; readonly kind: 'time'; readonly seconds: number; readonly comment?: string }
  /** `name` is the transition as written, lower-cased, hyphens read as spaces (`start review`). */
  | { readonly issue: string; readonly kind: 'transition'; readonly name: string };

/** Atlassian's extended key format allows 255 characters; longer runs are not project keys. */
const MAX_PROJECT_LENGTH = 255;
const HYPHEN = 0x2d;
const UNDERSCORE = 0x5f;

const WORD_CHARACTER = /[\p{L}\p{M}\p{N}]/u;
/**
 * Scripts written without spaces between words, whose letters touch a key in ordinary prose
 * ("修复ABC-12", "ABC-12を修正", "ABC-12를"): they separate a key rather than glue to it.
 */
const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;

/**
 * `#` at the start of the text or after white space, then a name that starts with a letter:
 * `#123` (a GitHub reference), `# Heading`, `C#` and `page#anchor` are not commands.
 */
const COMMAND = /(?<!\S)#(\p{L}[\p{L}\p{M}\p{N}_-]*)/gu;
/** `#ABC-123` names an issue, the way GitHub users write references; it is never a command. */
const KEY_SHAPED = /^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$/;
/** Sticky, so a long run of durations is read in one pass. */
const DURATION = /(\d+(?:\.\d+)?)([wdhm])(?!\p{L})\s*/iuy;
const SECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  w: 5 * MINUTES_PER_WORKING_DAY * 60,
  d: MINUTES_PER_WORKING_DAY * 60,
  h: 3600,
  m: 60,
};
const HAS_CONTENT = /[\p{L}\p{N}]/u;
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The JIRA issue keys in `text`, upper-cased, each once, in order of first appearance.
 *
 * A key is a project part (a letter, then letters or digits; 2 to 255 characters) a hyphen and a
 * number without leading zero, in any case (`abc-12` is `ABC-12`). It must stand as a word of its
 * own: a letter or digit touching it on either side, in any alphabetic script, makes it part of a
 * longer word (`ABC-12abc`, `XABC-12`, `éABC-12` hold no key), while punctuation, white space, `-`,
 * `_` and the letters of scripts written without spaces (Chinese, Japanese, Korean, Thai) separate
 * it (`feature/ABC-12-login`, `[abc-12]`, `…/browse/ABC-12`, `ABC-12:`, `(ABC-12)`, `x_ABC-12`).
 * With `projects`, only keys of those projects count, and their keys may contain `_`.
 */
export function extractIssueKeys(text: string, options: IssueKeyOptions = {}): string[] {
  return [...new Set(scanIssueKeys(text, projectSet(options)))];
}

/**
 * The smart-commit commands in a commit message, as Atlassian documents them ("Process issues with
 * smart commits"): `<ignored text> ISSUE_KEY <ignored text> #command <arguments>` on one line.
 *
 * - `#comment <text>` comments on the issue.
 * - `#time 1w 2d 4h 30m <comment>` logs work (1w = 5d, 1d = 8h; values may be decimal); the text
 *   after the durations is the worklog comment.
 * - Any other `#<transition-name>` (`#resolve`, `#start-review`) asks for that workflow transition;
 *   text after it is a comment, as in Atlassian's `JRA-90 #close Fixed this today`.
 *
 * `#123` (a GitHub reference), `#ABC-123` (a key) and a `#` inside a word (`C#`) are not commands
 * and stay part of the text around them.
 *
 * Every key before the first command of a line receives each of the line's commands; a command runs
 * to the end of the line or to the next command, so a line without a key before its commands does
 * nothing. Commands that would do nothing (an empty comment, a `#time` without a duration) are
 * dropped. The result is ordered by line, then command, then key.
 */
export function parseSmartCommits(message: string, options: IssueKeyOptions = {}): SmartCommit[] {
  const projects = projectSet(options);
  const result: SmartCommit[] = [];
  for (const line of message.split(LINE_BREAK)) {
    const commands = findCommands(line);
    const first = commands.next().value;
    if (first === undefined) continue;
    const issues = new Set(scanIssueKeys(line.slice(0, first.start), projects));
    if (issues.size === 0) continue;
    const all = [first, ...commands];
    all.forEach((command, index) => {
      const argumentsEnd = all[index + 1]?.start ?? line.length;
      const args = line.slice(command.end, argumentsEnd).trim();
      // One at a time: spreading thousands of entries into push() overflows the call stack.
      for (const entry of interpret(command.name, args, issues)) result.push(entry);
    });
  }
  return result;
}

interface CommandMatch {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** Lazily, so a line of commands without a key before them costs one match. */
function* findCommands(line: string): Generator<CommandMatch> {
  for (const match of line.matchAll(COMMAND)) {
    const name = match[1] ?? '';
    if (!KEY_SHAPED.test(name)) yield { name, start: match.index, end: match.index + match[0].length };
  }
}

function interpret(name: string, args: string, issues: ReadonlySet<string>): SmartCommit[] {
  const text = HAS_CONTENT.test(args) ? args : '';
  const command = name.toLowerCase().replace(/-+$/, '');
  const each = (build: (issue: string) => SmartCommit): SmartCommit[] => [...issues].map(build);
  if (command === 'comment') return text ? each((issue) => ({ issue, kind: 'comment', text })) : [];
  if (command === 'time') {
    const { seconds, comment } = parseWorklog(args);
    if (seconds <= 0) return [];
    return each((issue) =>
      comment ? { issue, kind: 'time', seconds, comment } : { issue, kind: 'time', seconds },
    );
  }
  const transition = command.replace(/-+/g, ' ');
  return [
    ...each((issue) => ({ issue, kind: 'transition', name: transition })),
    ...(text ? each((issue) => ({ issue, kind: 'comment', text })) : []),
  ];
}

/** `1w 2d 4h 30m Total work logged` → seconds and the comment; `1h30m` is read as well. */
function parseWorklog(args: string): { seconds: number; comment: string } {
  const duration = new RegExp(DURATION);
  let seconds = 0;
  let end = 0;
  for (let part = duration.exec(args); part !== null; part = duration.exec(args)) {
    seconds += Number(part[1]) * (SECONDS_PER_UNIT[(part[2] ?? '').toLowerCase()] ?? 0);
    end = duration.lastIndex;
  }
  const comment = args.slice(end).trim();
  return { seconds: Math.round(seconds), comment: HAS_CONTENT.test(comment) ? comment : '' };
}

function projectSet(options: IssueKeyOptions): ReadonlySet<string> | undefined {
  return options.projects && new Set(options.projects.map((project) => project.toUpperCase()));
}

/**
 * Walks the maximal runs of ASCII letters, digits and `_` once each; a run directly followed by
 * `-` and a number may end in a key. Only the run's start (when nothing glues to it) and the
 * positions after its underscores can start the project part.
 */
function* scanIssueKeys(text: string, projects: ReadonlySet<string> | undefined): Generator<string> {
  let longestProject = 0;
  for (const project of projects ?? []) longestProject = Math.max(longestProject, project.length);
  let position = 0;
  while (position < text.length) {
    if (!isRunCharacter(text.charCodeAt(position))) {
      position++;
      continue;
    }
    const runStart = position;
    let lastUnderscore = -1;
    for (let code = text.charCodeAt(position); isRunCharacter(code); code = text.charCodeAt(++position)) {
      if (code === UNDERSCORE) lastUnderscore = position;
    }
    const runEnd = position;
    if (text.charCodeAt(runEnd) !== HYPHEN || !isNonZeroDigit(text.charCodeAt(runEnd + 1))) continue;
    let numberEnd = runEnd + 2;
    while (numberEnd < text.length && isDigit(text.charCodeAt(numberEnd))) numberEnd++;
    position = numberEnd;
    if (gluesToKey(codePointAt(text, numberEnd))) continue;
    const startsOnAWord = !gluesToKey(codePointBefore(text, runStart));
    const project = projects
      ? listedProject(text, runStart, runEnd, startsOnAWord, projects, longestProject)
      : defaultProject(text, lastUnderscore >= 0 ? lastUnderscore + 1 : runStart, runEnd, startsOnAWord);
    if (project !== undefined) yield `${project}-${text.slice(runEnd + 1, numberEnd)}`;
  }
}

/**
 * Without a project list, `_` separates words: the project part is the run's last segment, which
 * starts at `start` (the run's start when it has no `_`).
 */
function defaultProject(text: string, start: number, runEnd: number, startsOnAWord: boolean) {
  if (text.charCodeAt(start - 1) !== UNDERSCORE && !startsOnAWord) return undefined;
  const length = runEnd - start;
  if (length < 2 || length > MAX_PROJECT_LENGTH || !isAsciiLetter(text.charCodeAt(start))) return undefined;
  return text.slice(start, runEnd).toUpperCase();
}

/** The longest listed project that ends the run and starts on a word or right after a `_`. */
function listedProject(
  text: string,
  runStart: number,
  runEnd: number,
  startsOnAWord: boolean,
  projects: ReadonlySet<string>,
  longestProject: number,
) {
  for (let start = Math.max(runStart, runEnd - longestProject); start < runEnd - 1; start++) {
    const separated = start === runStart ? startsOnAWord : text.charCodeAt(start - 1) === UNDERSCORE;
    if (!separated || !isAsciiLetter(text.charCodeAt(start))) continue;
    const candidate = text.slice(start, runEnd).toUpperCase();
    if (projects.has(candidate)) return candidate;
  }
  return undefined;
}

/** True when `character` next to a key makes it part of a longer word. */
function gluesToKey(character: string | undefined): boolean {
  if (character === undefined) return false;
  const code = character.charCodeAt(0);
  if (code < 0x80) return isAsciiLetter(code) || isDigit(code);
  if (isCommonUnspacedLetter(code)) return false;
  return WORD_CHARACTER.test(character) && !UNSPACED_SCRIPT.test(character);
}

function codePointAt(text: string, index: number): string | undefined {
  const code = text.codePointAt(index);
  return code === undefined ? undefined : String.fromCodePoint(code);
}

function codePointBefore(text: string, index: number): string | undefined {
  if (index <= 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(index - 2, index);
  }
  return text[index - 1];
}

/** Kana, common CJK ideographs and Hangul syllables, without the cost of a Unicode-property test. */
function isCommonUnspacedLetter(code: number): boolean {
  return (
    (code >= 0x3041 && code <= 0x30ff) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xac00 && code <= 0xd7a3)
  );
}

function isRunCharacter(code: number): boolean {
  return isAsciiLetter(code) || isDigit(code) || code === UNDERSCORE;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isNonZeroDigit(code: number): boolean {
  return code >= 0x31 && code <= 0x39;
}
