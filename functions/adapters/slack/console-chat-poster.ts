import type { ChatMessage, ChatPoster, Clock } from '../../core/ports.js';
import { renderBlocksAsText, slackTextToPlain } from './blocks.js';

/**
 * What `convoy dev` uses without a Slack token: each message is printed as readable text (one line
 * naming the channel, then the text of its blocks, indented) and gets a made-up ts. Posting again
 * under the same key prints an update of that ts, as Slack would show an edited message.
 */
export class ConsoleChatPoster implements ChatPoster {
  private readonly posted = new Map<string, string>();
  private sequence = 0;

  constructor(
    private readonly print: (line: string) => void,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async post(channel: string, message: ChatMessage, key: string): Promise<string> {
    const earlier = this.posted.get(key);
    const ts = earlier ?? this.nextTs();
    this.posted.set(key, ts);
    const verb = earlier ? `updates message ${ts}` : `new message ${ts}`;
    this.print(`[slack ${channel}] ${verb}: ${oneLine(slackTextToPlain(message.text))}`);
    for (const line of renderBlocksAsText(message.blocks)) this.print(`  ${line}`);
    return ts;
  }

  /** Shaped like Slack's: epoch seconds, a dot, six digits that keep messages apart within a second. */
  private nextTs(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `${Math.floor(this.clock.now().getTime() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
