/**
 * Runs a JavaScript action entry point (by default the bundled `dist/index.js`) as a child
 * process the way the GitHub Actions runner does for a `runs.using: node24` action:
 *
 * - inputs as `INPUT_<NAME>` (name uppercased, spaces → `_`, hyphens kept);
 * - the event payload in a JSON file named by GITHUB_EVENT_PATH;
 * - file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY) in
 *   fresh files under `$RUNNER_TEMP/_runner_file_commands`, parsed after the step (`name=value`
 *   and `name<<DELIMITER` heredoc forms, as the runner parses them);
 * - the runner's default GITHUB_* and RUNNER_* variables;
 * - a job directory laid out like a hosted runner's (`home/`, `work/<repo>/<repo>` as the
 *   workspace and cwd, `work/_temp` as RUNNER_TEMP, `tool-cache/`), fresh for every job, so nothing
 *   but the cache service persists between runs. Keeping the layout fixed matters: @actions/cache
 *   stores paths relative to GITHUB_WORKSPACE, so `~/...` is archived as `../../../home/...`.
 *
 * The child's environment is built from scratch (PATH and locale are passed through, nothing
 * else from the test process, notably not jest's NODE_OPTIONS) plus the caller's `env`.
 *
 * `runPost(main)` runs the `post:` entry in the same job directory with the main step's saved
 * state as `STATE_<name>` and the variables it exported through GITHUB_ENV, like the runner does.
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A job's directories. Reuse one across `runAction` calls to run several steps of one job. */
export interface JobDirs {
  root: string
  home: string
  workspace: string
  temp: string
  toolCache: string
  /** Stable jobs share their absolute paths with later jobs; this tells which job owns them. */
  generation: number
  isolated: boolean
}

export interface CreateJobOptions {
  /**
   * Give the job unique paths (a new temp root) instead of the stable per-process root. Stable
   * paths are the default because a hosted runner's HOME and workspace are always the same
   * (/home/runner, /home/runner/work/<repo>/<repo>), and @actions/cache's version hash includes
   * the cache paths exactly as passed: absolute paths under a per-job random HOME would never
   * restore. Use isolated jobs only for steps that must run concurrently.
   */
  isolate?: boolean
}

export interface ActionEvent {
  name: string
  payload: Record<string, unknown>
}

export interface RunActionOptions {
  /** Entry script, relative to the repository root or absolute. Default `dist/index.js`. */
  entry?: string
  /** Action inputs by their action.yml names. */
  inputs?: Record<string, string>
  /** Defaults for inputs not given (the runner fills them from action.yml). */
  inputDefaults?: Record<string, string>
  event?: ActionEvent
  /** Extra environment (cache service env, model credentials...). `undefined` removes a variable. */
  env?: Record<string, string | undefined>
  /** Reuse a job's directories (steps of the same job). Default: a fresh job. */
  job?: JobDirs
  /** Working directory of the process. Default: the workspace, as on a runner. */
  cwd?: string
  /** `owner/repo`. Default `octo-org/octo-repo`. */
  repo?: string
  serverUrl?: string
  apiUrl?: string
  graphqlUrl?: string
  runId?: number | string
  runNumber?: number | string
  runAttempt?: number | string
  actor?: string
  sha?: string
  ref?: string
  workflow?: string
  /** GITHUB_JOB. Default `agent`. */
  jobName?: string
  /** STATE_<name> values (what the runner passes to a post step). */
  state?: Record<string, string>
  /** Sets RUNNER_DEBUG=1 so core.debug lines are printed. */
  debug?: boolean
  /**
   * Set XDG_CONFIG_HOME/XDG_DATA_HOME/XDG_CACHE_HOME/XDG_STATE_HOME to their default locations
   * under the fresh HOME. Hosted runners leave them unset; pass false to do the same. Default true.
   */
  xdg?: boolean
  /** Kill the step (its whole process group) after this long. Default 120 s. */
  timeoutMs?: number
  /**
   * The signal that ends a step past `timeoutMs` (SIGKILL follows 5 s later). Default SIGTERM, as
   * the runner sends; SIGKILL is a step killed outright, with no chance to clean up.
   */
  killSignal?: NodeJS.Signals
  /** Node binary. Default: the one running the tests. */
  node?: string
  /**
   * Run the step as this user (the tests run as root), like a runner whose user is not root: the
   * job's directories become that user's.
   */
  user?: { uid: number; gid: number }
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug'
  message: string
  properties: Record<string, string>
}

