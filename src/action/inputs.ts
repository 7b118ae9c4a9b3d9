import { KugetsuError } from '../errors.js'
import { OPENCODE_VERSION } from '../opencode/version.js'
import { MIN_STATE_KEY_LENGTH } from '../store/crypto.js'
import { detectForge } from './github/forge.js'
import { parseLoginList, parseMinPermission, type Permission } from './github/authorize.js'
import { validateStatePrefix } from './cache/cache-state.js'
import type { SandboxMode } from '../sandbox/sandbox.js'
import { validateBranchPrefix } from './work/target.js'

/** Everything action.yml declares, read and checked once. */
export interface ActionInputs {
  githubToken: string
  trigger: string
  message: string
  issueRef: string
  command: string
  model: string
  agent: string
  basePrompt: string
  opencodeVersion: string
  statePrefix: string
  comment: boolean
  /** Edit the tracking comment with the agent's steps while the turn runs. */
  progress: boolean
  workingDirectory: string
  opencodeConfig: Record<string, unknown> | undefined
  timeoutMs: number | undefined
  minPermission: Permission
  allowedUsers: string[]
  allowedBots: string[]
  /** Secret that encrypts every cached entry; empty means entries are stored in the clear. */
  stateKey: string
  /** Give the agent github-token as GITHUB_TOKEN and GH_TOKEN. */
  exposeGithubToken: boolean
  /** Drive opencode through one `opencode serve` per run instead of a process per command. */
  opencodeServe: boolean
  /** `user`: opencode runs as an OS user made for the run; `off`: as the runner's user. */
  sandbox: SandboxMode
  /** Work on the issue's branch and push what the agent changed; false: read-only. */
  push: boolean
  branchPrefix: string
  pullRequest: PullRequestMode
  /** destroy also deletes the issue's branch when its pull request was merged or closed. */
  deleteBranch: boolean
  /** Most an issue may spend, in USD as opencode reports cost; undefined: no ceiling. */
  maxCostPerIssue: number | undefined
  /** Most turns an issue may have; undefined: no ceiling. */
  maxTurnsPerIssue: number | undefined
}

export type PullRequestMode = 'draft' | 'ready' | 'none'

function parsePullRequest(value: string): PullRequestMode {
  const mode = value.toLowerCase() || 'draft'
  if (mode === 'draft' || mode === 'ready' || mode === 'none') return mode
  throw new KugetsuError(
    'invalid-input',
    `pull-request must be draft, ready or none; got "${value.slice(0, 40)}"`
  )
}

/** How the runner passes an input: `INPUT_` and the name upper-cased, spaces as `_`. */
export function inputFromEnv(env: NodeJS.ProcessEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
}

function parseBoolean(name: string, value: string, fallback: boolean): boolean {
  if (value === '') return fallback
  if (/^(true|yes|on|1)$/i.test(value)) return true
  if (/^(false|no|off|0)$/i.test(value)) return false
  throw new KugetsuError(
    'invalid-input',
    `${name} must be true or false; got "${value.slice(0, 40)}"`
  )
}

function parseJsonObject(name: string, value: string): Record<string, unknown> | undefined {
  if (value === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new KugetsuError(
      'invalid-input',
      `${name} is not valid JSON: ${(error as Error).message}`
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KugetsuError('invalid-input', `${name} must be a JSON object`)
  }
  return parsed as Record<string, unknown>
}

/** Node's timers hold at most 2^31-1 ms; a longer one fires at once, failing every run. */
export const MAX_TIMEOUT_MINUTES = Math.floor((2 ** 31 - 1) / 60_000)

function parseTimeout(value: string): number | undefined {
  if (value === '') return undefined
  const minutes = Number(value)
  const ms = Math.round(minutes * 60_000)
  if (!Number.isFinite(minutes) || ms < 1 || minutes > MAX_TIMEOUT_MINUTES) {
    throw new KugetsuError(
      'invalid-input',
      `timeout-minutes must be a number of minutes above 0 and at most ${MAX_TIMEOUT_MINUTES} (about 24 days, the longest timer Node keeps); got "${value.slice(0, 40)}"`
    )
  }
  return ms
}

function parseMaxCost(value: string): number | undefined {
  if (value === '') return undefined
  const cost = Number(value.replace(/^\$/, ''))
  if (!/^\$?\d+(?:\.\d+)?$/.test(value) || !Number.isFinite(cost)) {
    throw new KugetsuError(
      'invalid-input',
      `max-cost-per-issue must be an amount in USD such as 5 or 0.50, or empty for no ceiling; got "${value.slice(0, 40)}"`
    )
  }
  return cost
}

function parseMaxTurns(value: string): number | undefined {
  if (value === '') return undefined
  const turns = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(turns)) {
    throw new KugetsuError(
      'invalid-input',
      `max-turns-per-issue must be a whole number of turns (0 or more), or empty for no ceiling; got "${value.slice(0, 40)}"`
    )
  }
  return turns
}

