import { describe, expect, it } from 'vitest';
import {
  buildFailingMessage,
  escapeSlackText,
  joinWithinLimit,
  limitBlocks,
  prMergedMessage,
  renderBlocksAsText,
  SLACK_LIMITS,
  slackTextToPlain,
  taskBlockedMessage,
  taskDoneMessage,
  taskHandedOffMessage,
  truncateSlackText,
} from '../../../../functions/adapters/slack/blocks.js';
import type { ChatMessage } from '../../../../functions/core/ports.js';

type Block = Record<string, unknown>;
type TextObject = { type: string; text: string };

const headerOf = (message: ChatMessage) =>
  (message.blocks.find((block) => block.type === 'header')?.text as TextObject | undefined)?.text;

/** Every mrkdwn text of the message's blocks: section texts, fields and context elements. */
function mrkdwnOf(message: ChatMessage): string[] {
  return message.blocks.flatMap((block) => [
    ...(block.type === 'section' && block.text ? [(block.text as TextObject).text] : []),
    ...((block.fields as TextObject[] | undefined) ?? []).map((field) => field.text),
    ...((block.elements as TextObject[] | undefined) ?? []).map((element) => element.text),
  ]);
}

const allText = (message: ChatMessage) =>
  [message.text, headerOf(message) ?? '', ...mrkdwnOf(message)].join('\n');

/** Slack refuses a message that breaks any of these (invalid_blocks, msg_too_long). */
function expectWithinSlackLimits(message: ChatMessage) {
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const block of message.blocks as Block[]) {
    const text = block.text as TextObject | undefined;
    if (block.type === 'header') {
      expect(text?.type).toBe('plain_text');
      expect(text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    }
    if (block.type === 'section' && text)
      expect(text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const fields = (block.fields as TextObject[] | undefined) ?? [];
    expect(fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
    for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    const elements = (block.elements as TextObject[] | undefined) ?? [];
    expect(elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
  }
}

/** Text with no `&` that does not start an entity and no `<`/`>` outside Convoy's own links and mentions. */
function expectEscaped(text: string) {
  const outsideMarkup = text.replace(/<(https?:\/\/[^<>|\s]+\|[^<>]*|@[UW][A-Z0-9]+)>/g, '');
  expect(outsideMarkup).not.toMatch(/[<>]/);
  expect(outsideMarkup).not.toMatch(/&(?!amp;|lt;|gt;)/);
}

describe('escapeSlackText', () => {
  it('replaces &, < and > with entities and leaves every other character alone', () => {
    // Act
    const escaped = escapeSlackText(`Fix <b> & "quotes" 'n' *stars* <!channel> &amp;`);

    // Assess
    expect(escaped).toBe(`Fix &lt;b&gt; &amp; "quotes" 'n' *stars* &lt;!channel&gt; &amp;amp;`);
  });
});

describe('truncateSlackText', () => {
  it('leaves text within the limit unchanged', () => {
    expect(truncateSlackText('short enough', 12)).toBe('short enough');
  });

  it('cuts text over the limit to exactly the limit, ending with an ellipsis', () => {
    // Act
    const cut = truncateSlackText('abcdefghij', 6);

    // Assess
    expect(cut).toBe('abcde…');
  });

  it('never ends inside an entity', () => {
    // Prepare: the limit falls inside "&amp;"
    const text = `${'a'.repeat(8)}&amp;${'b'.repeat(8)}`;

    // Act
    const cut = truncateSlackText(text, 12);

    // Assess
    expect(cut).toBe(`${'a'.repeat(8)}…`);
  });

  it('never ends inside a link or a mention', () => {
    // Act
    const link = truncateSlackText('see <https://example.com/pr/1|the PR> for details', 20);
    const mention = truncateSlackText('thanks <@U0123ABCD> for this', 12);

    // Assess
    expect(link).toBe('see …');
    expect(mention).toBe('thanks …');
  });

  it('never splits an emoji in half', () => {
    // Act: each emoji is two UTF-16 code units
    const cut = truncateSlackText('😀😀😀', 4);

    // Assess
    expect(cut).toBe('😀…');
  });
});

describe('joinWithinLimit', () => {
  it('counts the items that do not fit instead of cutting one', () => {
    // Prepare
    const items = Array.from({ length: 100 }, (_, i) => `<https://example.com/${i}|task-${i}>`);

    // Act
    const joined = joinWithinLimit(items, 200);

    // Assess
    expect(joined.length).toBeLessThanOrEqual(200);
    const shown = joined.match(/<https:[^>]+>/g) ?? [];
    const more = Number(/… and (\d+) more$/.exec(joined)?.[1]);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length + more).toBe(100);
    expect(shown).toEqual(items.slice(0, shown.length));
  });

  it('joins every item when they all fit', () => {
    expect(joinWithinLimit(['a', 'b', 'c'], 7)).toBe('a, b, c');
  });
});

describe('limitBlocks', () => {
  it('keeps 50 blocks and says how many were left out', () => {
    // Prepare
    const blocks = Array.from({ length: 60 }, (_, i) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `${i}` },
    }));

    // Act
    const limited = limitBlocks(blocks);

    // Assess
    expect(limited).toHaveLength(50);
    expect(limited.slice(0, 49)).toEqual(blocks.slice(0, 49));
    expect(renderBlocksAsText(limited.slice(49))).toEqual(['… 11 more blocks not shown']);
  });

  it('leaves a message of 50 blocks as it is', () => {
    const blocks = Array.from({ length: 50 }, () => ({ type: 'divider' }));
    expect(limitBlocks(blocks)).toEqual(blocks);
  });
});

