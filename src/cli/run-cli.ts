import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Engine, type PruneOutcome, type TurnOutcome } from '../engine.js'
import { KugetsuError, errorMessage, isKugetsuError } from '../errors.js'
import type { OpencodeDriver } from '../opencode/types.js'
import { formatIssueRef, parseIssueRef, type RefDefaults } from '../refs.js'
import type { BaseRecord, IssueRecord, StateStore } from '../store/types.js'

export const USAGE = `kugetsu: one persistent opencode session per GitHub issue

Usage:
  kugetsu init [--force]              create the base session every issue is forked from
  kugetsu start <ref> <message>       fork the base for an issue and send the first message
  kugetsu continue <ref> <message>    send a message to an issue's session
  kugetsu run <ref> <message>         start or continue, whichever applies
  kugetsu list                        list tracked issues
  kugetsu prune [--force]             drop records whose session export is missing or unreadable
  kugetsu destroy <ref> [-y]          forget an issue's session
  kugetsu destroy --base [-y]         forget the base session

Refs: host/owner/repo#N, owner/repo#N, #N or N (short forms use --repo or the git remote).
A message that starts with "-" goes after "--": kugetsu run 14 -- "--verbose please".

Options:
  --state-dir DIR        where state is kept (env KUGETSU_STATE_DIR,
                         default $XDG_DATA_HOME/kugetsu)
  --model PROVIDER/MODEL model opencode uses
  --agent NAME           opencode agent to use
  --repo HOST/OWNER/REPO default repository for short refs (env KUGETSU_REPO)
  --base-prompt TEXT     first message of the base session (init)
  --base-prompt-file F   read the base prompt from a file (init)
  --timeout SECONDS      stop opencode after this long
  --dry-run              prune: report without removing
  --json                 print machine-readable JSON
  -y, --yes              do not ask before destroying
  -f, --force            init: replace the base; prune: also drop records of runs in progress
  -h, --help             show this help`

export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Asks a yes/no question; absent when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>
}

export interface CliDeps {
  env: NodeJS.ProcessEnv
  cwd: string
  io: CliIO
  createStore: (dir: string) => StateStore
  createDriver: (options: { env: NodeJS.ProcessEnv; cwd: string }) => Promise<OpencodeDriver>
  /** The repository's `origin` remote URL, for short refs. */
  gitRemote?: (cwd: string) => Promise<string | undefined>
}

const COMMANDS = ['init', 'start', 'continue', 'run', 'list', 'prune', 'destroy'] as const
type Command = (typeof COMMANDS)[number]

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (env.KUGETSU_STATE_DIR) return env.KUGETSU_STATE_DIR
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share')
  return join(dataHome, 'kugetsu')
}

/** `host/owner/repo` (or `owner/repo`, host github.com) from a flag or a git remote URL. */
export function repoDefaults(value: string | undefined): RefDefaults {
  if (!value) return {}
  const trimmed = value
    .trim()
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
  const ssh = /^[^@\s]+@([^:\s]+):([^/\s]+)\/([^/\s]+)$/.exec(trimmed)
  if (ssh) return { host: ssh[1], owner: ssh[2], repo: ssh[3] }
  const withoutScheme = trimmed.replace(/^[a-z+]+:\/\/(?:[^@/]+@)?/i, '')
  const parts = withoutScheme.split('/')
  if (parts.length === 2) return { host: 'github.com', owner: parts[0], repo: parts[1] }
  if (parts.length === 3) return { host: parts[0], owner: parts[1], repo: parts[2] }
  return {}
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'state-dir': { type: 'string' },
      model: { type: 'string' },
      agent: { type: 'string' },
      repo: { type: 'string' },
      'base-prompt': { type: 'string' },
      'base-prompt-file': { type: 'string' },
      timeout: { type: 'string' },
      base: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      force: { type: 'boolean', short: 'f' },
      help: { type: 'boolean', short: 'h' }
    }
  })
}

type Parsed = ReturnType<typeof parseCommandLine>

function usageError(message: string): KugetsuError {
  return new KugetsuError('invalid-input', `${message} (see kugetsu --help)`)
}

function expectArgs(command: Command, args: string[], count: number, names: string): void {
  if (args.length < count) throw usageError(`${command} needs ${names}`)
  if (args.length > count) throw usageError(`${command} takes ${names} only; quote the message`)
}

