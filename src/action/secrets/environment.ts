/**
 * The environment opencode gets: the job's own (so provider keys set as env reach it and
 * `{env:VAR}` in opencode.json resolves), minus what only the runner and kugetsu may hold.
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

export function agentEnvironment(
  env: NodeJS.ProcessEnv,
  overrides: Record<string, string>,
  options: { exposeToken?: string } = {}
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    // INPUT_* carries the action's inputs, github-token among them.
    if (name.startsWith('INPUT_') || name.startsWith('STATE_')) continue
    if (RUNNER_SECRETS.includes(name) || RUNNER_FILE_COMMANDS.includes(name)) continue
    if (name === 'GITHUB_TOKEN' || name === 'GH_TOKEN') continue
    out[name] = value
  }
  if (options.exposeToken) {
    out.GITHUB_TOKEN = options.exposeToken
    out.GH_TOKEN = options.exposeToken
  }
  return { ...out, ...overrides }
}
