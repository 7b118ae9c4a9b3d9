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

function parseTimeout(value: string): number | undefined {
  if (value === '' || value === '0') return undefined
  const minutes = Number(value)
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new KugetsuError(
      'invalid-input',
      `timeout-minutes must be a positive number of minutes; got "${value.slice(0, 40)}"`
    )
  }
  return Math.round(minutes * 60_000)
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
    deleteBranch: parseBoolean('delete-branch', input('delete-branch'), false)
  }
}