function describeTurn(outcome: TurnOutcome): string {
  const { record, result } = outcome
  const verb = outcome.mode === 'start' ? 'started' : 'continued'
  const footer = `[${record.ref}: ${verb} ${record.sessionId}, turn ${record.turns}, ${result.tokens.input} in / ${result.tokens.output} out tokens, $${result.cost.toFixed(4)}]`
  return `${result.text}\n\n${footer}`
}

function describeList(base: BaseRecord | undefined, issues: IssueRecord[]): string {
  const lines = [
    base ? `base  ${base.sessionId}  created ${base.createdAt}` : 'base  (none; run kugetsu init)'
  ]
  if (issues.length === 0) lines.push('no issues tracked')
  for (const issue of issues) {
    const status = issue.pending
      ? `  (run began ${issue.pending.startedAt})`
      : issue.lastError
        ? `  (last run failed: ${issue.lastError})`
        : ''
    lines.push(
      `${issue.ref}  ${issue.sessionId ?? '-'}  turns ${issue.turns}  updated ${issue.updatedAt}${status}`
    )
  }
  return lines.join('\n')
}

function describePrune(outcome: PruneOutcome, dryRun: boolean): string {
  const verb = dryRun ? 'would remove' : 'removed'
  const lines = outcome.removed.map((entry) => `${verb} ${entry.ref}: ${entry.reason}`)
  lines.push(...outcome.orphanFiles.map((file) => `${verb} orphan file ${file}`))
  lines.push(...outcome.kept.map((entry) => `kept ${entry.ref}: ${entry.reason} (use --force)`))
  if (lines.length === 0) lines.push('nothing to prune')
  return lines.join('\n')
}

async function confirmOrFail(deps: CliDeps, parsed: Parsed, question: string): Promise<void> {
  if (parsed.values.yes) return
  if (!(await deps.io.confirm!(question))) throw new KugetsuError('invalid-input', 'cancelled')
}

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const seconds = Number(value)
  // Node's timers hold at most 2^31-1 ms; a longer one fires at once.
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds * 1000 > 2 ** 31 - 1) {
    throw usageError(
      `--timeout must be a number of seconds above 0 and at most 2147483, got "${value}"`
    )
  }
  return Math.round(seconds * 1000)
}

async function basePrompt(parsed: Parsed): Promise<string | undefined> {
  const { values } = parsed
  if (values['base-prompt'] !== undefined && values['base-prompt-file'] !== undefined) {
    throw usageError('give --base-prompt or --base-prompt-file, not both')
  }
  if (values['base-prompt-file'] !== undefined) {
    return readFile(values['base-prompt-file'], 'utf8').catch((error: unknown) => {
      throw new KugetsuError(
        'invalid-input',
        `cannot read --base-prompt-file: ${errorMessage(error)}`
      )
    })
  }
  return values['base-prompt']
}

