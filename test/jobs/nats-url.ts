/** Real NATS 2.9 JetStream the tests use (127.0.0.1:4222); each test creates its own stream and consumer and deletes them. */
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