export interface ActionResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** True when the step outlived `timeoutMs` and was killed. */
  timedOut: boolean
  /** True when processes the step started were still running after it exited (they are killed). */
  orphansKilled: boolean
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  /** Variables exported through GITHUB_ENV. */
  exportedEnv: Record<string, string>
  /** Directories added through GITHUB_PATH. */
  addedPath: string[]
  summary: string
  /** `::error::` etc. workflow commands found on stdout. */
  annotations: Annotation[]
  /** Values registered with `::add-mask::`. */
  masks: string[]
  /** Problems parsing the file commands (the runner would fail the step). */
  fileCommandErrors: string[]
  durationMs: number
  job: JobDirs
  /** The options the step ran with, for runPost. */
  options: RunActionOptions
  /** The environment the child got. */
  env: Record<string, string>
}

const createdRoots = new Set<string>()
let stableBase: string | undefined
let stableGeneration = 0
let activeStableRuns = 0

/**
 * Creates a fresh job directory tree shaped like a hosted runner's. By default it reuses (after
 * wiping) the same absolute paths as the previous stable job, like a new VM with the same layout;
 * a job whose paths were recycled can no longer be run in.
 */
export function createJob(repo = 'octo-org/octo-repo', options: CreateJobOptions = {}): JobDirs {
  let root: string
  if (options.isolate) {
    root = mkdtempSync(join(tmpdir(), 'kugetsu-job-'))
    createdRoots.add(root)
  } else {
    if (activeStableRuns > 0) {
      throw new Error(
        'a step is still running in the stable job directory; use createJob(repo, { isolate: true }) for concurrent jobs'
      )
    }
    stableBase ??= mkdtempSync(join(tmpdir(), 'kugetsu-runner-'))
    createdRoots.add(stableBase)
    root = join(stableBase, 'runner')
    rmSync(root, { recursive: true, force: true })
    stableGeneration += 1
  }
  const name = repo.split('/')[1] ?? 'repo'
  const job: JobDirs = {
    root,
    home: join(root, 'home'),
    workspace: join(root, 'work', name, name),
    temp: join(root, 'work', '_temp'),
    toolCache: join(root, 'tool-cache'),
    generation: options.isolate ? 0 : stableGeneration,
    isolated: options.isolate ?? false
  }
  for (const dir of [job.home, job.workspace, job.temp, job.toolCache])
    mkdirSync(dir, { recursive: true })
  return job
}

/** Removes every job directory created so far (call from afterAll). */
export function cleanupJobs(): void {
  for (const root of createdRoots) rmSync(root, { recursive: true, force: true })
  createdRoots.clear()
  stableBase = undefined
}

