/**
 * Builds the Fastify app: parsers, errors, CORS, auth, then the routes by resource.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import type { HubConfig } from '../config';
import type { KeysRepo } from '../store/keys-repo';
import { registerBodyParsers } from './body-parsers';
import { frameworkErrorHandler, installErrorHandling } from './error-handler';
import { installAuth, type RouteRecord } from './auth';
import { HubError } from '../../shared/errors';

export interface HttpServer {
  app: FastifyInstance;
  routes: RouteRecord[];
}

export async function createHttpServer(config: HubConfig, keys: KeysRepo): Promise<HttpServer> {
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: config.limits.maxBodyBytes,
    // RPC calls wait up to the device timeout; keep connections open past it.
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    // A HEAD of an RPC route would call the device: only explicit routes exist.
    exposeHeadRoutes: false,
    frameworkErrors: frameworkErrorHandler,
  });
  const routes: RouteRecord[] = [];
  registerBodyParsers(app, config.limits.maxBodyBytes);
  installErrorHandling(app);
  // Any origin may call with an Authorization header: keys are the gate (PROTOCOL.md 4).
  await app.register(cors, {
    origin: true,
    allowedHeaders: ['Authorization', 'Content-Type'],
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  });
  installAuth(app, keys, routes);
  app.setNotFoundHandler(async (req) => {
    throw new HubError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  return { app, routes };
}
