import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractIssueKeys, parseSmartCommits, type SmartCommit } from '../../../../functions/core/index.js';

const MEGABYTE = 1 << 20;

/** Any code point, lone surrogates included (fast-check's own binary unit is slow to generate). */
const anyCharacter = fc.nat({ max: 0x10ffff }).map((code) => String.fromCodePoint(code));

/** A valid key in random case: a letter, 1 to 9 letters or digits, a number without leading zero. */
const validKey = fc
  .tuple(
    fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
      minLength: 1,
      maxLength: 9,
    }),
    fc.integer({ min: 1, max: 9_999_999 }),
    fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
  )
  .map(([first, rest, number, lower]) => {
    const project = `${first}${rest}`;
    const mixed = [...project].map((char, i) => (lower[i] ? char.toLowerCase() : char)).join('');
    return { key: `${project}-${number}`, written: `${mixed}-${number}` };
  });

/** What may stand next to a key without making it part of a longer word. */
const SEPARATORS = [
  ' ',
  '\n',
  '\t',
  '/',
  '[',
  ']',
  '(',
  ')',
  ':',
  ',',
  '.',
  '-',
  '_',
  '#',
  '"',
  "'",
  '…',
  '修',
  'を',
];
const separator = fc.constantFrom(...SEPARATORS);

/** Text made of pieces that look like keys, almost-keys and separators, to exercise the edges. */
const keyishText = fc
  .array(
    fc.oneof(
      validKey.map((key) => key.written),
      fc.constantFrom(
        'utf-8',
        'SHA-256',
        'ABC-0',
        'A-1',
        '2PAC-3',
        'MY_PROJ-12',
        'abc-12x',
        'é',
        'x',
        '9',
        '_',
        '-',
      ),
      separator,
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 40 },
  )
  .map((pieces) => pieces.join(''));

const KEY_FORM = /^[A-Z][A-Z0-9_]+-[1-9][0-9]*$/;

