import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ForbiddenError, ValidationError } from '../core/errors.js';
import { createDependencies, fromEnvironment, type HandlerDependencies } from './dependencies.js';
import { MAX_BODY_BYTES, readBody } from './http/api.js';
import { authenticate, UnauthorizedError } from './http/auth.js';
import { httpErrors } from './http/errors.js';
import { MAX_NAME_LENGTH } from './http/schemas.js';
import { buildMcpServer, type McpSession, TOOL_SETS, type ToolSet } from './mcp/server.js';

/** What the MCP function runs with: the handlers' dependencies and which tools it serves by default. */
export interface McpDependencies extends HandlerDependencies {
  /** `core`: only the agent loop's tools, unless a request asks otherwise (`?tools=all`). @default 'all' */
  readonly mcpTools?: ToolSet;
}

/** Headers the web Request is built without: the runtime sets them from the body it is given. */
const HOP_HEADERS = new Set(['content-length', 'host', 'connection', 'transfer-encoding']);

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * 401 with the challenge RFC 6750 asks for, so an MCP client knows to send a bearer token; the body
 * says which (a Convoy agent or person token).
 */
function unauthorized(error: UnauthorizedError, sent: boolean): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 401,
    headers: {
      ...jsonHeaders,
      'www-authenticate': sent
        ? `Bearer realm="convoy", error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`
        : 'Bearer realm="convoy"',
    },
    body: JSON.stringify({
      error: {
        code: 'unauthorized',
        message: `${error.message}; send an agent or person token (an admin mints one: POST /v1/plans/{project}/agents/{agent}/tokens or …/people/{person}/tokens)`,
      },
    }),
  };
}

/** The project a request acts in: its token's, or for an admin token the `project` query parameter. */
function projectOf(
  record: { role: string; project?: string },
  query: Readonly<Record<string, string | undefined>>,
): string {
  if (record.role !== 'admin') {
    if (query.project !== undefined && query.project !== record.project)
      throw new ForbiddenError(`this token belongs to project ${record.project}, not ${query.project}`);
    return record.project as string;
  }
  const project = query.project;
  if (!project || project.length > MAX_NAME_LENGTH)
    throw new ValidationError('query.project: an admin token must name the project: POST /mcp?project=<id>');
  return project;
}

function toolSetOf(query: Readonly<Record<string, string | undefined>>, fallback: ToolSet): ToolSet {
  const asked = query.tools;
  if (asked === undefined) return fallback;
  if (!(TOOL_SETS as readonly string[]).includes(asked))
    throw new ValidationError(`query.tools: "${asked.slice(0, 50)}" is not a tool set; use core or all`);
  return asked as ToolSet;
}

/**
 * `POST /mcp`: the Model Context Protocol over Streamable HTTP, stateless (no session: each request is
 * answered by a fresh server, so it runs on Lambda) for clients of the 2026-07-28 revision and, through
 * the SDK's stateless fallback, of 2025-11-25. The bearer token is checked exactly as the REST API checks
 * it (http/auth.ts); the tools then run the REST routes' use cases as that agent or person. GET and
 * DELETE (2025 session streams) answer 405: there is no session to open or end.
 */
export const makeMcpHandler = (deps: McpDependencies) => {
  const log = (message: string, error: unknown) => deps.logger.error(message, error as Error);
  const mcp = createMcpHandler(
    (context) => buildMcpServer(deps, context.authInfo?.extra?.session as McpSession, log),
    {
      // A single JSON body: no tool sends anything before its result, so `auto` never upgrades to SSE.
      responseMode: 'auto',
      maxRequestBodySize: MAX_BODY_BYTES,
      onerror: (error) => deps.logger.warn('mcp request refused', { error: error.message }),
    },
  );
  return middy(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = event.requestContext.http.method;
    if (method !== 'POST')
      return {
        statusCode: 405,
        headers: { ...jsonHeaders, allow: 'POST' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          error: {
            code: -32000,
            message: 'Method not allowed: this MCP server is stateless; POST each request',
          },
          id: null,
        }),
      };
    const rawBody = readBody(event);
    const headers = event.headers ?? {};
    let authenticated: Awaited<ReturnType<typeof authenticate>>;
    try {
      authenticated = await authenticate(headers.authorization, deps);
    } catch (error) {
      if (error instanceof UnauthorizedError) return unauthorized(error, headers.authorization !== undefined);
      throw error;
    }
    const query = event.queryStringParameters ?? {};
    const session: McpSession = {
      actor: authenticated.actor,
      project: projectOf(authenticated.record, query),
      tools: toolSetOf(query, deps.mcpTools ?? 'all'),
    };
    const request = new Request(
      `https://${event.requestContext.domainName ?? 'localhost'}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`,
      {
        method,
        headers: Object.entries(headers).flatMap(([name, value]) =>
          value === undefined || HOP_HEADERS.has(name) ? [] : [[name, value] as [string, string]],
        ),
        body: rawBody,
      },
    );
    const response = await mcp.fetch(request, {
      // The token itself stays here: the tools only need who it acts as.
      authInfo: { token: '', clientId: authenticated.record.id, scopes: [], extra: { session } },
    });
    return {
      statusCode: response.status,
      headers: { 'cache-control': 'no-store', ...Object.fromEntries(response.headers) },
      body: await response.text(),
    };
  })
    .use(httpHeaderNormalizer())
    .use(httpErrors(log))
    .use(injectLambdaContext(deps.logger));
};

export const handler = fromEnvironment(makeMcpHandler, (config) => ({
  ...createDependencies(config),
  ...(config.mcpTools ? { mcpTools: config.mcpTools } : {}),
}));
