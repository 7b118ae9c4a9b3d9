/**
 * Values to register with the runner's log masking (`core.setSecret`) before anything runs, so a
 * credential echoed by the agent, opencode or an error message shows as `***` in the log. Inputs
 * given from `secrets.*` are masked by the runner already; these are not when they come from
 * plain `env:`, variables or a config file.
 *
 * A value is listed when it is at least MIN_SECRET_LENGTH characters and comes from:
 * - the `github-token` or `state-key` input (`INPUT_GITHUB-TOKEN`, `INPUT_STATE-KEY`);
 * - an environment variable whose name, ignoring case and with `-` or spaces read as `_`, ends in
 *   `API_KEY` / `APIKEY`, `TOKEN`, `SECRET`, `SECRET_KEY`, `ACCESS_KEY`, `PRIVATE_KEY`, `PASSWORD`
 *   or `PASSPHRASE` (OPENAI_API_KEY, GH_TOKEN, GITHUBTOKEN, AWS_SECRET_ACCESS_KEY);
 * - a string in the `opencode-config` input's JSON under a key that names a credential (`apiKey`,
 *   `token`, `secret`, `password`, ...), as a provider key may be written there inline.
 *
 * Shorter values are left out: masking `true` or `main` would garble the log and protect nothing.
 * A multi-line value is also listed line by line (the runner masks per line), and a value with
 * surrounding whitespace also trimmed. The list is deduplicated, longest first.
 */

export const MIN_SECRET_LENGTH = 8

const SECRET_INPUTS = ['INPUT_GITHUB_TOKEN', 'INPUT_STATE_KEY']
const SECRET_NAME =
  /(?:API_?KEY|TOKEN|SECRET|SECRET_KEY|ACCESS_KEY|PRIVATE_KEY|PASSWORD|PASSPHRASE)$/
const CONFIG_INPUT = 'INPUT_OPENCODE_CONFIG'
const SECRET_CONFIG_KEY = /(?:api_?key|token|secret|password|passphrase|private_?key|credential)/i

const normalName = (name: string) => name.toUpperCase().replace(/[-\s]/g, '_')

function* configSecrets(value: unknown, depth = 0): Generator<string> {
  if (depth > 20 || value === null || typeof value !== 'object') return
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item === 'string' && SECRET_CONFIG_KEY.test(key)) yield item
    else yield* configSecrets(item, depth + 1)
  }
}

function parsedConfig(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function variants(value: string): string[] {
  const found = [value, value.trim()]
  if (/[\r\n]/.test(value)) found.push(...value.split(/\r?\n|\r/).map((line) => line.trim()))
  return found
}

/** The values in `env` to mask; see the module comment. Pure: reads only its argument. */
export function secretValuesFrom(env: Readonly<Record<string, string | undefined>>): string[] {
  const found = new Set<string>()
  const add = (value: string) => {
    for (const candidate of variants(value)) {
      // Masking a value that is only whitespace or a template would blank unrelated log text.
      if (candidate.trim().length >= MIN_SECRET_LENGTH && !/^\{env:[^}]*\}$/.test(candidate)) {
        found.add(candidate)
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || value === '') continue
    const normal = normalName(name)
    if (SECRET_INPUTS.includes(normal) || SECRET_NAME.test(normal)) add(value)
    if (normal === CONFIG_INPUT) {
      for (const secret of configSecrets(parsedConfig(value))) add(secret)
    }
  }
  return [...found].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * `text` with every secret value replaced by `***`, also where it appears JSON-escaped (inside a
 * session export), so a key the agent happened to print is not kept in the cached state.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (form.length >= MIN_SECRET_LENGTH) out = out.split(form).join('***')
    }
  }
  return out
}
