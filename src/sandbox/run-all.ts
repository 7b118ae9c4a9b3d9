/** Running the sandbox's privileged commands side by side, never leaving one behind on a failure. */

/**
 * Waits for every command, side by side, then throws the first failure: a command still running
 * when a failure is cleaned up could grant what the clean-up has already revoked.
 */
export async function runAll(commands: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(commands)
  const failed = results.find((result) => result.status === 'rejected')
  if (failed) throw failed.reason
}
