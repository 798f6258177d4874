/**
 * What Convoy asks of the outside trackers and chat, as data: every JIRA write is a command that goes
 * through the outbox, so it survives outages, honours rate limits and happens once.
 */

import { ConvoyError } from '../errors.js';

export interface RemoteLink {
  /** Makes the link idempotent: JIRA updates the link with the same globalId instead of adding one. */
  readonly globalId: string;
  readonly url: string;
  readonly title: string;
  readonly summary?: string;
  /** Shown struck through in JIRA when resolved (a merged or closed PR). */
  readonly resolved?: boolean;
}

/** An issue for Convoy to open in JIRA, e.g. for an escalation whose rule asks for one. */
export interface NewIssue {
  /** The JIRA project's key. */
  readonly project: string;
  /** The issue type's name, e.g. `Task`. */
  readonly type: string;
  readonly summary: string;
  /** Plain text; blank lines separate paragraphs. */
  readonly description: string;
  /**
   * A label no other issue has (`convoy-<hash>`): the tracker looks for it before creating, so a
   * retry after a lost answer finds the issue the first attempt made instead of making a second.
   */
  readonly label: string;
}

export type JiraCommand =
  | { readonly kind: 'transition'; readonly issue: string; readonly status: string }
  | { readonly kind: 'remote-link'; readonly issue: string; readonly link: RemoteLink }
  | { readonly kind: 'comment'; readonly issue: string; readonly body: string }
  | { readonly kind: 'worklog'; readonly issue: string; readonly seconds: number; readonly comment?: string }
  | CreateIssueCommand;

/**
 * Opens an issue, once per label. It has no issue key until JIRA answers, so it is ordered by its
 * project (`lineOf`). `issue` is never set: it is declared so that code reading the issue of any
 * JIRA command still compiles (it reads `undefined` here; `lineOf` is the way to name the line).
 */
export type CreateIssueCommand = { readonly kind: 'create-issue' } & NewIssue;

/** What the team hears about in Slack, as data; the Slack adapter turns it into Block Kit. */
export type TaskNotice =
  | {
      readonly type: 'task-done';
      readonly project: string;
      readonly task: NoticeTask;
      readonly by: string;
      readonly note?: string;
    }
  | {
      readonly type: 'task-blocked';
      readonly project: string;
      readonly task: NoticeTask;
      readonly by: string;
      readonly reason: string;
    }
  | {
      /** A claim ended without the task being done: it is ready for another agent. */
      readonly type: 'task-released';
      readonly project: string;
      readonly task: NoticeTask;
      readonly agent: string;
      readonly reason: 'released' | 'expired';
    }
  | {
      /** A lease collided with another holder's: everyone working on the plan should know. */
      readonly type: 'resource-conflict';
      readonly project: string;
      /** The resource id, or the paths asked for. */
      readonly what: string;
      readonly requestedBy: string;
      readonly holder: string;
      readonly task?: string;
      readonly expiresAt: string;
      readonly overridden: boolean;
    }
  | ChangeConflictNotice
  | {
      readonly type: 'task-handed-off';
      readonly project: string;
      readonly task: NoticeTask;
      readonly by: string;
      readonly to: readonly NoticeTask[];
      readonly checklist: Readonly<Record<string, boolean>>;
      readonly notes?: string;
    };

/**
 * A push or pull request by one agent changed files of a resource another agent holds an exclusive
 * lease on, or owns: both agents' channels and the owner's hear of it.
 */
export interface ChangeConflictNotice {
  readonly type: 'resource-conflict';
  readonly project: string;
  /** `push` or `pull_request`: a change, not a lease request. */
  readonly source: 'push' | 'pull_request';
  /** The resource's id and name. */
  readonly resource: { readonly id: string; readonly name: string };
  /** The agent that changed the files. */
  readonly changedBy: string;
  /** The agent whose exclusive lease the change went into, its task and expiry. */
  readonly holder?: string;
  readonly task?: string;
  readonly expiresAt?: string;
  /** The agent that owns the resource; it takes precedence. */
  readonly owner: string;
  readonly repository: string;
  /** The head commit's SHA (a push) or the PR's number. */
  readonly commit?: string;
  readonly pr?: number;
  readonly url?: string;
  /** The first changed paths in the resource, and how many there are in all. */
  readonly paths: readonly string[];
  readonly changedPaths: number;
}

/** What the team hears about GitHub activity. */
export type GithubNotice =
  | {
      readonly type: 'pr-merged';
      readonly project: string;
      readonly repo: string;
      readonly number: number;
      readonly title: string;
      readonly url: string;
      readonly author: string;
      readonly tasks: readonly string[];
      readonly issues: readonly string[];
    }
  | {
      readonly type: 'build-failing';
      readonly project: string;
      readonly repo: string;
      readonly workflow: string;
      readonly branch: string;
      readonly url: string;
      readonly failureRate: number;
    };

