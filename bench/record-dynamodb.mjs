// Preloaded into the `convoy dev` child of bench/api-load.bench.ts (`node --import`): appends every
// DynamoDB call the process makes, as sent (its X-Amz-Target and JSON body), to the file named by
// CONVOY_BENCH_RECORD, one JSON line per call, so the bench can replay the very same calls raw. SIGUSR2
// takes the recorder out of every client before the measured load.
import { appendFileSync } from 'node:fs';
import { Client } from '@smithy/core/client';

const file = process.env.CONVOY_BENCH_RECORD;
const NAME = 'convoyBenchRecorder';
const stacks = new Set();
const send = Client.prototype.send;

/** A build-step middleware sees the serialised HTTP request: the call exactly as DynamoDB receives it. */
const recorder = (next) => async (args) => {
  const target = args.request?.headers?.['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('DynamoDB_')) {
    const started = Date.now();
    try {
      return await next(args);
    } finally {
      appendFileSync(
        file,
        `${JSON.stringify({ started, ended: Date.now(), operation: target.split('.')[1], body: String(args.request.body) })}\n`,
      );
    }
  }
  return next(args);
};

if (file) {
  Client.prototype.send = function (...args) {
    // A document client shares its DynamoDB client's stack: one recorder per stack.
    if (!stacks.has(this.middlewareStack)) {
      this.middlewareStack.add(recorder, { step: 'build', name: NAME, override: true });
      stacks.add(this.middlewareStack);
    }
    return send.apply(this, args);
  };
  process.on('SIGUSR2', () => {
    Client.prototype.send = send;
    for (const stack of stacks) stack.remove(NAME);
    stacks.clear();
    appendFileSync(file, `${JSON.stringify({ stopped: Date.now() })}\n`);
  });
}