/** The runner's input variable name: `INPUT_` + name uppercased with spaces as `_`. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export async function runAction(options: RunActionOptions = {}): Promise<ActionResult> {
  const repo = options.repo ?? 'octo-org/octo-repo'
  const [owner] = repo.split('/')
  const job = options.job ?? createJob(repo)
  if (!job.isolated && job.generation !== stableGeneration) {
    throw new Error("this job's directories were recycled by a later createJob/runAction")
  }
  const entry = isAbsolute(options.entry ?? '')
    ? (options.entry as string)
    : join(REPO_ROOT, options.entry ?? 'dist/index.js')
  if (!existsSync(entry))
    throw new Error(`action entry ${entry} does not exist (run npm run package?)`)

  const commands = join(job.temp, '_runner_file_commands')
  mkdirSync(commands, { recursive: true })
  const id = randomUUID()
  const files = {
    output: join(commands, `set_output_${id}`),
    state: join(commands, `save_state_${id}`),
    env: join(commands, `set_env_${id}`),
    path: join(commands, `add_path_${id}`),
    summary: join(commands, `step_summary_${id}`)
  }
  for (const file of Object.values(files)) writeFileSync(file, '')
  const eventDir = join(job.temp, '_github_workflow')
  mkdirSync(eventDir, { recursive: true })
  const eventPath = join(eventDir, 'event.json')
  const event = options.event ?? { name: 'workflow_dispatch', payload: {} }
  writeFileSync(eventPath, JSON.stringify(event.payload, null, 2))

  const ref = options.ref ?? 'refs/heads/main'
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: job.home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: '__kugetsu',
    GITHUB_ACTION_REPOSITORY: '',
    GITHUB_ACTION_REF: '',
    GITHUB_ACTOR: options.actor ?? owner,
    GITHUB_ACTOR_ID: '1',
    GITHUB_TRIGGERING_ACTOR: options.actor ?? owner,
    GITHUB_API_URL: options.apiUrl ?? 'https://api.github.com',
    GITHUB_GRAPHQL_URL:
      options.graphqlUrl ?? `${options.apiUrl ?? 'https://api.github.com'}/graphql`,
    GITHUB_SERVER_URL: options.serverUrl ?? 'https://github.com',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_JOB: options.jobName ?? 'agent',
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_REF_PROTECTED: 'false',
    GITHUB_REPOSITORY: repo,
    GITHUB_REPOSITORY_ID: '123456789',
    GITHUB_REPOSITORY_OWNER: owner,
    GITHUB_REPOSITORY_OWNER_ID: '1',
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_RUN_ID: String(options.runId ?? 1000001),
    GITHUB_RUN_NUMBER: String(options.runNumber ?? 1),
    GITHUB_RUN_ATTEMPT: String(options.runAttempt ?? 1),
    GITHUB_SHA: options.sha ?? 'ffac537e6cbbf934b08745a378932722df287a53',
    GITHUB_WORKFLOW: options.workflow ?? 'kugetsu',
    GITHUB_WORKFLOW_REF: `${repo}/.github/workflows/kugetsu.yml@${ref}`,
    GITHUB_WORKSPACE: job.workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: job.temp,
    RUNNER_TOOL_CACHE: job.toolCache,
    RUNNER_WORKSPACE: dirname(job.workspace),
    AGENT_TOOLSDIRECTORY: job.toolCache,
    ImageOS: 'ubuntu24'
  }
  if (options.xdg ?? true) {
    Object.assign(env, {
      XDG_CONFIG_HOME: join(job.home, '.config'),
      XDG_DATA_HOME: join(job.home, '.local', 'share'),
      XDG_CACHE_HOME: join(job.home, '.cache'),
      XDG_STATE_HOME: join(job.home, '.local', 'state')
    })
  }
  if (options.debug) env.RUNNER_DEBUG = '1'
  for (const [name, value] of Object.entries({ ...options.inputDefaults, ...options.inputs })) {
    env[inputEnvName(name)] = value
  }
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }

  if (options.user) {
    execFileSync('chown', ['-R', `${options.user.uid}:${options.user.gid}`, job.root])
  }
  const started = Date.now()
  if (!job.isolated) activeStableRuns += 1
  let step: StepProcess
  try {
    step = await runStep(
      options.node ?? process.execPath,
      entry,
      options.cwd ?? job.workspace,
      env,
      options.timeoutMs ?? 120_000,
      options.user,
      options.killSignal ?? 'SIGTERM'
    )
  } finally {
    if (!job.isolated) activeStableRuns -= 1
  }
  const { exitCode, signal, timedOut, orphansKilled, stdout, stderr } = step
  const durationMs = Date.now() - started

  const fileCommandErrors: string[] = []
  const parse = (file: string, kind: string): Record<string, string> => {
    try {
      return parseKeyValueFile(readFileSync(file, 'utf8'))
    } catch (error) {
      fileCommandErrors.push(`${kind}: ${(error as Error).message}`)
      return {}
    }
  }
  const { annotations, masks } = parseWorkflowCommands(stdout)
  return {
    exitCode,
    signal,
    timedOut,
    orphansKilled,
    stdout,
    stderr,
    outputs: parse(files.output, 'GITHUB_OUTPUT'),
    state: parse(files.state, 'GITHUB_STATE'),
    exportedEnv: parse(files.env, 'GITHUB_ENV'),
    addedPath: readFileSync(files.path, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== ''),
    summary: readFileSync(files.summary, 'utf8'),
    annotations,
    masks,
    fileCommandErrors,
    durationMs,
    job,
    options,
    env
  }
}

interface StepProcess {
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  orphansKilled: boolean
  stdout: string
  stderr: string
}

/** Spawns the step in its own process group and waits for it to exit (or kills it at the limit). */
function runStep(
  node: string,
  entry: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  user: { uid: number; gid: number } | undefined,
  killSignal: NodeJS.Signals
): Promise<StepProcess> {
  return new Promise<StepProcess>((resolvePromise, reject) => {
    const child = spawn(node, [entry], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...user
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const killGroup = (signal: NodeJS.Signals): boolean => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal)
        return true
      } catch {
        return false
      }
    }
    let timedOut = false
    let orphansKilled = false
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let escalation: NodeJS.Timeout | undefined
    let drain: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(killSignal)
      escalation = setTimeout(() => killGroup('SIGKILL'), 5_000)
    }, timeoutMs)
    const finish = (): void => {
      clearTimeout(timer)
      clearTimeout(escalation)
      clearTimeout(drain)
      if (!exit) return
      resolvePromise({
        exitCode: exit.code,
        signal: exit.signal,
        timedOut,
        orphansKilled,
        stdout,
        stderr
      })
    }
    child.once('error', (error) => {
      clearTimeout(timer)
      clearTimeout(escalation)
      reject(error)
    })
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      // What the step left running would hold our pipes and outlive it; the runner kills orphans
      // at the end of the job, we do it at the end of the step.
      if (killGroup('SIGKILL')) orphansKilled = !timedOut
      // Output still buffered in the pipes arrives before 'close'; a process that escaped the
      // group could hold them open forever, so stop waiting after a bound.
      drain = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        finish()
      }, 5_000)
    })
    child.once('close', finish)
  })
}

