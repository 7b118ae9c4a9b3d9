/**
 * kugetsu's own git. Its repository is private to the run (never the agent's `.git`), its remote
 * is reached with the token handed to the one git process that needs it, through that process's
 * environment only (never a command line, which any user can read, nor a file). Every command runs
 * with the settings a planted `.git/config` could abuse (hooks, fsmonitor, redirects) pinned off.
 */
import { spawn } from 'node:child_process'
import { KugetsuError } from '../../errors.js'

export interface GitResult {
  code: number
  stdout: string
  stderr: string
}

export interface GitRunOptions {
  /** Send the token (fetches and pushes of kugetsu's repository only). */
  auth?: boolean
  /** Extra environment (GIT_INDEX_FILE, author and committer...). */
  env?: Record<string, string>
  input?: string
  /** Exit codes that are answers, not failures (merge-tree's 1: conflicts). */
  okCodes?: number[]
}

export interface Git {
  /** Runs git in kugetsu's private repository, with the workspace as its work tree. */
  run(args: string[], options?: GitRunOptions): Promise<GitResult>
  /** Runs git in the workspace's own repository; never with the token. */
  inWorkspace(args: string[], options?: Omit<GitRunOptions, 'auth'>): Promise<GitResult>
  /** The remote kugetsu fetches from and pushes to (no credentials in it). */
  remoteUrl: string
  gitDir: string
  workTree: string
}

export interface GitOptions {
  gitDir: string
  workTree: string
  remoteUrl: string
  token: string
  /** The step's environment (HOME and the runner's git settings are kept; GIT_* are not). */
  env: NodeJS.ProcessEnv
}

/** Settings every command gets, whatever the repository's own config says. */
const PINNED: [string, string][] = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.sshCommand', 'false'],
  ['credential.helper', ''],
  ['http.followRedirects', 'false'],
  ['commit.gpgSign', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['submodule.recurse', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['advice.detachedHead', 'false'],
  ['color.ui', 'false'],
  ['core.quotePath', 'false']
]

/** The header git sends for the token, as actions/checkout does. */
export function authHeader(token: string): string {
  return `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
}

function gitEnvironment(
  base: NodeJS.ProcessEnv,
  settings: [string, string][],
  extra: Record<string, string> = {}
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(base)) {
    if (!name.startsWith('GIT_') && value !== undefined) env[name] = value
  }
  env.GIT_TERMINAL_PROMPT = '0'
  env.GIT_ASKPASS = ''
  env.SSH_ASKPASS = ''
  env.GIT_CONFIG_COUNT = String(settings.length)
  settings.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key
    env[`GIT_CONFIG_VALUE_${index}`] = value
  })
  return { ...env, ...extra }
}

function runProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  input: string | undefined
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        new KugetsuError(
          'git-failed',
          error.code === 'ENOENT'
            ? 'git is not installed on this runner; install it, or set push: false'
            : `could not start git: ${error.message}`,
          { cause: error }
        )
      )
    })
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8')
      })
    )
    child.stdin.on('error', () => undefined)
    child.stdin.end(input ?? '')
  })
}

/** The last meaningful line git printed, for an error message. */
export function gitComplaint(result: GitResult): string {
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const fatal = lines.find((line) => /^(fatal|error):/.test(line))
  return (fatal ?? lines.at(-1) ?? `exit code ${result.code}`).slice(0, 300)
}

export function createGit(options: GitOptions): Git {
  const { gitDir, workTree, token } = options
  const pinned: [string, string][] = [
    ...PINNED,
    ['safe.directory', gitDir],
    ['safe.directory', workTree]
  ]
  const check = (args: string[], result: GitResult, okCodes: number[] = []): GitResult => {
    if (result.code === 0 || okCodes.includes(result.code)) return result
    throw new KugetsuError('git-failed', `git ${args[0]} failed: ${gitComplaint(result)}`)
  }
  return {
    remoteUrl: options.remoteUrl,
    gitDir,
    workTree,
    async run(args, runOptions = {}) {
      const settings = runOptions.auth
        ? [...pinned, ['http.extraheader', authHeader(token)] as [string, string]]
        : pinned
      const env = gitEnvironment(options.env, settings, {
        GIT_DIR: gitDir,
        GIT_WORK_TREE: workTree,
        ...runOptions.env
      })
      return check(
        args,
        await runProcess(args, env, workTree, runOptions.input),
        runOptions.okCodes
      )
    },
    async inWorkspace(args, runOptions = {}) {
      const env = gitEnvironment(options.env, pinned, runOptions.env)
      return check(
        args,
        await runProcess(args, env, workTree, runOptions.input),
        runOptions.okCodes
      )
    }
  }
}
