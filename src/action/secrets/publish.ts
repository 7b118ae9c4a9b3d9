import * as core from '@actions/core'
import { redactSecrets } from './masking.js'

/**
 * Where a run's text reaches people outside the log: the step outputs and the job summary, with
 * secret values redacted to `***` as in the cached state. The runner masks only the log, and the
 * agent's text may quote a key it was shown or ran `env` for. Comments get the same through
 * createGitHub's `redact` option, which main.ts sets to this publisher's `redact`.
 */
export interface Publisher {
  redact(text: string): string
  setOutputs(outputs: Record<string, string | number>): void
  /** Writes (appends) what core.summary holds, redacted, and empties it. */
  writeSummary(): Promise<void>
}

/** `secrets` is read at each call: values found later (opencode serve's password) count too. */
export function createPublisher(secrets: readonly string[]): Publisher {
  const redact = (text: string) => redactSecrets(text, secrets)
  return {
    redact,
    setOutputs(outputs) {
      for (const [name, value] of Object.entries(outputs)) {
        core.setOutput(name, redact(String(value)))
      }
    },
    async writeSummary() {
      const text = redact(core.summary.stringify())
      await core.summary.emptyBuffer().addRaw(text).write()
    }
  }
}
