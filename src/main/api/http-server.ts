/**
 * Builds the Fastify app: parsers, errors, CORS, auth, upload slots, then the routes by resource.
 *
 * Timeouts (issue 7 item 14): headers must arrive within `timings.headersTimeoutMs` and a whole
 * request within `timings.requestTimeoutMs`; a body that goes silent is cut after
 * `timings.bodyIdleTimeoutMs` (body-timeouts.ts). The time a handler then spends (an RPC call
 * waiting on its device) is not limited here: the call has its own timeout.
 */
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import type { HubConfig, HubTimings } from '../config';
import type { KeysRepo } from '../store/keys-repo';
import { registerBodyParsers } from './body-parsers';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './error-handler';
import { installAuth, type RouteRecord } from './auth';
import { installUploadSlots, type UploadSlots } from './upload-slots';
import { installBodyIdleTimeout } from './body-timeouts';
import { HubError } from '../../shared/errors';
import { requestLogFields } from './log-redact';

export interface HttpServer {
  app: FastifyInstance;
  routes: RouteRecord[];
  uploads: UploadSlots;
}

/**
 * Node server options for the request deadlines; also for any other server that routes into
 * this app (the TLS listener), together with `clientErrorHandler` on its `clientError` event.
 */
export function serverTimeoutOptions(
  timings: Pick<HubTimings, 'headersTimeoutMs' | 'requestTimeoutMs'>,
): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const { headersTimeoutMs, requestTimeoutMs } = timings;
  return {
    headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
    requestTimeout: requestTimeoutMs,
    // How often Node looks for requests past those deadlines (its default is 30 s).
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, headersTimeoutMs / 4)),
  };
}

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/**
 * Fastify's schema compilers, loaded on first use. Our routes validate with typebox (validate.ts)
 * and declare no Fastify schemas, yet Fastify builds its default compilers with the server: ajv,
 * its formats and fast-json-stringify, about 1.2 MB of an idle hub's heap (issue 11). These
 * factories load the same defaults, from Fastify's own dependencies, only if a route ever
 * declares a body, params, querystring, headers or response schema.
 */
export function lazySchemaCompilers(): CompilersFactory {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  // Both packages export a factory of `(externalSchemas, options) => compiler`.
  type Build = (externalSchemas: unknown, options: unknown) => unknown;
  const lazy = (name: string): Build => {
    let build: Build | undefined;
    return (schemas, options) => (build ??= (fromFastify(name) as () => Build)())(schemas, options);
  };
  return {
    buildValidator: lazy('@fastify/ajv-compiler'),
    buildSerializer: lazy('@fastify/fast-json-stringify-compiler'),
  } as CompilersFactory;
}

export async function createHttpServer(config: HubConfig, keys: KeysRepo): Promise<HttpServer> {
  const { requestTimeoutMs, bodyIdleTimeoutMs } = config.timings;
  const app = Fastify({
    logger: { level: config.logLevel, serializers: { req: requestLogFields } },
    bodyLimit: config.limits.maxBodyBytes,
    // No idle limit on the socket itself: an RPC call waits on its device (up to
    // timings.maxRpcTimeoutMs) with nothing on the wire. Slow requests are bounded below.
    connectionTimeout: 0,
    requestTimeout: requestTimeoutMs,
    http: serverTimeoutOptions(config.timings),
    clientErrorHandler,
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    // A HEAD of an RPC route would call the device: only explicit routes exist.
    exposeHeadRoutes: false,
    frameworkErrors: frameworkErrorHandler,
    schemaController: { compilersFactory: lazySchemaCompilers() },
  });
  const routes: RouteRecord[] = [];
  registerBodyParsers(app, config.limits.maxBodyBytes, config.limits.maxJsonDepth);
  installErrorHandling(app);
  installBodyIdleTimeout(app, bodyIdleTimeoutMs);
  // Any origin may call with an Authorization header: keys are the gate (PROTOCOL.md 4).
  await app.register(cors, {
    origin: true,
    allowedHeaders: ['Authorization', 'Content-Type'],
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  });
  installAuth(app, keys, routes);
  const uploads = installUploadSlots(app, config.limits.maxUploadsPerKey);
  app.setNotFoundHandler(async (req) => {
    throw new HubError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  return { app, routes, uploads };
}