function parseModel(value: string): string {
  if (value !== '' && !/^[^/\s]+\/\S+$/.test(value)) {
    throw new KugetsuError(
      'invalid-input',
      `model must look like provider/model; got "${value.slice(0, 80)}"`
    )
  }
  return value
}

function parseStateKey(value: string): string {
  if (value !== '' && value.length < MIN_STATE_KEY_LENGTH) {
    throw new KugetsuError(
      'invalid-input',
      `state-key must be at least ${MIN_STATE_KEY_LENGTH} characters (it is ${value.length}); generate one with: openssl rand -base64 32`
    )
  }
  return value
}

function parseSandbox(value: string): SandboxMode {
  const mode = value.toLowerCase() || 'user'
  if (mode === 'user' || mode === 'off') return mode
  throw new KugetsuError(
    'invalid-input',
    `sandbox must be user or off; got "${value.slice(0, 40)}"`
  )
}

export function readInputs(env: NodeJS.ProcessEnv): ActionInputs {
  const input = (name: string) => inputFromEnv(env, name)
  const opencodeVersion = input('opencode-version') || OPENCODE_VERSION
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(opencodeVersion)) {
    throw new KugetsuError(
      'invalid-input',
      `opencode-version must be an exact version such as ${OPENCODE_VERSION}; got "${opencodeVersion.slice(0, 40)}"`
    )
  }
  // Logins in the lists follow the forge's rules (`jane.doe` is a Gitea/Forgejo login).
  const forge = detectForge(env)
  return {
    githubToken: input('github-token'),
    trigger: input('trigger') || '/kugetsu',
    message: input('message'),
    issueRef: input('issue-ref'),
    command: input('command') || 'run',
    model: parseModel(input('model')),
    agent: input('agent'),
    basePrompt: input('base-prompt'),
    opencodeVersion,
    statePrefix: validateStatePrefix(input('state-prefix') || 'kugetsu-v1'),
    comment: parseBoolean('comment', input('comment'), true),
    progress: parseBoolean('progress', input('progress'), true),
    workingDirectory: input('working-directory'),
    opencodeConfig: parseJsonObject('opencode-config', input('opencode-config')),
    timeoutMs: parseTimeout(input('timeout-minutes')),
    minPermission: parseMinPermission(input('min-permission')),
    allowedUsers: parseLoginList(input('allowed-users'), 'allowed-users', forge),
    allowedBots: parseLoginList(input('allowed-bots'), 'allowed-bots', forge),
    stateKey: parseStateKey(input('state-key')),
    exposeGithubToken: parseBoolean('expose-github-token', input('expose-github-token'), false),
    opencodeServe: parseBoolean('opencode-serve', input('opencode-serve'), true),
    sandbox: parseSandbox(input('sandbox')),
    push: parseBoolean('push', input('push'), true),
    branchPrefix: validateBranchPrefix(inputFromEnv(env, 'branch-prefix') || 'kugetsu/'),
    pullRequest: parsePullRequest(input('pull-request')),
    deleteBranch: parseBoolean('delete-branch', input('delete-branch'), false),
    maxCostPerIssue: parseMaxCost(input('max-cost-per-issue')),
    maxTurnsPerIssue: parseMaxTurns(input('max-turns-per-issue'))
  }
}