describe('taskDoneMessage', () => {
  it('names the task, who finished it, the note and the project', () => {
    // Act
    const message = taskDoneMessage({
      project: 'payments',
      task: { id: 'api-1', title: 'Build the API', url: 'https://convoy.example/tasks/api-1' },
      by: { name: 'Ada', slack: 'U0123ABCD' },
      note: 'All endpoints covered by tests.',
    });

    // Assess
    expect(headerOf(message)).toBe('✅ Done: Build the API');
    expect(message.text).toBe('✅ Task api-1 is done: Build the API');
    expect(mrkdwnOf(message)).toEqual([
      '*Task*\n<https://convoy.example/tasks/api-1|api-1> Build the API',
      '*Done by*\n<@U0123ABCD>',
      '*Note*\nAll endpoints covered by tests.',
      'Convoy · project `payments`',
    ]);
    expectWithinSlackLimits(message);
  });

  it('escapes a title, note and name but keeps its own links and mentions', () => {
    // Act
    const message = taskDoneMessage({
      project: 'p<1>',
      task: { id: 'api-1', title: 'Parse <html> & <!channel>', url: 'https://x.example/t?a=1&b=2' },
      by: 'Bob <bob@example.com>',
      note: '<!here> ping & <https://evil.example|click>',
    });

    // Assess
    expectEscaped(allText(message));
    expect(headerOf(message)).toBe('✅ Done: Parse &lt;html&gt; &amp; &lt;!channel&gt;');
    expect(allText(message)).toContain('<https://x.example/t?a=1&amp;b=2|api-1>');
    expect(allText(message)).toContain('Bob &lt;bob@example.com&gt;');
    expect(allText(message)).toContain('&lt;!here&gt; ping &amp; &lt;https://evil.example|click&gt;');
  });

  it('shows the name of a person whose Slack id is not one, and leaves out who when unknown', () => {
    // Act
    const named = taskDoneMessage({
      project: 'p',
      task: { id: 't' },
      by: { name: 'Cy', slack: '<!channel>' },
    });
    const anonymous = taskDoneMessage({ project: 'p', task: { id: 't' } });

    // Assess
    expect(mrkdwnOf(named)).toContain('*Done by*\nCy');
    expect(mrkdwnOf(anonymous).join('\n')).not.toContain('Done by');
  });
});

describe('taskBlockedMessage', () => {
  it('puts the reason in its own section', () => {
    // Act
    const message = taskBlockedMessage({
      project: 'payments',
      task: { id: 'db-2', title: 'Migrate the ledger' },
      reason: 'Waiting for the DBA to grant <write> access',
      by: { name: 'Ada', slack: 'U0123ABCD' },
    });

    // Assess
    expect(headerOf(message)).toBe('⛔ Blocked: Migrate the ledger');
    expect(message.text).toBe('⛔ Task db-2 is blocked: Waiting for the DBA to grant &lt;write&gt; access');
    expect(mrkdwnOf(message)).toContain('*Reason*\nWaiting for the DBA to grant &lt;write&gt; access');
    expect(mrkdwnOf(message)).toContain('*Task*\n`db-2` Migrate the ledger');
    expectWithinSlackLimits(message);
  });

  it('says so when no reason was given', () => {
    const message = taskBlockedMessage({ project: 'p', task: { id: 't' }, reason: '  ' });
    expect(mrkdwnOf(message)).toContain('*Reason*\nno reason given');
  });

  it('truncates a very long reason to fit a section, with an ellipsis', () => {
    // Act
    const message = taskBlockedMessage({ project: 'p', task: { id: 't' }, reason: '<x> '.repeat(5_000) });

    // Assess
    expectWithinSlackLimits(message);
    const reason = mrkdwnOf(message).find((text) => text.startsWith('*Reason*'));
    expect(reason?.endsWith('…')).toBe(true);
    expect(reason?.length).toBeGreaterThan(2_900);
    expectEscaped(allText(message));
  });
});

