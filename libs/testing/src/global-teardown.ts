export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __testPg?: { stop: () => Promise<void> } };
  await g.__testPg?.stop();
  // Kafka only when globalSetup started it (a broker that was already running stays up).
  const k = globalThis as { __testKafka?: { stop?: () => Promise<void> } | null };
  await k.__testKafka?.stop?.();
}