describe('extractIssueKeys', () => {
  it.each([
    ['a branch name', 'feature/ABC-123-x', ['ABC-123']],
    ['lower-case square brackets', 'fix: [abc-123] crash', ['ABC-123']],
    ['a JIRA browse URL', 'see https://acme.atlassian.net/browse/ABC-123', ['ABC-123']],
    ['a title with a colon after the key', 'ABC-123: fix the login', ['ABC-123']],
    ['a title with the key in parentheses', 'Fix the login (ABC-123)', ['ABC-123']],
    ['a PR title with two keys', 'ABC-12 ABC-13 | Refactor the session store', ['ABC-12', 'ABC-13']],
    ['a GitHub-style hash reference', 'closes #ABC-7', ['ABC-7']],
    ['a URL with a query string', 'https://acme.atlassian.net/browse/ABC-7?focusedCommentId=1', ['ABC-7']],
    ['a Markdown link', '[ABC-7](https://acme.atlassian.net/browse/ABC-7)', ['ABC-7']],
    ['a possessive', "ABC-7's fix", ['ABC-7']],
    ['a sentence that ends with the key', 'This fixes ABC-7.', ['ABC-7']],
    ['project parts with digits', 'J42-123 and b4l-9', ['J42-123', 'B4L-9']],
    [
      'keys joined by hyphens',
      'JRA-123 Jra-456-jra-901\n[bah-321]',
      ['JRA-123', 'JRA-456', 'JRA-901', 'BAH-321'],
    ],
    ['a kebab-case prefix', 'prefix-kebab-JRA-123', ['JRA-123']],
    ['a name with an underscore before the key, as Atlassian reads it', 'x_ABC-123', ['ABC-123']],
    ['a branch name with an underscore after the key', 'bugfix/ABC-123_login', ['ABC-123']],
    ['a Chinese sentence', '修复ABC-123的问题', ['ABC-123']],
    ['Japanese with a particle after the key', 'ABC-123を修正', ['ABC-123']],
    ['Korean with a particle after the key', 'ABC-123를 수정', ['ABC-123']],
  ])('finds the keys in %s', (_case, text, keys) => {
    // Act
    const found = extractIssueKeys(text);

    // Assess
    expect(found).toEqual(keys);
  });

  it.each([
    ['letters follow the number', 'ABC-123abc'],
    ['digits of another script follow the number', 'ABC-123٣'],
    ['the number has a leading zero', 'ABC-0123'],
    ['the number is zero', 'ABC-0'],
    ['the project has one letter', 'F-67-my-feature'],
    ['the project starts with a digit', '2PAC-123 and 42-123'],
    ['there is no hyphen', 'ABC 123, ABC123, ABC_123'],
    ['an accented letter comes before', 'éABC-123'],
    ['an accented letter comes after', 'ABC-123é'],
    ['a Cyrillic letter comes before', 'жABC-123'],
    ['a combining mark comes after', 'ABC-123\u0301'],
    ['a letter outside the Basic Multilingual Plane comes before', '𝐀ABC-123'],
    ['the project holds a non-ASCII letter', 'ABÇ-123'],
    ['the text is empty', ''],
  ])('finds no key when %s', (_case, text) => {
    // Act
    const found = extractIssueKeys(text);

    // Assess
    expect(found).toEqual([]);
  });

  it('reads a key glued to a letter before it as one longer key, never as the shorter one', () => {
    // Act
    const withoutProjects = extractIssueKeys('XABC-123');
    const withProjects = extractIssueKeys('XABC-123', { projects: ['ABC'] });

    // Assess
    expect(withoutProjects).toEqual(['XABC-123']);
    expect(withProjects).toEqual([]);
  });

  it('upper-cases keys written in any case and keeps each once, in order of first appearance', () => {
    // Prepare
    const text = 'jra-2 fixes JRA-1, follows Jra-2 and jRa-1; see TBD-3 and JRA-2';

    // Act
    const found = extractIssueKeys(text);

    // Assess
    expect(found).toEqual(['JRA-2', 'JRA-1', 'TBD-3']);
  });

  it('takes UTF-8 and SHA-256 for keys when the plan lists no projects', () => {
    // Act
    const found = extractIssueKeys('ABC-1: decode utf-8, hash with SHA-256');

    // Assess
    expect(found).toEqual(['ABC-1', 'UTF-8', 'SHA-256']);
  });

  it('keeps only keys of the listed projects, in any case, when projects are given', () => {
    // Prepare
    const text = 'ABC-1: decode utf-8, hash with SHA-256, see def-2 and XYZ-3';

    // Act
    const found = extractIssueKeys(text, { projects: ['ABC', 'def'] });

    // Assess
    expect(found).toEqual(['ABC-1', 'DEF-2']);
  });

  it('recognises listed project keys that contain underscores', () => {
    // Prepare
    const text = 'feature/my_proj-12-login, MY_PROJ-13 and x_MY_PROJ-14';

    // Act
    const found = extractIssueKeys(text, { projects: ['MY_PROJ'] });

    // Assess
    expect(found).toEqual(['MY_PROJ-12', 'MY_PROJ-13', 'MY_PROJ-14']);
  });

  it('prefers the longest listed project when one ends another', () => {
    // Act
    const found = extractIssueKeys('MY_PROJ-12 and PROJ-13', { projects: ['PROJ', 'MY_PROJ'] });

    // Assess
    expect(found).toEqual(['MY_PROJ-12', 'PROJ-13']);
  });

  it('reads an underscore as a separator when no projects are listed', () => {
    // Act
    const found = extractIssueKeys('MY_PROJ-12');

    // Assess
    expect(found).toEqual(['PROJ-12']);
  });

  it('finds no key at all when the project list is empty', () => {
    // Act
    const found = extractIssueKeys('ABC-1 and DEF-2', { projects: [] });

    // Assess
    expect(found).toEqual([]);
  });

  it('finds keys at both ends of a megabyte of text', () => {
    // Prepare
    const filler = 'lorem ipsum dolor sit amet, '.repeat(MEGABYTE / 28);
    const text = `ABC-1 ${filler} ABC-2`;

    // Act
    const found = extractIssueKeys(text, { projects: ['ABC'] });

    // Assess
    expect(found).toEqual(['ABC-1', 'ABC-2']);
  });

  describe('properties', () => {
    it('finds any valid key written between separators', () => {
      fc.assert(
        fc.property(
          validKey,
          fc.string({ unit: anyCharacter }),
          separator,
          separator,
          fc.string({ unit: anyCharacter }),
          ({ key, written }, before, left, right, after) => {
            // Prepare
            const text = `${before}${left}${written}${right}${after}`;

            // Act
            const found = extractIssueKeys(text);

            // Assess
            expect(found).toContain(key);
          },
        ),
      );
    });

    it('finds any valid key of a listed project written between separators', () => {
      fc.assert(
        fc.property(validKey, separator, separator, fc.string(), ({ key, written }, left, right, noise) => {
          // Prepare
          const project = key.slice(0, key.lastIndexOf('-'));
          const text = `${noise}${left}${written}${right}${noise}`;

          // Act
          const found = extractIssueKeys(text, { projects: [project] });

          // Assess
          expect(found).toContain(key);
        }),
      );
    });

    it('returns each key once, upper-cased, in the order the keys first appear', () => {
      fc.assert(
        fc.property(fc.array(validKey, { maxLength: 20 }), separator, (keys, between) => {
          // Prepare
          const text = keys.map((key) => key.written).join(between);

          // Act
          const found = extractIssueKeys(text);

          // Assess
          expect(found).toEqual([...new Set(keys.map((key) => key.key))]);
        }),
      );
    });

    it('returns only unique upper-case keys, whatever the text', () => {
      fc.assert(
        fc.property(fc.oneof(keyishText, fc.string({ unit: anyCharacter })), (text) => {
          // Act
          const found = extractIssueKeys(text);

          // Assess
          expect(new Set(found).size).toBe(found.length);
          for (const key of found) {
            expect(key).toMatch(KEY_FORM);
            expect(text.toUpperCase()).toContain(key);
          }
        }),
      );
    });

    it('returns only keys of the listed projects when projects are given', () => {
      fc.assert(
        fc.property(
          keyishText,
          fc.array(fc.constantFrom('ABC', 'MY_PROJ', 'UTF', 'J42', 'X'), { maxLength: 3 }),
          (text, projects) => {
            // Act
            const found = extractIssueKeys(text, { projects });

            // Assess
            for (const key of found) expect(projects).toContain(key.slice(0, key.lastIndexOf('-')));
          },
        ),
      );
    });

    it('never throws, whatever the text and the projects', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: anyCharacter, maxLength: 200 }),
          fc.option(fc.array(fc.string({ unit: anyCharacter, maxLength: 8 }), { maxLength: 4 }), {
            nil: undefined,
          }),
          (text, projects) => {
            // Act / Assess
            expect(() => extractIssueKeys(text, { projects })).not.toThrow();
            expect(() => parseSmartCommits(text, { projects })).not.toThrow();
          },
        ),
      );
    });
  });

  const longNumber = `AB-${'1'.repeat(MEGABYTE)}`;
  it.each<[string, string, string[]]>([
    ['one long word', 'a'.repeat(MEGABYTE), []],
    ['underscore-separated words', 'a_'.repeat(MEGABYTE / 2), []],
    ['almost-keys', 'A-'.repeat(MEGABYTE / 2), []],
    ['keys glued to accented letters', 'éAB-1'.repeat(MEGABYTE / 5), []],
    ['keys', 'AB-1 '.repeat(MEGABYTE / 5), ['AB-1']],
    ['a megabyte-long number', longNumber, [longNumber]],
    ['keys in Chinese prose', '修复AB-1'.repeat(MEGABYTE / 6), ['AB-1']],
  ])(
    'reads a megabyte of %s to the end (a quadratic scan would not finish; bench/issue-keys.bench.ts times it)',
    (_case, text, expected) => {
      // Arrange
      const projects = { projects: ['AB', 'A_B_C_D_E_F'] };

      // Act
      const keys = extractIssueKeys(text);
      const known = extractIssueKeys(text, projects);
      const commits = parseSmartCommits(`AB-1 #comment ${text}`, projects);

      // Assess
      expect(keys).toEqual(expected);
      expect(known).toEqual(expected);
      expect(commits).toEqual([{ issue: 'AB-1', kind: 'comment', text: text.trim() }]);
    },
    120_000,
  );
});