describe('taskHandedOffMessage', () => {
  it('lists the receiving tasks and the checklist with what is confirmed', () => {
    // Act
    const message = taskHandedOffMessage({
      project: 'payments',
      task: { id: 'api-1', title: 'Build the API' },
      to: [{ id: 'ui-1', title: 'Build the UI' }, { id: 'docs-1' }],
      checklist: { 'tests pass': true, 'docs updated': true, 'schema <v2> published': false },
      notes: 'Staging is on v2 already.',
      by: { name: 'Ada', slack: 'U0123ABCD' },
    });

    // Assess
    expect(headerOf(message)).toBe('🤝 Handed off: Build the API');
    expect(message.text).toBe('🤝 Task api-1 handed off to ui-1, docs-1; 2 of 3 items confirmed');
    expect(mrkdwnOf(message)).toEqual([
      '*Task*\n`api-1` Build the API',
      '*Handed off by*\n<@U0123ABCD>',
      '*To*\n`ui-1` Build the UI\n`docs-1`',
      '*Checklist* (2 of 3 items confirmed)\n✅ tests pass\n✅ docs updated\n❌ schema &lt;v2&gt; published',
      '*Notes*\nStaging is on v2 already.',
      'Convoy · project `payments`',
    ]);
  });

  it('says when every checklist item is confirmed', () => {
    // Act
    const message = taskHandedOffMessage({
      project: 'p',
      task: { id: 'a' },
      to: [{ id: 'b' }],
      checklist: { one: true, two: true },
    });

    // Assess
    expect(mrkdwnOf(message)).toContain('*Checklist* (all 2 items confirmed)\n✅ one\n✅ two');
  });

  it('counts the receivers and checklist items that do not fit instead of dropping them silently', () => {
    // Act
    const message = taskHandedOffMessage({
      project: 'p',
      task: { id: 'a' },
      to: Array.from({ length: 500 }, (_, i) => ({
        id: `task-${i}`,
        title: `A fairly long title number ${i}`,
      })),
      checklist: Object.fromEntries(
        Array.from({ length: 500 }, (_, i) => [`check item number ${i}`, i % 2 === 0]),
      ),
    });

    // Assess
    expectWithinSlackLimits(message);
    const [to, checklist] = mrkdwnOf(message).filter((text) => /^\*(To|Checklist)\*/.test(text));
    expect(to).toMatch(/\n… and \d+ more$/);
    expect(checklist).toMatch(/^\*Checklist\* \(250 of 500 items confirmed\)\n/);
    expect(checklist).toMatch(/\n… and \d+ more$/);
  });
});

