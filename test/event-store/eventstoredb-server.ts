/**
 * Finds an EventStoreDB for the contract tests: EVENTSTORE_URL if set, else a throw-away container through
 * testcontainers when a container runtime answers. Otherwise says why not, so the runner can report the
 * tests as skipped (never as passed).
 */
export type EventStoreDbServer =
  | { available: true; url: string; source: string; stop(): Promise<void> }
  | { available: false; reason: string };

export const EVENTSTORE_IMAGE = process.env.EVENTSTORE_IMAGE ?? 'docker.eventstore.com/eventstore/eventstore:24.10';

export async function startEventStoreDb(): Promise<EventStoreDbServer> {
  const url = process.env.EVENTSTORE_URL?.trim();
  if (url) return { available: true, url, source: 'EVENTSTORE_URL', stop: async () => undefined };
  let runtimeError: string;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    // Fails within milliseconds when there is no Docker/Podman socket.
    await getContainerRuntimeClient();
  } catch (error) {
    runtimeError = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `no EVENTSTORE_URL and no container runtime (testcontainers: ${runtimeError})` };
  }
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer(EVENTSTORE_IMAGE)
      .withEnvironment({
        EVENTSTORE_INSECURE: 'true',
        EVENTSTORE_MEM_DB: 'true',
        EVENTSTORE_RUN_PROJECTIONS: 'None',
        EVENTSTORE_CLUSTER_SIZE: '1',
      })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
      .withStartupTimeout(120_000)
      .start();
    return {
      available: true,
      url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
      source: `container ${EVENTSTORE_IMAGE}`,
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    return {
      available: false,
      reason: `no EVENTSTORE_URL and the ${EVENTSTORE_IMAGE} container did not start (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
