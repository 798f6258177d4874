import { slackTextToPlain } from '../../adapters/slack/blocks.js';
import { ConsoleChatPoster } from '../../adapters/slack/console-chat-poster.js';
import type { JiraCommand, Notice, SlackPost } from '../../core/integrations/model.js';
import { lineOf } from '../../core/integrations/model.js';
import type { ChatMessage, Clock } from '../../core/ports.js';
import type { PeopleLog } from './people.js';

/** `digest`: a few lines a day; `verbose`: every post in full; `json`: one JSON document at the end. */
export type SimulationOutputMode = 'digest' | 'verbose' | 'json';

export interface SimulatedPost {
  readonly at: string;
  readonly channel: string;
  /** The notice's type (`escalation`, `gate`, `task-done`, …), or `report` for a scheduled report. */
  readonly kind: string;
  readonly text: string;
  /** For a report: how many channels got a part of it (the project channel and agents' own). */
  readonly channels?: number;
}

export interface SimulatedDay {
  readonly day: number;
  readonly date: string;
  readonly posts: SimulatedPost[];
  readonly decisions: {
    at: string;
    gate: string;
    by: string;
    decision: string;
    verdict: string;
    why: string;
  }[];
  readonly reevaluations: { at: string; gate: string; by: string }[];
  readonly escalations: { at: string; by: string; action: 'acknowledge'; rule: string; subject: string }[];
  readonly tasksDone: { at: string; task: string; agent: string }[];
  progress?: { tasksDone: number; tasks: number; phases: Record<string, string> };
}

/**
 * What a simulation shows, in one of three forms. Every form is built from the same record, so the
 * digest, the full output and the JSON never disagree. A report posted to the project channel and
 * to each agent's own channel is one report; a notice is one line.
 */
export class SimulationOutput implements PeopleLog {
  readonly days: SimulatedDay[] = [];
  private readonly poster: ConsoleChatPoster;
  private pendingReport: { key: string; post: SimulatedPost; channels: number } | undefined;
  /** Escalations the digest announced and that are not resolved, with their level. */
  private readonly escalationLevels = new Map<string, number>();
  /** Today's reminders and acknowledgements of escalations, not printed one by one. */
  private readonly quiet = new Map<
    string,
    { rule: string; subject: string; reminders: number; acknowledgements: number }
  >();

  constructor(
    readonly mode: SimulationOutputMode,
    private readonly print: (line: string) => void,
    private readonly clock: Clock,
    /** `HH:MM` in the project's time zone. */
    private readonly timeOf: (at: Date) => string,
  ) {
    // The full output shows each post as `convoy dev` prints it without a Slack token.
    this.poster = new ConsoleChatPoster(
      (line) => this.print(line.startsWith('[slack') ? `${this.now()}  ${line}` : `       ${line}`),
      { clock },
    );
  }

  private now() {
    return this.timeOf(this.clock.now());
  }

  private get today(): SimulatedDay {
    return this.days[this.days.length - 1] as SimulatedDay;
  }

  note(line: string): void {
    if (this.mode !== 'json') this.print(line);
  }

  startDay(day: number, date: string, weekday: string): void {
    this.flushReport();
    this.days.push({
      day,
      date,
      posts: [],
      decisions: [],
      reevaluations: [],
      escalations: [],
      tasksDone: [],
    });
    if (this.mode === 'json') return;
    this.print('');
    this.print(`── Day ${day} · ${weekday} ${date} ${'─'.repeat(40)}`);
  }

  /** A Slack post leaving the outbox, with the message it carries. */
  async post(command: SlackPost, message: ChatMessage): Promise<void> {
    const kind = 'notice' in command ? command.notice.type : 'report';
    const text = oneLine(slackTextToPlain(message.text));
    const post: SimulatedPost = { at: this.now(), channel: command.channel, kind, text };
    if (this.mode === 'verbose') {
      await this.poster.post(command.channel, message, command.key);
      if ('chart' in command && command.chart) this.print(`       (chart ${command.chart.filename})`);
    }
    if (kind !== 'report') {
      this.flushReport();
      this.today.posts.push(post);
      if (this.mode === 'digest' && !('notice' in command && this.repeats(command.notice)))
        this.line(`${command.channel}  ${text}`);
      return;
    }
    // The parts of one scheduled report share its key up to the channel.
    const key = command.key.slice(0, command.key.length - command.channel.length);
    if (this.pendingReport?.key === key) {
      this.pendingReport.channels++;
      return;
    }
    this.flushReport();
    this.pendingReport = { key, post, channels: 1 };
  }

