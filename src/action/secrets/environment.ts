/**
 * The environment opencode gets: the job's own (so `{env:VAR}` in opencode.json resolves and
 * providers kugetsu cannot proxy find their keys), minus what only the runner and kugetsu may
 * hold. Covered provider keys are swapped for placeholders afterwards (provider-keys.ts).
 */

/** Runner credentials: with these an agent could write other issues' cache entries or mint OIDC tokens. */
const RUNNER_SECRETS = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_SERVICE_V2'
]

/** Files through which a step changes the job's later steps and its own post step. */
const RUNNER_FILE_COMMANDS = [
  'GITHUB_ENV',
  'GITHUB_OUTPUT',
  'GITHUB_STATE',
  'GITHUB_PATH',
  'GITHUB_STEP_SUMMARY'
]

/** The job token under the names runners and tools give it (Forgejo and Gitea add their own). */
const JOB_TOKENS = ['GITHUB_TOKEN', 'GH_TOKEN', 'FORGEJO_TOKEN', 'GITEA_TOKEN']

export function agentEnvironment(
  env: NodeJS.ProcessEnv,
  overrides: Record<string, string>,
  options: {
    exposeToken?: string
    /** Values no variable may carry to the agent, whatever its name (github-token, state-key). */
    withheld?: string[]
  } = {}
): NodeJS.ProcessEnv {
  const withheld = new Set((options.withheld ?? []).filter(Boolean))
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    // INPUT_* carries the action's inputs, github-token among them.
    if (name.startsWith('INPUT_') || name.startsWith('STATE_')) continue
    if (RUNNER_SECRETS.includes(name) || RUNNER_FILE_COMMANDS.includes(name)) continue
    if (JOB_TOKENS.includes(name) || withheld.has(value)) continue
    out[name] = value
  }
  if (options.exposeToken) {
    out.GITHUB_TOKEN = options.exposeToken
    out.GH_TOKEN = options.exposeToken
  }
  return { ...out, ...overrides }
}
