import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ReportDocument } from '../../core/reports/model.js';
import { renderPlainText } from '../../core/reports/plain-text.js';
import { ApiError, download, request, resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

const KINDS = { standup: 'standup', sync: 'sync', report: 'report', weekly: 'weekly-summary' } as const;

export const reportCommand: Command = {
  name: 'report',
  usage:
    'convoy report standup|sync|report|weekly [--url URL] [--project ID] [--token TOKEN] [--out FILE.md] [--markdown]',
  details: [
    'The same documents the schedules post to Slack, computed from the state as it is now, printed as',
    'plain text (no Markdown markup), or as Markdown with --markdown.',
    'With --out, the Markdown is written to FILE.md and the burndown chart of `report` beside it as',
    'FILE.png. Defaults come from the running convoy dev (.convoy/dev.json).',
  ],
  options: {
    ...connection,
    project: { type: 'string', value: 'ID', description: 'project id (default: convoy dev’s project)' },
    out: {
      type: 'string',
      value: 'FILE.md',
      description: 'write the Markdown (and the chart PNG beside it) here',
    },
    markdown: { type: 'boolean', description: 'print Markdown rather than plain text' },
  },
  async run({ positionals, values }, io) {
    const [name, ...extra] = positionals;
    if (!name) throw new UsageError('which report? convoy report standup|sync|report|weekly');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const kind = KINDS[name as keyof typeof KINDS];
    if (!kind)
      throw new UsageError(`unknown report ${name}; expected one of: ${Object.keys(KINDS).join(', ')}`);
    const target = await resolveTarget(values);
    if (!target.project) throw new UsageError('no --project given and no running convoy dev to take it from');
    const style = styler(io.color);
    const base = `/v1/plans/${encodeURIComponent(target.project)}`;
    const out = typeof values.out === 'string' ? values.out : undefined;
    const chartFile = out ? `${basename(out, extname(out))}.png` : undefined;
    try {
      if (!out && !values.markdown) {
        // The terminal gets the document as plain text: no escapes, no markup.
        const document = await request<ReportDocument>(target, 'GET', `${base}/reports/${kind}?format=json`);
        io.stdout(renderPlainText(document));
        return EXIT.ok;
      }
      const markdown = await download(
        target,
        `${base}/reports/${kind}${chartFile ? `?chart=${encodeURIComponent(chartFile)}` : ''}`,
      );
      if (!out) {
        io.stdout(Buffer.from(markdown).toString('utf8'));
        return EXIT.ok;
      }
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, markdown);
      io.stdout(`wrote ${out}\n`);
      if (kind === 'report' && chartFile) {
        const png = await download(target, `${base}/charts/burndown.png`);
        const path = join(dirname(out), chartFile);
        await writeFile(path, png);
        io.stdout(`wrote ${path}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
      return EXIT.failed;
    }
  },
};