describe('prMergedMessage', () => {
  it('links the PR and names the repository, author, tasks and issues', () => {
    // Act
    const message = prMergedMessage({
      repo: 'acme/payments',
      number: 42,
      title: 'Add refunds <beta>',
      url: 'https://github.com/acme/payments/pull/42',
      author: { name: 'ada-l', slack: 'U0123ABCD' },
      tasks: [{ id: 'api-1' }, { id: 'api-2', url: 'https://convoy.example/tasks/api-2' }],
      issues: ['PAY-1', 'PAY-2'],
      issueUrl: (key) => `https://acme.atlassian.net/browse/${key}`,
      project: 'payments',
    });

    // Assess
    expect(headerOf(message)).toBe('🔀 Merged: Add refunds &lt;beta&gt;');
    expect(message.text).toBe('🔀 acme/payments#42 merged: Add refunds &lt;beta&gt;');
    expect(mrkdwnOf(message)).toEqual([
      '<https://github.com/acme/payments/pull/42|acme/payments#42> Add refunds &lt;beta&gt;',
      '*Repository*\n`acme/payments`',
      '*Author*\n<@U0123ABCD>',
      '*Tasks*\n`api-1`, <https://convoy.example/tasks/api-2|api-2>',
      '*Issues*\n<https://acme.atlassian.net/browse/PAY-1|PAY-1>, <https://acme.atlassian.net/browse/PAY-2|PAY-2>',
      'Convoy · project `payments`',
    ]);
  });

  it('says when no task or issue is linked, and shows an author without Slack id by name', () => {
    // Act
    const message = prMergedMessage({
      repo: 'a/b',
      number: 1,
      title: 'x',
      author: 'octocat',
      tasks: [],
      issues: [],
    });

    // Assess
    expect(mrkdwnOf(message)).toEqual([
      'a/b#1 x',
      '*Repository*\n`a/b`',
      '*Author*\noctocat',
      '*Tasks*\n_none linked_',
      '*Issues*\n_none linked_',
    ]);
  });

  it('keeps within the limits when a PR links a thousand issues and has a huge title', () => {
    // Act
    const message = prMergedMessage({
      repo: 'a/b',
      number: 7,
      title: '&'.repeat(4_000),
      author: 'octocat',
      tasks: Array.from({ length: 1_000 }, (_, i) => ({ id: `task-${i}` })),
      issues: Array.from({ length: 1_000 }, (_, i) => `PAY-${i + 1}`),
      issueUrl: (key) => `https://acme.atlassian.net/browse/${key}`,
    });

    // Assess
    expectWithinSlackLimits(message);
    expectEscaped(allText(message));
    expect(headerOf(message)).toMatch(/^🔀 Merged: (&amp;)+…$/);
    const issues = mrkdwnOf(message).find((text) => text.startsWith('*Issues*')) ?? '';
    const shown = issues.match(/<https:[^>]+>/g)?.length ?? 0;
    expect(shown + Number(/… and (\d+) more$/.exec(issues)?.[1])).toBe(1_000);
  });

  it('does not turn a URL that is not http(s) into a link', () => {
    // Act
    const message = prMergedMessage({
      repo: 'a/b',
      number: 1,
      title: 't',
      url: 'javascript:alert(1)',
      author: 'x',
      tasks: [],
      issues: [],
    });

    // Assess
    expect(mrkdwnOf(message)[0]).toBe('a/b#1 t');
  });
});

describe('buildFailingMessage', () => {
  it('names the workflow, branch and failure rate against the threshold', () => {
    // Act
    const message = buildFailingMessage({
      repo: 'acme/payments',
      workflow: 'CI',
      branch: 'main',
      failureRate: 0.45,
      runs: { failed: 9, total: 20 },
      threshold: 0.2,
      url: 'https://github.com/acme/payments/actions/runs/1',
      project: 'payments',
    });

    // Assess
    expect(headerOf(message)).toBe('🔴 Build failing: CI on main');
    expect(message.text).toBe('🔴 Build failing: CI on main, 45% of runs failed');
    expect(mrkdwnOf(message)).toEqual([
      '*Workflow*\n<https://github.com/acme/payments/actions/runs/1|CI>',
      '*Branch*\n`main`',
      '*Failure rate*\n45% (9 of 20 runs), above the 20% threshold',
      '*Repository*\n`acme/payments`',
      'Convoy · project `payments`',
    ]);
  });

  it('escapes a branch name and keeps a backtick from ending its code span', () => {
    // Act
    const message = buildFailingMessage({ workflow: 'E2E <nightly>', branch: 'fix/`a`&<b>', failureRate: 1 });

    // Assess
    expectEscaped(allText(message));
    expect(mrkdwnOf(message)).toContain('*Branch*\n`fix/ʼaʼ&amp;&lt;b&gt;`');
    expect(headerOf(message)).toBe('🔴 Build failing: E2E &lt;nightly&gt; on fix/`a`&amp;&lt;b&gt;');
  });
});

describe('renderBlocksAsText', () => {
  it('reads links as label and URL, mentions as @id, and decodes entities', () => {
    // Prepare
    const message = prMergedMessage({
      repo: 'a/b',
      number: 3,
      title: 'Tom & Jerry <3',
      url: 'https://github.com/a/b/pull/3',
      author: { name: 'ada', slack: 'U0123ABCD' },
      tasks: [{ id: 'api-1' }],
      issues: [],
    });

    // Act
    const lines = renderBlocksAsText(message.blocks);

    // Assess
    expect(lines).toEqual([
      '🔀 Merged: Tom & Jerry <3',
      'a/b#3 (https://github.com/a/b/pull/3) Tom & Jerry <3',
      '*Repository*',
      '`a/b`',
      '*Author*',
      '@U0123ABCD',
      '*Tasks*',
      '`api-1`',
      '*Issues*',
      '_none linked_',
    ]);
  });

  it('decodes the fallback text the same way', () => {
    expect(slackTextToPlain('a &amp;lt; b <!here> <#C123|general>')).toBe('a &lt; b @here #general');
  });
});
