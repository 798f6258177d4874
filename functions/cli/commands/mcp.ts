import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { resolveTarget } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, styler, UsageError } from '../io.js';
import { connection } from './apply.js';

/** The local server's name and version, as a client's server list shows it. */
const BRIDGE_INFO = { name: 'convoy', version: '0.1.0' } as const;

/** The remote `/mcp` URL: the project (for an admin token) and the tool set ride as query parameters. */
export function mcpUrl(base: string, options: { project?: string; tools?: string }): URL {
  const url = new URL(`${base.replace(/\/+$/, '')}/mcp`);
  if (options.project) url.searchParams.set('project', options.project);
  if (options.tools) url.searchParams.set('tools', options.tools);
  return url;
}

/**
 * A local MCP server over stdio whose tools and resources are those of the remote Convoy: each list,
 * call and read is sent on to the remote server with the token, and its answer (error results included)
 * comes back as it is. The remote server decides everything; the bridge adds nothing.
 */
function bridgeServer(remote: Client): Server {
  const server = new Server(BRIDGE_INFO, {
    capabilities: { tools: {}, resources: {} },
    ...(remote.getInstructions() ? { instructions: remote.getInstructions() as string } : {}),
  });
  server.setRequestHandler('tools/list', (request) => remote.listTools(request.params));
  server.setRequestHandler('tools/call', (request) => remote.callTool(request.params));
  server.setRequestHandler('resources/list', (request) => remote.listResources(request.params));
  server.setRequestHandler('resources/read', (request) => remote.readResource(request.params));
  return server;
}

export const mcpCommand: Command = {
  name: 'mcp',
  usage: 'convoy mcp [--url URL] [--token TOKEN] [--project ID] [--tools core|all]',
  details: [
    'Starts an MCP server on stdin/stdout whose tools (next_task, update_task, report_progress, …) and',
    'resources (convoy://plan, convoy://status) are those of the Convoy at URL/mcp, acting as the token’s',
    'agent or person. Configure it in a client as the command `convoy mcp` with CONVOY_URL and CONVOY_TOKEN',
    'in its environment (docs/agents.md). The URL comes from --url, then $CONVOY_URL, then the running',
    'convoy dev; the token from --token, then $CONVOY_TOKEN. Only MCP messages are written to stdout.',
  ],
  options: {
    ...connection,
    project: {
      type: 'string',
      value: 'ID',
      description: 'project id, for an admin token only (agent and person tokens belong to one project)',
    },
    tools: {
      type: 'string',
      value: 'SET',
      description:
        'core: only the agent loop’s tools, to keep the client’s context small (default: $CONVOY_MCP_TOOLS, else all)',
    },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const tools = typeof values.tools === 'string' ? values.tools : process.env.CONVOY_MCP_TOOLS;
    if (tools !== undefined && tools !== 'core' && tools !== 'all')
      throw new UsageError(`--tools must be core or all, got "${tools}"`);
    const url = typeof values.url === 'string' ? values.url : process.env.CONVOY_URL;
    const target = await resolveTarget({ ...values, ...(url ? { url } : {}) });
    if (!target.token)
      throw new UsageError('no token: pass --token or set CONVOY_TOKEN to an agent or person token');
    const style = styler(io.color);
    const remote = new Client({ name: 'convoy-mcp-bridge', version: BRIDGE_INFO.version });
    const endpoint = mcpUrl(target.url, {
      ...(typeof values.project === 'string' ? { project: values.project } : {}),
      ...(tools ? { tools } : {}),
    });
    try {
      await remote.connect(
        new StreamableHTTPClientTransport(endpoint, {
          requestInit: { headers: { authorization: `Bearer ${target.token}` } },
        }),
      );
    } catch (error) {
      io.stderr(
        `${style('red', 'error:')} cannot reach the Convoy MCP server at ${endpoint.origin}${endpoint.pathname}: ${(error as Error).message}\n`,
      );
      return EXIT.failed;
    }
    const closed = new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.stdin.once('close', resolve);
    });
    const handle = serveStdio(() => bridgeServer(remote), {
      onerror: (error) => io.stderr(`${style('yellow', 'warning:')} ${error.message}\n`),
    });
    await closed;
    await handle.close();
    await remote.close();
    return EXIT.ok;
  },
};
