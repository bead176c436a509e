export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __testPg?: { stop: () => Promise<void> } };
  await g.__testPg?.stop();
}
