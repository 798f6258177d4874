import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DATABASE_FILE, type DynamoDbLocal } from './dynamodb-local.js';

/** Options of {@link superviseDatabase}. */
export interface SupervisorOptions {
  readonly dynamodb: DynamoDbLocal;
  readonly log: (line: string) => void;
  /** Called once when convoy dev cannot go on; the message says what happened and what to do. */
  readonly onFatal: (message: string) => void;
  /** How often the data folder is looked at. @default 1_000 */
  readonly checkEveryMs?: number;
  /** How often DynamoDB Local is asked whether it can read its database. @default 5_000 */
  readonly probeEveryMs?: number;
  /** Restarts allowed within {@link RESTART_WINDOW_MS} before convoy dev gives up. @default 3 */
  readonly maxRestarts?: number;
}

const RESTART_WINDOW_MS = 60_000;
/** Failed probes in a row (with the JVM running) that mean the database is broken. */
const FAILED_PROBES = 3;

/**
 * Watches the DynamoDB Local behind `convoy dev`: a JVM that dies is started again on the same port
 * and data folder (the API answers 503 on /health meanwhile); a data folder deleted, replaced or
 * unreadable under the running server, or a JVM that keeps dying, ends convoy dev through `onFatal`
 * instead of leaving it to answer 500 forever. Real time, not the dev clock.
 */
export function superviseDatabase(options: SupervisorOptions): { stop(): void } {
  const { dynamodb, log, onFatal } = options;
  const dataDir = dynamodb.dataDir;
  const databaseFile = dataDir === null ? null : join(dataDir, DATABASE_FILE);
  const identity = databaseFile === null ? undefined : fileIdentity(databaseFile);
  const restarts: number[] = [];
  let stopped = false;
  let restarting = false;
  let failedProbes = 0;
  let probing = false;
  const client = dynamodb.client();

  const fatal = (message: string) => {
    if (stopped) return;
    stop();
    onFatal(message);
  };

  /** What is wrong with the data folder, or undefined when the database file is still the one we started with. */
  const folderProblem = (): string | undefined => {
    if (databaseFile === null || identity === undefined) return undefined;
    const now = fileIdentity(databaseFile);
    if (now === undefined)
      return `the data folder ${dataDir} was deleted, or ${DATABASE_FILE} in it was, while Convoy was running`;
    if (now !== identity)
      return `${DATABASE_FILE} in the data folder ${dataDir} was replaced while Convoy was running`;
    return undefined;
  };
  const stopForFolder = (problem: string) =>
    fatal(
      `${problem}; Convoy stopped rather than answer every request with an error. Start it again ` +
        '(a missing data folder starts empty), or restore the folder from a copy first.',
    );

  dynamodb.onUnexpectedExit((how) => {
    if (stopped) return;
    const problem = folderProblem();
    if (problem !== undefined) return stopForFolder(problem);
    const now = Date.now();
    restarts.push(now);
    while ((restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > (options.maxRestarts ?? 3))
      return fatal(
        `DynamoDB Local ${how}, the ${restarts.length}th time within a minute; Convoy stopped. ` +
          'Look for an out-of-memory or disk-full condition, then start it again.',
      );
    log(`DynamoDB Local ${how}; /health answers 503 while it is restarted on port ${dynamodb.port}`);
    restarting = true;
    dynamodb.restart().then(
      () => {
        restarting = false;
        if (!stopped) log(`DynamoDB Local is back (pid ${dynamodb.pid})`);
      },
      (error: Error) => fatal(`DynamoDB Local ${how} and could not be restarted: ${error.message}`),
    );
  });

  const probe = async () => {
    if (probing || restarting || !dynamodb.running) return;
    probing = true;
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(5_000) });
      failedProbes = 0;
    } catch (error) {
      if (stopped || restarting || !dynamodb.running) return;
      failedProbes++;
      if (failedProbes >= FAILED_PROBES)
        fatal(
          `DynamoDB Local runs but cannot read its database${dataDir === null ? '' : ` in ${dataDir}`} ` +
            `(${(error as Error).message}); Convoy stopped. Restore the data folder or remove it to start empty.`,
        );
    } finally {
      probing = false;
    }
  };

  const checks = setInterval(() => {
    const problem = folderProblem();
    if (problem !== undefined) stopForFolder(problem);
  }, options.checkEveryMs ?? 1_000);
  const probes = setInterval(() => void probe(), options.probeEveryMs ?? 5_000);

  function stop() {
    stopped = true;
    clearInterval(checks);
    clearInterval(probes);
    client.destroy();
  }
  return { stop };
}

/** Device and inode of a file, or undefined when it is gone. */
function fileIdentity(file: string): string | undefined {
  try {
    const stats = statSync(file);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}