/** Runs one CLI invocation; returns the process exit code. Every error is one line on stderr. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  let json = argv.includes('--json')
  try {
    const parsed = parseCommandLine(argv)
    json = parsed.values.json === true
    const [command, ...args] = parsed.positionals
    if (parsed.values.help || command === 'help') {
      deps.io.stdout(USAGE)
      return 0
    }
    if (!command) throw usageError('no command given')
    if (!COMMANDS.includes(command as Command)) throw usageError(`unknown command "${command}"`)
    const result = await execute(command as Command, args, parsed, deps)
    deps.io.stdout(json ? JSON.stringify(result.json, null, 2) : result.text)
    return 0
  } catch (error) {
    const badArguments =
      error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
    const message = badArguments
      ? `${errorMessage(error)} (see kugetsu --help)`
      : errorMessage(error)
    const code = isKugetsuError(error) ? error.code : badArguments ? 'invalid-input' : 'error'
    if (json) deps.io.stdout(JSON.stringify({ error: { code, message } }, null, 2))
    deps.io.stderr(`kugetsu: ${message}`)
    return code === 'invalid-input' || code === 'invalid-ref' ? 2 : 1
  }
}

async function execute(
  command: Command,
  args: string[],
  parsed: Parsed,
  deps: CliDeps
): Promise<{ text: string; json: unknown }> {
  const { values } = parsed
  const stateDir = values['state-dir'] ?? defaultStateDir(deps.env)
  const timeoutMs = parseTimeout(values.timeout)
  const prompt = command === 'init' ? await basePrompt(parsed) : undefined
  if (values.base && command !== 'destroy') throw usageError('--base goes with destroy')

  const resolveRef = async (input: string): Promise<string> => {
    const explicit = values.repo ?? deps.env.KUGETSU_REPO
    const fromRemote =
      explicit === undefined && !input.includes('/') ? await deps.gitRemote?.(deps.cwd) : undefined
    return formatIssueRef(
      parseIssueRef(input, { host: 'github.com', ...repoDefaults(explicit ?? fromRemote) })
    )
  }

  // Validate everything the user typed before anything is started or written.
  let ref: string | undefined
  let message: string | undefined
  switch (command) {
    case 'start':
    case 'continue':
    case 'run':
      expectArgs(command, args, 2, '<ref> <message>')
      ref = await resolveRef(args[0])
      message = args[1]
      if (message.trim() === '') throw usageError('the message is empty')
      break
    case 'destroy':
      if (!values.yes && !deps.io.confirm) {
        throw usageError('refusing to destroy without confirmation; pass -y')
      }
      if (values.base) expectArgs(command, args, 0, '--base')
      else expectArgs(command, args, 1, '<ref>')
      if (!values.base) ref = await resolveRef(args[0])
      break
    default:
      expectArgs(command, args, 0, 'no arguments')
  }

  const store = deps.createStore(stateDir)
  const driver = lazyDriver(() => deps.createDriver({ env: deps.env, cwd: deps.cwd }))
  const engine = new Engine({
    store,
    driver,
    cwd: deps.cwd,
    model: values.model,
    agent: values.agent,
    basePrompt: prompt,
    timeoutMs
  })

  switch (command) {
    case 'init': {
      const outcome = await engine.init({ force: values.force })
      const text = `${outcome.replaced ? 'replaced' : 'created'} base session ${outcome.base.sessionId}`
      return { text, json: { base: outcome.base, replaced: outcome.replaced ?? null } }
    }
    case 'start':
    case 'continue':
    case 'run': {
      const outcome = await engine[command](ref!, message!)
      return { text: describeTurn(outcome), json: turnJson(outcome) }
    }
    case 'list': {
      const { base, issues } = await engine.list()
      return { text: describeList(base, issues), json: { base: base ?? null, issues } }
    }
    case 'prune': {
      const outcome = await engine.prune({ force: values.force, dryRun: values['dry-run'] })
      return { text: describePrune(outcome, values['dry-run'] === true), json: outcome }
    }
    case 'destroy': {
      if (values.base) {
        const base = await store.getBase()
        if (!base) throw new KugetsuError('no-base', 'there is no base session')
        await confirmOrFail(deps, parsed, `Destroy the base session ${base.sessionId}?`)
        const destroyed = await engine.destroyBase()
        return {
          text: `destroyed base session ${destroyed.sessionId}`,
          json: { destroyed: { base: destroyed } }
        }
      }
      const record = await store.getIssue(ref!)
      if (!record) throw new KugetsuError('not-found', `${ref} is not tracked`)
      await confirmOrFail(deps, parsed, `Destroy the session of ${ref}?`)
      const destroyed = await engine.destroy(ref!)
      return { text: `destroyed ${destroyed.ref}`, json: { destroyed: { issue: destroyed } } }
    }
  }
}

function turnJson(outcome: TurnOutcome) {
  const { record, result } = outcome
  return {
    mode: outcome.mode,
    ref: record.ref,
    sessionId: record.sessionId,
    baseSessionId: record.baseSessionId,
    turns: record.turns,
    response: result.text,
    tokens: result.tokens,
    cost: result.cost,
    toolCalls: result.toolCalls,
    permissionRejections: result.permissionRejections,
    durationMs: result.durationMs
  }
}

/** Finds (or installs) opencode only when a command first needs it. */
function lazyDriver(create: () => Promise<OpencodeDriver>): OpencodeDriver {
  let driver: Promise<OpencodeDriver> | undefined
  const get = () => (driver ??= create())
  return {
    run: async (request) => (await get()).run(request),
    exportSession: async (id, cwd) => (await get()).exportSession(id, cwd),
    importSession: async (text, cwd) => (await get()).importSession(text, cwd),
    deleteSession: async (id, cwd) => (await get()).deleteSession?.(id, cwd)
  }
}
