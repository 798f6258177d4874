import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleChatPoster } from '../../../../functions/adapters/slack/console-chat-poster.js';
import type { ChatFile } from '../../../../functions/core/ports.js';

const clock = { now: () => new Date('2025-03-01T12:00:00Z') };

const chart = (bytes: Uint8Array = randomBytes(2500), filename = 'burndown.png'): ChatFile => ({
  filename,
  title: 'Burndown, sprint 20',
  bytes,
});

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'convoy-console-chat-'));
  dirs.push(dir);
  return dir;
}

describe('ConsoleChatPoster.upload', () => {
  it('prints one line naming the channel, file, title and size, and returns a made-up file id', async () => {
    // Prepare
    const lines: string[] = [];
    const chat = new ConsoleChatPoster((line) => lines.push(line), { clock });

    // Act
    const id = await chat.upload('#sprint-20', chart(), 'report-1');

    // Assess
    expect(id).toBe('F1740830400000001');
    expect(lines).toEqual(['[slack #sprint-20] shares burndown.png (Burndown, sprint 20, 3 KB)']);
  });

  it('shares nothing new under a key already shared, and says so', async () => {
    // Prepare
    const lines: string[] = [];
    const dir = await tempDir();
    const chat = new ConsoleChatPoster((line) => lines.push(line), { clock, fileDir: dir });
    const first = await chat.upload('#sprint-20', chart(), 'report-1');

    // Act
    const second = await chat.upload('#sprint-20', chart(), 'report-1');

    // Assess
    expect(second).toBe(first);
    expect(lines.at(-1)).toBe(`[slack #sprint-20] already shared burndown.png as ${first}`);
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('writes the bytes to fileDir, creating it, so the chart can be opened', async () => {
    // Prepare
    const lines: string[] = [];
    const dir = join(await tempDir(), 'charts');
    const bytes = randomBytes(1024);
    const chat = new ConsoleChatPoster((line) => lines.push(line), { clock, fileDir: dir });

    // Act
    const first = await chat.upload('#sprint-20', chart(bytes), 'report-1');
    const second = await chat.upload('#sprint-21', chart(), 'report-2');

    // Assess: one file per share, named by its id, so successive charts never overwrite each other
    const path = join(dir, `${first}-burndown.png`);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect(lines.slice(0, 2)).toEqual([
      '[slack #sprint-20] shares burndown.png (Burndown, sprint 20, 1 KB)',
      `  saved to ${path}`,
    ]);
    expect((await readdir(dir)).sort()).toEqual([`${first}-burndown.png`, `${second}-burndown.png`].sort());
  });

  it('keeps a file whose name climbs out of the directory inside fileDir', async () => {
    // Prepare
    const dir = await tempDir();
    const chat = new ConsoleChatPoster(() => undefined, { clock, fileDir: dir });

    // Act
    const id = await chat.upload('#sprint-20', chart(randomBytes(10), '../../etc/passwd'), 'evil');

    // Assess
    expect(await readdir(dir)).toEqual([`${id}-passwd`]);
  });

  it('gives ids that differ from each other and from message ts', async () => {
    // Prepare
    const chat = new ConsoleChatPoster(() => undefined, clock);

    // Act
    const ts = await chat.post('#sprint-20', { text: 'Report', blocks: [] }, 'message');
    const one = await chat.upload('#sprint-20', chart(), 'a');
    const two = await chat.upload('#sprint-20', chart(), 'b');

    // Assess
    expect(new Set([ts, one, two]).size).toBe(3);
    expect(one).toMatch(/^F[0-9A-Z]+$/);
  });
});
