/**
 * `/api/v2/keys` (PROTOCOL.md 4): master API keys. The secret is returned once, on creation.
 */
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';
import type { KeysRepo } from '../store/keys-repo';
import { KeyIdParams } from './schemas';

export function registerKeysRoutes(app: FastifyInstance, keys: KeysRepo): void {
  app.get('/api/v2/keys', async () => keys.list());

  app.post('/api/v2/keys', async () => keys.create(Math.floor(Date.now() / 1000)));

  app.get('/api/v2/keys/:id', async (req) => {
    const { id } = parseWith(KeyIdParams, req.params);
    const key = keys.get(id);
    if (!key) throw new HubError('key_not_found', `no key '${id}'`);
    return key;
  });

  app.delete('/api/v2/keys/:id', async (req) => {
    const { id } = parseWith(KeyIdParams, req.params);
    if (!keys.remove(id)) throw new HubError('key_not_found', `no key '${id}'`);
    return true;
  });
}