/**
 * Runs the post step of the job `main` ran in: same directories, inputs and event, the saved
 * state as STATE_<name>, and what main exported through GITHUB_ENV / GITHUB_PATH.
 */
export function runPost(
  main: ActionResult,
  overrides: RunActionOptions = {}
): Promise<ActionResult> {
  const addedPath = main.addedPath.length > 0 ? [...main.addedPath].reverse().join(':') : undefined
  return runAction({
    ...main.options,
    ...overrides,
    job: main.job,
    state: { ...main.state, ...overrides.state },
    env: {
      ...main.options.env,
      ...main.exportedEnv,
      ...(addedPath ? { PATH: `${addedPath}:${main.env.PATH}` } : {}),
      ...overrides.env
    }
  })
}

/**
 * Parses a GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV file like the runner: `name=value` lines,
 * and `name<<DELIMITER` ... `DELIMITER` blocks (whichever of `=` and `<<` comes first wins).
 * Throws on a missing delimiter or an empty name.
 */
export function parseKeyValueFile(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const eq = line.indexOf('=')
    const heredoc = line.indexOf('<<')
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const name = line.slice(0, eq)
      if (name === '') throw new Error(`invalid format '${line}': name must not be empty`)
      result[name] = line.slice(eq + 1)
      continue
    }
    if (heredoc >= 0) {
      const name = line.slice(0, heredoc)
      const delimiter = line.slice(heredoc + 2)
      if (name === '' || delimiter === '') throw new Error(`invalid format '${line}'`)
      const value: string[] = []
      let closed = false
      for (i += 1; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true
          break
        }
        value.push(lines[i])
      }
      if (!closed) throw new Error(`matching delimiter not found '${delimiter}'`)
      result[name] = value.join('\n')
      continue
    }
    throw new Error(`invalid format '${line}'`)
  }
  return result
}

/** Extracts `::error ...::msg`-style annotations and `::add-mask::` values from a step's stdout. */
export function parseWorkflowCommands(stdout: string): {
  annotations: Annotation[]
  masks: string[]
} {
  const annotations: Annotation[] = []
  const masks: string[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::(error|warning|notice|debug|add-mask)( [^:]*)?::(.*)$/.exec(line)
    if (!match) continue
    const message = unescapeData(match[3])
    if (match[1] === 'add-mask') {
      masks.push(message)
      continue
    }
    const properties: Record<string, string> = {}
    for (const pair of (match[2] ?? '').trim().split(',')) {
      const eq = pair.indexOf('=')
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1))
    }
    annotations.push({ level: match[1] as Annotation['level'], message, properties })
  }
  return { annotations, masks }
}

function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

function unescapeProperty(value: string): string {
  return unescapeData(value).replace(/%3A/g, ':').replace(/%2C/g, ',')
}