/** What the team hears when the heartbeat monitor loses or finds an agent. */
export type AgentNotice =
  | {
      readonly type: 'agent-down';
      readonly project: string;
      readonly agent: { readonly id: string; readonly name: string };
      readonly lastHeartbeatAt: string;
      /** The agent's owner, who answers for bringing it back. */
      readonly owner: { readonly name: string; readonly slack?: string };
    }
  | {
      readonly type: 'agent-up';
      readonly project: string;
      readonly agent: { readonly id: string; readonly name: string };
      readonly downSince: string;
    };

/** A button of an escalation post: acknowledge, resolve, confirm the proposed reassignment. */
export type EscalationAction = 'ack' | 'resolve' | 'reassign';

/** What the escalations channel hears when an escalation opens, climbs, is handled or ends. */
export interface EscalationPostNotice {
  readonly type: 'escalation';
  readonly project: string;
  readonly escalation: {
    readonly id: string;
    readonly rule: string;
    readonly subject: string;
    readonly level: number;
    readonly status: 'open' | 'acknowledged' | 'resolved';
  };
  /** The engine's sentence, plain text. */
  readonly text: string;
  /** Slack user ids of the people asked to act. */
  readonly mentions: readonly string[];
  /** The buttons to offer, in order; none once the escalation is resolved. */
  readonly actions: readonly EscalationAction[];
}

/** What the team hears from a phase gate: a decision, a caution, a request to decide, a pass or a hold. */
export interface GateNotice {
  readonly type: 'gate';
  readonly project: string;
  readonly gate: string;
  readonly phase: string;
  readonly headline: string;
  /** The reasons, one sentence each (the evaluation's, or who decided and why). */
  readonly lines: readonly string[];
  /** Slack user ids to mention (the approvers, the phase's owners). */
  readonly mentions: readonly string[];
  /** Set on a request to decide: the buttons "Accept risk and advance" and "Hold" for this attempt. */
  readonly decide?: { readonly attempt: number };
}

export type Notice = TaskNotice | GithubNotice | AgentNotice | EscalationPostNotice | GateNotice;

export interface NoticeTask {
  readonly id: string;
  readonly title: string;
}

/** A Slack post that waits in the outbox like a JIRA command: retried, never posted twice (by key). */
export type SlackPost = {
  readonly kind: 'slack';
  readonly channel: string;
  /** The message's identity: a retry updates the message posted under it instead of posting again. */
  readonly key: string;
} & (
  | { readonly notice: Notice }
  /** A message rendered when it was enqueued (a scheduled report), with a chart to share beside it. */
  | { readonly message: ChatMessage; readonly chart?: ChartAttachment }
);

/**
 * A chat message as rendered (Slack Block Kit): carried by a Slack post command, handed to the
 * `ChatPoster` port (ports.ts re-exports it, so adapters keep importing it from there).
 */
export interface ChatMessage {
  /** Plain-text fallback for notifications and clients without Block Kit. */
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

/** A chart kept in the chart archive, shared in the channel with the report that shows it. */
export interface ChartAttachment {
  readonly name: string;
  /** Which rendering of the chart (its `at`), so a retry shares the same one. */
  readonly at: string;
  readonly filename: string;
  readonly title: string;
}

/** Everything the outbox carries to the outside world. */
export type OutboxCommand = JiraCommand | SlackPost;

/**
 * What an outbox command is ordered by: a JIRA issue's commands run in order, as do a channel's
 * posts and the issues created in a JIRA project.
 */
export const lineOf = (command: OutboxCommand): string =>
  command.kind === 'slack'
    ? `slack:${command.channel}`
    : command.kind === 'create-issue'
      ? command.project.toUpperCase()
      : command.issue.toUpperCase();

/** A command in the outbox, with what the worker needs to retry it. */
export interface OutboxEntry {
  /** Deterministic (e.g. delivery id + command index), so a redelivered webhook enqueues nothing new. */
  readonly id: string;
  /** The project whose audit trail hears about the command's fate (`sync.failed`). */
  readonly project: string;
  readonly command: OutboxCommand;
  /** 0 before the first try. */
  readonly attempts: number;
  /** ISO time when the entry may next be tried. */
  readonly notBefore: string;
  readonly createdAt: string;
  readonly lastError?: string;
}

/** A failure talking to a tracker or chat service, classified for the retry policy. */
export class IntegrationError extends ConvoyError {
  constructor(
    message: string,
    /** 429, 5xx and network errors are retryable; 4xx (bad key, no such transition) are not. */
    readonly retryable: boolean,
    /** From a `Retry-After` header, when the service sent one. */
    readonly retryAfterMs?: number,
    /** HTTP status, when there was a response. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super('integration_failed', message, options);
    this.name = 'IntegrationError';
  }
}
