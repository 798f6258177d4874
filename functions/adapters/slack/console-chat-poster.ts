import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatFile, ChatMessage, ChatPoster, Clock } from '../../core/ports.js';
import { renderBlocksAsText, slackTextToPlain } from './blocks.js';

export interface ConsoleChatPosterOptions {
  /** @default the system clock */
  readonly clock?: Clock;
  /**
   * Where shared files (a report's chart) are written, so a `convoy dev` user can open them; the
   * directory is created when needed.
   * @default files are only announced, not written
   */
  readonly fileDir?: string;
}

/**
 * What `convoy dev` uses without a Slack token: each message is printed as readable text (one line
 * naming the channel, then the text of its blocks, indented) and gets a made-up ts. Posting again
 * under the same key prints an update of that ts, as Slack would show an edited message. A shared
 * file is announced on one line, written to `fileDir` when there is one, and gets a made-up id;
 * sharing again under the same key shares nothing new, as with Slack.
 */
export class ConsoleChatPoster implements ChatPoster {
  private readonly posted = new Map<string, string>();
  private readonly shared = new Map<string, string>();
  private readonly clock: Clock;
  private readonly fileDir: string | undefined;
  private sequence = 0;

  /** The second argument may be a bare `Clock`, as before there were options. */
  constructor(
    private readonly print: (line: string) => void,
    options: ConsoleChatPosterOptions | Clock = {},
  ) {
    const { clock, fileDir } = 'now' in options ? { clock: options, fileDir: undefined } : options;
    this.clock = clock ?? { now: () => new Date() };
    this.fileDir = fileDir;
  }

  async post(channel: string, message: ChatMessage, key: string): Promise<string> {
    const earlier = this.posted.get(key);
    const ts = earlier ?? this.nextTs();
    this.posted.set(key, ts);
    const verb = earlier ? `updates message ${ts}` : `new message ${ts}`;
    this.print(`[slack ${channel}] ${verb}: ${oneLine(slackTextToPlain(message.text))}`);
    for (const line of renderBlocksAsText(message.blocks)) this.print(`  ${line}`);
    return ts;
  }

  async upload(channel: string, file: ChatFile, key: string): Promise<string> {
    const earlier = this.shared.get(key);
    if (earlier) {
      this.print(`[slack ${channel}] already shared ${file.filename} as ${earlier}`);
      return earlier;
    }
    const id = this.nextFileId();
    // Written before it counts as shared: a failed write leaves the key free for a retry.
    const path = this.fileDir ? await this.write(id, file) : undefined;
    this.shared.set(key, id);
    const size = `${Math.ceil(file.bytes.byteLength / 1024)} KB`;
    this.print(`[slack ${channel}] shares ${file.filename} (${oneLine(file.title)}, ${size})`);
    if (path) this.print(`  saved to ${path}`);
    return id;
  }

  /** Prefixed with the made-up id, so charts of successive reports (and projects) never overwrite each other. */
  private async write(id: string, file: ChatFile): Promise<string> {
    const dir = this.fileDir as string;
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${id}-${safeName(file.filename)}`);
    await writeFile(path, file.bytes);
    return path;
  }

  /** Shaped like Slack's: epoch seconds, a dot, six digits that keep messages apart within a second. */
  private nextTs(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `${this.epochSeconds()}.${String(this.sequence).padStart(6, '0')}`;
  }

  /** Shaped like Slack's (`F` and upper-case letters and digits), unique across runs of `convoy dev`. */
  private nextFileId(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `F${this.epochSeconds()}${String(this.sequence).padStart(6, '0')}`;
  }

  private epochSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

/** A file name that stays inside `fileDir`, whatever the caller named the file. */
const safeName = (filename: string) =>
  (filename.split(/[\\/]/).pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '-').replace(/^\.+/, '') || 'file';