  /**
   * Whether an escalation notice only repeats what the digest said (a reminder at the same level, an
   * acknowledgement): it is counted, and the day ends with one line per escalation still open.
   */
  private repeats(notice: Notice): boolean {
    if (notice.type !== 'escalation') return false;
    const { id, rule, level, status } = notice.escalation;
    const known = this.escalationLevels.get(id);
    if (status === 'resolved') {
      this.escalationLevels.delete(id);
      this.quiet.delete(id);
      return false;
    }
    this.escalationLevels.set(id, level);
    if (known === undefined || (status === 'open' && known !== level)) return false;
    const counts = this.quiet.get(id) ?? {
      rule,
      subject: notice.escalation.subject,
      reminders: 0,
      acknowledgements: 0,
    };
    if (status === 'acknowledged') counts.acknowledgements++;
    else counts.reminders++;
    this.quiet.set(id, counts);
    return true;
  }

  private flushReport() {
    const pending = this.pendingReport;
    if (!pending) return;
    this.pendingReport = undefined;
    const post = { ...pending.post, channels: pending.channels };
    this.today.posts.push(post);
    if (this.mode !== 'digest') return;
    const more = pending.channels - 1;
    this.print(
      `${post.at}  ${post.channel}  ${post.text}${more > 0 ? ` (and ${more} agent channel${more === 1 ? '' : 's'})` : ''}`,
    );
  }

  jira(command: JiraCommand): void {
    if (this.mode !== 'verbose') return;
    this.line(
      `jira ${lineOf(command)}: ${command.kind}${'status' in command ? ` → ${command.status}` : ''}${command.kind === 'create-issue' ? ` "${command.summary}"` : ''}`,
    );
  }

  failure(id: string, error: string): void {
    this.line(`! ${id} failed: ${error}`);
  }

  decision(entry: {
    gate: string;
    by: string;
    decision: 'advance' | 'hold';
    verdict: string;
    why: string;
  }): void {
    this.flushReport();
    this.today.decisions.push({ at: this.now(), ...entry });
    const verb = entry.decision === 'advance' ? 'advances' : 'holds';
    this.line(`▸ ${entry.by} ${verb} gate ${entry.gate} after ${entry.verdict}: ${entry.why}`);
  }

  reevaluation(entry: { gate: string; by: string }): void {
    this.flushReport();
    this.today.reevaluations.push({ at: this.now(), ...entry });
    this.line(`▸ ${entry.by} asks for gate ${entry.gate} to be evaluated again`);
  }

  acknowledgement(entry: { by: string; rule: string; subject: string }): void {
    this.flushReport();
    this.today.escalations.push({ at: this.now(), action: 'acknowledge', ...entry });
    // The digest counts it with the acknowledgement notice.
    if (this.mode === 'verbose')
      this.line(`▸ ${entry.by} acknowledges escalation ${entry.rule} (${entry.subject})`);
  }

  taskDone(task: string, agent: string): void {
    this.today.tasksDone.push({ at: this.now(), task, agent });
    if (this.mode === 'verbose') this.line(`${agent} finishes ${task}`);
  }

  endDay(progress: { tasksDone: number; tasks: number; phases: Record<string, string> }): void {
    this.flushReport();
    this.today.progress = progress;
    if (this.mode === 'json') return;
    const done = this.today.tasksDone.map((entry) => entry.task);
    if (this.mode === 'digest') {
      for (const { rule, subject, reminders, acknowledgements } of this.quiet.values()) {
        const what = [
          reminders > 0 ? `reminded ${reminders}×` : '',
          acknowledgements > 0 ? `acknowledged ${acknowledgements}×` : '',
        ].filter(Boolean);
        this.print(`       escalation ${rule} (${subject}) still open: ${what.join(', ')}`);
      }
      if (done.length > 0) this.print(`       tasks done: ${done.join(', ')}`);
    }
    this.quiet.clear();
    const phases = Object.entries(progress.phases)
      .map(([phase, status]) => `${phase} ${status}`)
      .join(', ');
    this.print(`       ${progress.tasksDone}/${progress.tasks} tasks done · ${phases}`);
  }

  private line(text: string) {
    if (this.mode !== 'json') this.print(`${this.now()}  ${text}`);
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
