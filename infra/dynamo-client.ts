import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

// DESIGN section 5 pins Node 20 on purpose; the SDK's Node 22 notice would otherwise print on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * DynamoDB Local accepts any credentials; fixed dummy ones keep the SDK from searching the
 * environment and instance metadata (slow, and absent here).
 */
export function dynamoClient(endpoint: string, opts: { maxAttempts?: number; requestTimeoutMs?: number } = {}): DynamoDBClient {
  const local = /127\.0\.0\.1|localhost|\[::1\]/.test(endpoint);
  return new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: opts.maxAttempts ?? 5,
    ...(opts.requestTimeoutMs !== undefined ? { requestHandler: { requestTimeout: opts.requestTimeoutMs } } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}
