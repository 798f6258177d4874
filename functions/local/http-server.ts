import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../handlers/http/api.js';
import { MAX_WEBHOOK_BYTES } from '../handlers/http/webhook.js';
import { type HttpHandlerName, ROUTES, type RouteSpec, routeKey } from '../handlers/routes.js';
import { isApiPath, serveDashboard } from './static-files.js';

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string>;

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly names: string[];
}

const compiled: CompiledRoute[] = ROUTES.map((spec) => {
  const names: string[] = [];
  const source = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { spec, pattern: new RegExp(`^${source}$`), names };
});

/** The event API Gateway (HTTP API, payload v2) sends for a request. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  url: URL,
  route: RouteSpec,
  pathParameters: Record<string, string>,
  body: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] =
      queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }
  const now = new Date();
  const key = routeKey(route);
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'convoy-dev',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

/** The deployed functions' timeout (lib/constructs/app-function.ts), counted down as in Lambda. */
const TIMEOUT_MS = 10_000;

export function lambdaContext(name: string, requestId: string): Context {
  const deadline = Date.now() + TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `convoy-dev-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:convoy-dev-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/convoy-dev-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface LocalApiServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** A path segment percent-decoded, or undefined when it is not valid percent-encoded UTF-8 (`%ZZ`). */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * Serves the API routes on a local port through the very same Lambda handlers: each Node request
 * becomes an API Gateway v2 event, each handler result an HTTP response. One log line per request.
 */
export async function startLocalApi(options: {
  port: number;
  host?: string;
  handlers: Record<HttpHandlerName, LambdaHttpHandler>;
  log?: (line: string) => void;
  /**
   * The built dashboard (dist/dashboard), served at `/` for GET and HEAD of every path outside the
   * API's (`/v1`, `/mcp`, `/health`, `/webhooks`, `/slack`). @default - no dashboard: such paths are 404
   */
  dashboardDir?: string;
}): Promise<LocalApiServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.log(line));
  const server = createServer((request, response) => {
    try {
      serve(request, response);
    } catch (error) {
      // Nothing a client sends may stop the server: whatever slipped through is this request's 500.
      console.error(error);
      if (!response.headersSent)
        send(response, 500, { error: { code: 'internal', message: 'the request could not be served' } });
      else response.destroy();
    }
  });

  function serve(request: IncomingMessage, response: ServerResponse) {
    const started = process.hrtime.bigint();
    // The Host header is the client's to send ("a b" is not a host): routing needs only the path.
    const url = new URL(request.url ?? '/', 'http://localhost');
    request.on('error', () => response.destroy());
    response.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(
        `${new Date().toISOString()} ${request.method} ${url.pathname}${url.search} ${response.statusCode} ${ms.toFixed(1)}ms`,
      );
    });
    const candidates = compiled.filter((route) => route.pattern.test(url.pathname));
    const route = candidates.find((candidate) => candidate.spec.method === request.method);
    const method = request.method ?? 'GET';
    if (
      !route &&
      candidates.length === 0 &&
      options.dashboardDir !== undefined &&
      (method === 'GET' || method === 'HEAD') &&
      !isApiPath(url.pathname)
    ) {
      request.resume();
      serveDashboard(options.dashboardDir, url.pathname, method, response).catch((error: unknown) => {
        console.error(error);
        if (response.headersSent) response.destroy();
        else send(response, 500, { error: { code: 'internal', message: 'the file could not be read' } });
      });
      return;
    }
    if (!route) {
      const allowed = candidates.map((candidate) => candidate.spec.method);
      if (allowed.length > 0) {
        send(
          response,
          405,
          {
            error: {
              code: 'method_not_allowed',
              message: `${request.method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}`,
            },
          },
          { allow: allowed.join(', ') },
        );
      } else {
        send(response, 404, {
          error: { code: 'not_found', message: `no route ${request.method} ${url.pathname}` },
        });
      }
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // Webhooks carry large payloads (a push with many commits); the API's bodies stay small.
    const limit = route.spec.path.startsWith('/webhooks/') ? MAX_WEBHOOK_BYTES : MAX_BODY_BYTES;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep reading to drain the socket, but stop buffering well past the limit the handler enforces.
      if (size <= limit + 1) chunks.push(chunk);
      else if (!refused) {
        refused = true;
        send(response, 413, {
          error: {
            code: 'payload_too_large',
            message: `the request body is over the limit of ${limit} bytes for ${route.spec.path}`,
          },
        });
      }
    });
    request.on('end', () => {
      if (refused) return;
      try {
        dispatch();
      } catch (error) {
        console.error(error);
        send(response, 500, { error: { code: 'internal', message: 'the request could not be served' } });
      }
    });

    function dispatch() {
      if (!route) return;
      const match = route.pattern.exec(url.pathname) as RegExpExecArray;
      const pathParameters: Record<string, string> = {};
      for (const [i, name] of route.names.entries()) {
        const value = decodePathSegment(match[i + 1] as string);
        if (value === undefined) {
          send(response, 400, {
            error: {
              code: 'invalid_request',
              message: `path.${name}: not a valid percent-encoded UTF-8 path segment`,
            },
          });
          return;
        }
        pathParameters[name] = value;
      }
      const event = toApiGatewayEvent(
        request,
        url,
        route.spec,
        pathParameters,
        Buffer.concat(chunks).toString('utf8'),
      );
      options.handlers[route.spec.handler](
        event,
        lambdaContext(route.spec.handler, event.requestContext.requestId),
      )
        .then((result) => {
          const structured = typeof result === 'string' ? { statusCode: 200, body: result } : result;
          const headers = Object.fromEntries(
            Object.entries(structured.headers ?? {}).map(([name, value]) => [name, String(value)]),
          );
          response.writeHead(structured.statusCode ?? 200, headers);
          // API Gateway decodes a base64 body (a chart PNG) before it answers; so does this server.
          response.end(
            structured.isBase64Encoded
              ? Buffer.from(structured.body ?? '', 'base64')
              : (structured.body ?? ''),
          );
        })
        .catch((error: unknown) => {
          console.error(error);
          // A failure half-way through the answer (an invalid header) can only close the connection.
          if (response.headersSent) response.destroy();
          else
            send(response, 500, {
              error: { code: 'internal', message: 'the handler failed; see the log above' },
            });
        });
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