describe('parseSmartCommits', () => {
  describe("Atlassian's documented examples", () => {
    it('adds a comment with #comment', () => {
      // Act
      const commands = parseSmartCommits('JRA-34 #comment corrected indent issue');

      // Assess
      expect(commands).toEqual([{ issue: 'JRA-34', kind: 'comment', text: 'corrected indent issue' }]);
    });

    it('logs 1w 2d 4h 30m as 60.5 working hours with the rest of the line as the worklog comment', () => {
      // Act
      const commands = parseSmartCommits('JRA-34 #time 1w 2d 4h 30m Total work logged');

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-34', kind: 'time', seconds: (40 + 16 + 4.5) * 3600, comment: 'Total work logged' },
      ]);
    });

    it('transitions the issue and adds the text after the transition as a comment', () => {
      // Act
      const commands = parseSmartCommits('JRA-90 #close Fixed this today');

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-90', kind: 'transition', name: 'close' },
        { issue: 'JRA-90', kind: 'comment', text: 'Fixed this today' },
      ]);
    });

    it('reads the cloud form of the transition example the same way', () => {
      // Act
      const commands = parseSmartCommits('JRA-90 #close #comment Fixed this today');

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-90', kind: 'transition', name: 'close' },
        { issue: 'JRA-90', kind: 'comment', text: 'Fixed this today' },
      ]);
    });

    it("ignores Atlassian's JRA-090 example, whose leading zero makes it no key", () => {
      // Act
      const commands = parseSmartCommits('JRA-090 #close Fixed this today');

      // Assess
      expect(commands).toEqual([]);
    });

    it('runs several commands on one issue in the order written', () => {
      // Act
      const commands = parseSmartCommits(
        'JRA-123 #time 2d 5h #comment Task completed ahead of schedule #resolve',
      );

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-123', kind: 'time', seconds: 21 * 3600 },
        { issue: 'JRA-123', kind: 'comment', text: 'Task completed ahead of schedule' },
        { issue: 'JRA-123', kind: 'transition', name: 'resolve' },
      ]);
    });

    it('ends a comment at the next command on the same line', () => {
      // Act
      const commands = parseSmartCommits(
        'JRA-123 #comment Imagine that this is a really, and I mean really, long comment #time 2d 5h',
      );

      // Assess
      expect(commands).toEqual([
        {
          issue: 'JRA-123',
          kind: 'comment',
          text: 'Imagine that this is a really, and I mean really, long comment',
        },
        { issue: 'JRA-123', kind: 'time', seconds: 21 * 3600 },
      ]);
    });

    it('ends a comment at the line break and ignores a next line that names no issue', () => {
      // Act
      const commands = parseSmartCommits(
        'JRA-123 #comment Imagine that this is a really, and I\nmean really, long comment #time 2d 5h',
      );

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-123', kind: 'comment', text: 'Imagine that this is a really, and I' },
      ]);
    });

    it('runs commands on separate lines when each line names its issue', () => {
      // Act
      const commands = parseSmartCommits(
        'JRA-123 #comment Imagine that this is a really, and I mean really, long comment\r\nJRA-123 #time 2d 5h',
      );

      // Assess
      expect(commands).toEqual([
        {
          issue: 'JRA-123',
          kind: 'comment',
          text: 'Imagine that this is a really, and I mean really, long comment',
        },
        { issue: 'JRA-123', kind: 'time', seconds: 21 * 3600 },
      ]);
    });

    it('applies one command to every issue named before it', () => {
      // Act
      const commands = parseSmartCommits('JRA-123 JRA-234 JRA-345 #resolve');

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-123', kind: 'transition', name: 'resolve' },
        { issue: 'JRA-234', kind: 'transition', name: 'resolve' },
        { issue: 'JRA-345', kind: 'transition', name: 'resolve' },
      ]);
    });

    it('applies several commands to several issues, command by command', () => {
      // Act
      const commands = parseSmartCommits(
        'JRA-123, JRA-234, JRA-345 #resolve #time 2d 5h #comment Task completed ahead of schedule',
      );

      // Assess
      const issues = ['JRA-123', 'JRA-234', 'JRA-345'];
      expect(commands).toEqual([
        ...issues.map((issue) => ({ issue, kind: 'transition', name: 'resolve' })),
        ...issues.map((issue) => ({ issue, kind: 'time', seconds: 21 * 3600 })),
        ...issues.map((issue) => ({ issue, kind: 'comment', text: 'Task completed ahead of schedule' })),
      ]);
    });

    it('reads hyphens in a transition name as spaces', () => {
      // Act
      const commands = parseSmartCommits('JRA-1 #start-review\nJRA-2 #Start-Progress\nJRA-3 #in-progress');

      // Assess
      expect(commands).toEqual([
        { issue: 'JRA-1', kind: 'transition', name: 'start review' },
        { issue: 'JRA-2', kind: 'transition', name: 'start progress' },
        { issue: 'JRA-3', kind: 'transition', name: 'in progress' },
      ]);
    });
  });

  it('ignores the text between the key and the first command, and the text before the key', () => {
    // Act
    const commands = parseSmartCommits('Merge pull request #42 from acme/ABC-7-login: done here #resolve');

    // Assess
    expect(commands).toEqual([{ issue: 'ABC-7', kind: 'transition', name: 'resolve' }]);
  });

  it('keeps GitHub references, bare hashes, C# and URL anchors inside the text of a command', () => {
    // Act
    const commands = parseSmartCommits(
      'ABC-1 #comment port #123 to C# as in https://example.com/docs#setup, see # notes',
    );

    // Assess
    expect(commands).toEqual([
      {
        issue: 'ABC-1',
        kind: 'comment',
        text: 'port #123 to C# as in https://example.com/docs#setup, see # notes',
      },
    ]);
  });

  it('reads #ABC-2 as one more issue, not as a transition', () => {
    // Act
    const commands = parseSmartCommits('ABC-1 and #ABC-2 #resolve');

    // Assess
    expect(commands).toEqual([
      { issue: 'ABC-1', kind: 'transition', name: 'resolve' },
      { issue: 'ABC-2', kind: 'transition', name: 'resolve' },
    ]);
  });

  it('does nothing for commands without an issue before them on their line', () => {
    // Act
    const commands = parseSmartCommits('ABC-1 Fix the login\n\n#resolve ABC-1\n#time 1h');

    // Assess
    expect(commands).toEqual([]);
  });

  it('gives the commands to keys of the listed projects only, when projects are given', () => {
    // Prepare
    const message = 'ABC-1 decode utf-8 properly #resolve';

    // Act
    const withoutProjects = parseSmartCommits(message);
    const withProjects = parseSmartCommits(message, { projects: ['ABC'] });

    // Assess
    expect(withoutProjects.map((command) => command.issue)).toEqual(['ABC-1', 'UTF-8']);
    expect(withProjects).toEqual([{ issue: 'ABC-1', kind: 'transition', name: 'resolve' }]);
  });

  it('names each issue once even when the line repeats it', () => {
    // Act
    const commands = parseSmartCommits('abc-1 ABC-1 [Abc-1] #resolve');

    // Assess
    expect(commands).toEqual([{ issue: 'ABC-1', kind: 'transition', name: 'resolve' }]);
  });

  it.each<[string, SmartCommit[]]>([
    ['ABC-1 #time 1.5h', [{ issue: 'ABC-1', kind: 'time', seconds: 5400 }]],
    ['ABC-1 #time 1h30m', [{ issue: 'ABC-1', kind: 'time', seconds: 5400 }]],
    ['ABC-1 #TIME 2H reviewing', [{ issue: 'ABC-1', kind: 'time', seconds: 7200, comment: 'reviewing' }]],
    [
      'ABC-1 #time 360m Total work logged',
      [{ issue: 'ABC-1', kind: 'time', seconds: 21600, comment: 'Total work logged' }],
    ],
    ['ABC-1 #time 0.5d', [{ issue: 'ABC-1', kind: 'time', seconds: 4 * 3600 }]],
    ['ABC-1 #time 2days of work', []],
    ['ABC-1 #time soon', []],
    ['ABC-1 #time 0m', []],
  ])('reads %j as its worklog', (message, expected) => {
    // Act
    const commands = parseSmartCommits(message);

    // Assess
    expect(commands).toEqual(expected);
  });

  it('drops comments with nothing to say', () => {
    // Act
    const commands = parseSmartCommits('ABC-1 #comment\nABC-2 #comment  :) \nABC-3 #close ,');

    // Assess
    expect(commands).toEqual([{ issue: 'ABC-3', kind: 'transition', name: 'close' }]);
  });

  it('accepts transition names in other scripts', () => {
    // Act
    const commands = parseSmartCommits('ABC-1 #erledigt\nABC-2 #в-работе');

    // Assess
    expect(commands).toEqual([
      { issue: 'ABC-1', kind: 'transition', name: 'erledigt' },
      { issue: 'ABC-2', kind: 'transition', name: 'в работе' },
    ]);
  });

  it('finds nothing in a message without commands', () => {
    // Act
    const commands = parseSmartCommits('ABC-1: fix the login\n\nCloses #12. See ABC-2.');

    // Assess
    expect(commands).toEqual([]);
  });
});
