import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Registry } from 'prom-client';
import type { KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { tableNames } from '../topics.js';
import { AdminServer } from './admin-server.js';
import { ElectionAdmin } from './election-admin.js';
import { ElectionStore } from './election-store.js';

export interface StartAdminOptions {
  readonly driver: KafkaDriver;
  readonly dynamodb: DynamoDBClient;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly token: string;
  readonly host?: string;
  readonly port: number;
  readonly prefix?: string;
  readonly nowMs?: () => number;
}

export interface RunningAdmin {
  readonly port: number;
  readonly admin: ElectionAdmin;
  /** Versions published at start because the topic lacked them. */
  readonly reconciled: number;
  close(): Promise<void>;
}

/** Converges `elections` with the table first, then serves the admin API. */
export async function startAdmin(o: StartAdminOptions): Promise<RunningAdmin> {
  const producer = await o.driver.createProducer({ clientId: 'votestream-admin' });
  const admin = new ElectionAdmin({
    store: new ElectionStore(o.dynamodb, tableNames(o.prefix).elections),
    producer,
    logger: o.logger,
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
    ...(o.nowMs === undefined ? {} : { nowMs: o.nowMs }),
  });
  try {
    const reconciled = await admin.reconcile(o.driver);
    const server = new AdminServer({ host: o.host, port: o.port, token: o.token, admin, logger: o.logger, registry: o.registry });
    const port = await server.listen();
    o.logger.info({ port, reconciled }, 'elections admin listening');
    return {
      port,
      admin,
      reconciled,
      close: async () => {
        server.close();
        await producer.close();
      },
    };
  } catch (error) {
    await producer.close();
    throw error;
  }
}
