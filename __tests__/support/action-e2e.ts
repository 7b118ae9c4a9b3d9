/**
 * Pieces for running the bundled kugetsu action end to end, the way a runner would, against the
 * loopback stand-ins and the real opencode binary:
 *
 * - `actionInputDefaults`: the inputs a runner fills in from action.yml (parsed with GitHub's own
 *   action parser, `${{ github.token }}` evaluated), so tests never duplicate the defaults;
 * - `createOpencodeShim`: an `opencode` first on PATH that logs every start, then runs the real
 *   binary, so a test can count (and tell apart) the opencode processes a run starts;
 * - `issueCommentEvent` / `dispatchEvent`: webhook payloads shaped like GitHub's, built from the
 *   GitHub stand-in's state;
 * - `createKugetsuWorld`: one "GitHub" (REST stand-in + Actions cache stand-in over one store)
 *   whose `run` launches dist/index.js in a fresh job and reports what that run did: its outputs,
 *   and the model, cache and REST requests, opencode starts, cache entries and comments it made;
 *   with `forge: 'gitea' | 'forgejo'`, the forge is the Gitea stand-in (gitea-api.ts) and the
 *   cache speaks v1 with lowercased keys, as on those forges;
 * - `checkoutWorkspace`: a job's workspace as `actions/checkout@v4` with `persist-credentials:
 *   false` leaves it, cloned over HTTP from the GitHub stand-in's git remote (worlds with `git`);
 * - `createOpencodeRig`: the scripted model, opencode's offline environment and the shim that a
 *   suite's worlds share; `createTestBed`: a rig and one world;
 * - `issueMaker`: numbered issues and comments on them as events;
 * - `expectSuccess` / `errorsOf`: what every suite asks of a run.
 */
import { NoOperationTraceWriter, isBasicExpression, isString } from '@actions/workflow-parser'
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index'
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import {
  REPO_ROOT,
  createJob,
  runAction,
  type ActionEvent,
  type ActionResult,
  type JobDirs,
  type RunActionOptions
} from './action-runner.js'
import {
  startCacheServer,
  type CacheEntry,
  type CacheProtocol,
  type CacheRequest,
  type CacheServer
} from './cache-server.js'
import {
  startGitHubApi,
  type Comment,
  type GitHubApi,
  type GitHubRequest,
  type Issue
} from './github-api.js'
import { run as runGit, type GitContent } from './git-remote.js'
import { startGiteaApi, type GiteaApi, type GiteaForge } from './gitea-api.js'
import {
  startModelServer,
  type ModelServer,
  type RecordedRequest,
  type Script
} from './model-server.js'
import { createOpencodeEnv } from './opencode-env.js'

// ---------------------------------------------------------------------------------------------
// action.yml

export interface ActionDefinition {
  inputs: { id: string; default?: string; expression?: string }[]
  outputs: string[]
  main: string
}

/** action.yml as GitHub's parser reads it; throws on any schema error. */
export function readActionDefinition(path = join(REPO_ROOT, 'action.yml')): ActionDefinition {
  const parsed = parseAction(
    { name: 'action.yml', content: readFileSync(path, 'utf8') },
    new NoOperationTraceWriter()
  )
  const errors = parsed.context.errors.getErrors()
  if (errors.length > 0 || !parsed.value) {
    throw new Error(`action.yml is invalid: ${errors.map((e) => e.message).join('; ')}`)
  }
  const template = convertActionTemplate(parsed.context, parsed.value)
  if (!('main' in template.runs)) throw new Error('action.yml does not run a node entry point')
  return {
    inputs: (template.inputs ?? []).map((input) => {
      const token = input.default
      if (token === undefined) return { id: input.id }
      if (isString(token)) return { id: input.id, default: token.value }
      if (isBasicExpression(token)) return { id: input.id, expression: token.expression.trim() }
      throw new Error(`input ${input.id}: unsupported default ${token.toDisplayString()}`)
    }),
    outputs: (template.outputs ?? []).map((output) => output.id),
    main: template.runs.main
  }
}

/**
 * The value a runner gives every input that the workflow does not set: action.yml's default,
 * with `${{ github.token }}` evaluated to `context.githubToken`. Inputs without a default get ''.
 */
export function actionInputDefaults(
  context: { githubToken: string },
  definition = readActionDefinition()
): Record<string, string> {
  const values: Record<string, string> = {}
  for (const input of definition.inputs) {
    if (input.expression === undefined) {
      values[input.id] = input.default ?? ''
    } else if (input.expression === 'github.token' || input.expression === 'secrets.GITHUB_TOKEN') {
      values[input.id] = context.githubToken
    } else {
      throw new Error(`input ${input.id}: cannot evaluate \${{ ${input.expression} }}`)
    }
  }
  return values
}

// ---------------------------------------------------------------------------------------------
// The opencode shim

/** Env var naming the file the shim appends its log lines to (one file per run). */
export const SHIM_LOG_ENV = 'KUGETSU_E2E_OPENCODE_LOG'
/** Env var naming an opencode command (`run`, `export`...) the shim crashes on (SIGSEGV). */
export const SHIM_CRASH_ENV = 'KUGETSU_E2E_OPENCODE_CRASH'

export interface OpencodeStart {
  /** When it started (ms since the epoch). */
  at: number
  /** `--version`, `run`, `export`, `import`, `session`... */
  command: string
  /** For `run`: continued a session (`--session=`), and forked it (`--fork`). */
  session: boolean
  fork: boolean
  /** The directory it was started in, and `$PWD` as it got it (opencode goes by `$PWD`). */
  cwd: string
  pwd: string | undefined
}

export interface OpencodeShim {
  /** Directory holding the shim; put it first on PATH. */
  dir: string
  /** The real binary the shim runs. */
  real: string
  /** The starts logged to `logFile` (none when the file was never written). */
  starts(logFile: string): OpencodeStart[]
}

/** The real opencode of node_modules (what `npm install` put in node_modules/.bin). */
export function realOpencodeBinary(): string {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'opencode')
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm install`)
  return realpathSync(bin)
}

/**
 * Makes the shim: a node script (a shell script would reset `$PWD` to its cwd on start, hiding
 * what opencode would have been given) that logs the start, then runs the real binary with the
 * same arguments, environment and stdio, and exits as it exits. It stays in the process group of
 * the process that started it, so a signal to that group reaches opencode too.
 */
export async function createOpencodeShim(parent: string): Promise<OpencodeShim> {
  const dir = join(parent, 'shim-bin')
  await mkdir(dir, { recursive: true })
  const real = realOpencodeBinary()
  const script = `#!${process.execPath}
'use strict'
const { spawn } = require('node:child_process')
const { appendFileSync } = require('node:fs')
const args = process.argv.slice(2)
const log = process.env[${JSON.stringify(SHIM_LOG_ENV)}]
if (log) {
  const flags = args.filter((arg) => arg === '--fork' || arg.startsWith('--session='))
  const entry = { at: Date.now(), command: args[0] ?? '', flags, cwd: process.cwd(), pwd: process.env.PWD }
  appendFileSync(log, JSON.stringify(entry) + '\\n')
}
if (args[0] && process.env[${JSON.stringify(SHIM_CRASH_ENV)}] === args[0]) {
  process.stderr.write('Segmentation fault (simulated by the test shim)\\n')
  process.kill(process.pid, 'SIGSEGV')
  process.exit(139)
}
const child = spawn(${JSON.stringify(real)}, args, { stdio: 'inherit' })
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal))
}
child.on('error', (error) => {
  process.stderr.write(String(error) + '\\n')
  process.exit(127)
})
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  } else {
    process.exit(code ?? 1)
  }
})
`
  const path = join(dir, 'opencode')
  await writeFile(path, script)
  await chmod(path, 0o755)
  return {
    dir,
    real,
    starts(logFile) {
      if (!existsSync(logFile)) return []
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const entry = JSON.parse(line) as {
            at: number
            command: string
            flags: string[]
            cwd: string
            pwd?: string
          }
          return {
            at: entry.at,
            command: entry.command,
            session: entry.flags.some((flag) => flag.startsWith('--session=')),
            fork: entry.flags.includes('--fork'),
            cwd: entry.cwd,
            pwd: entry.pwd
          }
        })
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Event payloads

export interface EventContext {
  repo: string
  serverUrl: string
  /** The repository's visibility as payloads carry it (default public). */
  private?: boolean
  /** The default branch as payloads carry it (`repository.default_branch`, default main). */
  defaultBranch?: string
  /** GITHUB_API_URL, for the API links payloads carry (default https://api.github.com). */
  apiUrl?: string
}

function userPayload(login: string) {
  return { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' }
}

function repositoryPayload(context: EventContext) {
  const [owner, name] = context.repo.split('/')
  return {
    name,
    full_name: context.repo,
    owner: userPayload(owner),
    html_url: `${context.serverUrl}/${context.repo}`,
    private: context.private ?? false,
    visibility: context.private ? 'private' : 'public',
    default_branch: context.defaultBranch ?? 'main'
  }
}

export function issuePayload(context: EventContext, issue: Issue) {
  const html = `${context.serverUrl}/${context.repo}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`
  const api = context.apiUrl ?? 'https://api.github.com'
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body,
    html_url: html,
    user: userPayload(issue.user),
    state: issue.state,
    // A comment on a pull request comes as an issue_comment whose issue names the pull request.
    ...(issue.isPullRequest
      ? {
          pull_request: {
            url: `${api}/repos/${context.repo}/pulls/${issue.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: null
          }
        }
      : {})
  }
}

/** `issue_comment` for a comment (of the GitHub stand-in) on an issue. */
export function issueCommentEvent(
  context: EventContext,
  issue: Issue,
  comment: Comment,
  action: 'created' | 'edited' | 'deleted' = 'created'
): ActionEvent {
  return {
    name: 'issue_comment',
    payload: {
      action,
      issue: issuePayload(context, issue),
      comment: {
        id: comment.id,
        body: comment.body,
        html_url: `${context.serverUrl}/${context.repo}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}#issuecomment-${comment.id}`,
        user: userPayload(comment.user),
        created_at: comment.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        updated_at: comment.updatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')
      },
      repository: repositoryPayload(context),
      sender: userPayload(comment.user)
    }
  }
}

/** `workflow_dispatch` (its inputs reach the action through `with:`, i.e. as action inputs). */
export function dispatchEvent(
  context: EventContext,
  sender: string,
  inputs: Record<string, string> = {}
): ActionEvent {
  return {
    name: 'workflow_dispatch',
    payload: {
      inputs,
      ref: 'refs/heads/main',
      repository: repositoryPayload(context),
      sender: userPayload(sender),
      workflow: '.github/workflows/kugetsu.yml'
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The checkout a workflow makes before the action runs

export interface Checkout {
  /** The commit checked out (what the runner puts in GITHUB_SHA). */
  sha: string
  /** GITHUB_REF: the default branch for issue and comment events. */
  ref: string
}

/**
 * Prepares `job.workspace` the way `actions/checkout@v4` with `persist-credentials: false` does for
 * an issue event: a shallow fetch of the default branch's head from `<serverUrl>/<owner>/<repo>`,
 * the token passed on the command line only, so no credentials stay in `.git/config` or anywhere.
 * The job's `~/.gitconfig` maps `<serverUrl>/` to the stand-in (that is how git, which builds its
 * URLs from GITHUB_SERVER_URL, reaches loopback); it sets no user.name or user.email, as a fresh
 * runner has none. A step run as another user gets the tree chowned by runAction.
 */
export async function checkoutWorkspace(
  job: JobDirs,
  github: Pick<ForgeStandIn, 'url' | 'token' | 'state' | 'git'>,
  options: {
    repo: string
    serverUrl: string
    branch?: string
    /**
     * `persist-credentials: true` (actions/checkout's default): the token's header stays in
     * `.git/config` (`inline`, as v4 leaves it), or in a file under RUNNER_TEMP that `.git/config`
     * includes (`file`, as v6 leaves it).
     */
    persistCredentials?: 'inline' | 'file'
  }
): Promise<Checkout> {
  const repo = github.state.repo(options.repo)
  if (!repo) throw new Error(`unknown repository ${options.repo}`)
  const branch = options.branch ?? repo.defaultBranch
  const sha = await github.git.head(repo.fullName, branch)
  if (!sha) throw new Error(`${repo.fullName} has no branch ${branch}: seed it (world git option)`)
  const serverUrl = options.serverUrl.replace(/\/$/, '')
  await writeFile(
    join(job.home, '.gitconfig'),
    `[url "${github.url}/"]\n\tinsteadOf = ${serverUrl}/\n`
  )
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: job.home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0'
  }
  const git = (...args: string[]): Promise<string> => runGit(['-C', job.workspace, ...args], env)
  const basic = Buffer.from(`x-access-token:${github.token}`).toString('base64')
  await git('init', '--quiet')
  await git('remote', 'add', 'origin', `${serverUrl}/${repo.fullName}`)
  await git('config', '--local', 'gc.auto', '0')
  await git(
    '-c',
    'protocol.version=2',
    '-c',
    `http.extraHeader=AUTHORIZATION: basic ${basic}`,
    'fetch',
    '--no-tags',
    '--prune',
    '--no-recurse-submodules',
    '--quiet',
    '--depth=1',
    'origin',
    `+${sha}:refs/remotes/origin/${branch}`
  )
  await git('checkout', '--quiet', '--force', '-B', branch, `refs/remotes/origin/${branch}`)
  const header = `[http "${serverUrl}/"]\n\textraheader = AUTHORIZATION: basic ${basic}\n`
  if (options.persistCredentials === 'inline') {
    await writeFile(join(job.workspace, '.git', 'config'), header, { flag: 'a' })
  } else if (options.persistCredentials === 'file') {
    const file = join(job.temp, `git-credentials-${randomUUID()}.config`)
    await writeFile(file, header)
    const gitDir = join(job.workspace, '.git')
    await writeFile(
      join(gitDir, 'config'),
      `[includeIf "gitdir:${gitDir}"]\n\tpath = ${file}\n[includeIf "gitdir:${gitDir}/worktrees/*"]\n\tpath = ${file}\n`,
      { flag: 'a' }
    )
  }
  return { sha, ref: `refs/heads/${branch}` }
}

// ---------------------------------------------------------------------------------------------
// A world: GitHub (REST + Actions cache) for one repository, and runs of the action in it

export interface WorldOptions {
  /**
   * The forge the runs happen on (default github: the GitHub stand-in; GHES is that with another
   * serverUrl). `gitea` and `forgejo` use the Gitea stand-in, its payloads (`world.github.events`)
   * and its runner's environment; their cache speaks v1 and lowercases keys whatever `protocol`
   * and `lowercaseKeys` say.
   */
  forge?: 'github' | GiteaForge
  protocol: CacheProtocol
  /** GITHUB_SERVER_URL; a host other than github.com makes @actions/cache speak v1 (GHES). */
  serverUrl: string
  repo: string
  /** Keys lowercased by the cache service, like Gitea's / Forgejo's. */
  lowercaseKeys?: boolean
  model: ModelServer
  shim: OpencodeShim
  /** Environment every run gets (opencode's provider config and offline switches...). */
  env: Record<string, string>
  /** Where per-run shim logs go. */
  scratch: string
  /** First GITHUB_RUN_ID; every run gets the next one. */
  firstRunId: number
  /**
   * The repository's files (seeded as the default branch's first commit). With it, every run's
   * workspace is a checkout of the default branch's head (see checkoutWorkspace).
   */
  git?: { files: Record<string, string> }
}

export interface WorldRunOptions {
  event: ActionEvent
  inputs?: Record<string, string>
  env?: Record<string, string | undefined>
  /**
   * Run in a job of its own (unique paths), so several runs may go at once. A run's `opencode`
   * starts are its own either way; its share of the model, cache and REST logs (and of the entries
   * and comments made) is only its own when no other run overlaps it.
   */
  isolate?: boolean
  timeoutMs?: number
  /** Run the step as this user instead of root, in a job of its own (see RunActionOptions.user). */
  user?: { uid: number; gid: number }
  /** The action's entry script (default the repository's dist/index.js). */
  entry?: string
  /** How a step past timeoutMs is ended (see RunActionOptions.killSignal). */
  killSignal?: NodeJS.Signals
  /** The workflow's checkout keeps the token (see checkoutWorkspace). */
  persistCredentials?: 'inline' | 'file'
}

const INDEX_KEY = /-index-\d+-\d+$/

/** One run of the action and everything the world saw while it ran. */
export interface WorldRun {
  result: ActionResult
  runId: number
  /** When the step was launched (ms since the epoch). */
  startedAt: number
  outputs: Record<string, string>
  /** Requests the model server got during the run (title requests included, kind tells). */
  model: RecordedRequest[]
  cache: CacheRequest[]
  github: GitHubRequest[]
  opencode: OpencodeStart[]
  /** Cache entries of sessions and bases the run committed (the session index's are in `indexed`). */
  saved: CacheEntry[]
  /** Session index entries the run committed (`<prefix>-index-<run>-<attempt>`). */
  indexed: CacheEntry[]
  /** Comments the run posted. */
  comments: Comment[]
  /** What the workspace was checked out at (worlds with `git`). */
  checkout?: Checkout
}

/**
 * What a world needs of a forge's stand-in (both the GitHub and the Gitea one are): git at
 * `<url>/<owner>/<repo>.git`, the REST API at `apiUrl`, a job token, the comments, the requests.
 */
export interface ForgeStandIn {
  url: string
  apiUrl?: string
  token: string
  state: {
    repo(
      fullName: string
    ): { fullName: string; defaultBranch: string; private: boolean } | undefined
    comments: Map<number, Comment>
  }
  requests: GitHubRequest[]
  git: GitContent
  close(): Promise<void>
}

export interface KugetsuWorld<Api extends ForgeStandIn = GitHubApi> {
  options: WorldOptions
  cache: CacheServer
  /** The forge's stand-in: GitHub's, or Gitea's for a world with `forge: 'gitea' | 'forgejo'`. */
  github: Api
  context: EventContext
  /** Runs dist/index.js once, with the next run id, in a fresh job. */
  run(options: WorldRunOptions): Promise<WorldRun>
  close(): Promise<void>
}

/** The keys of a cache lookup request (v1 `?keys=`, v2 `key` + `restore_keys`). */
export function lookupKeys(request: CacheRequest): string[] {
  if (request.kind !== 'lookup') return []
  if (request.protocol === 'v2') {
    const body = (request.json ?? {}) as { key?: string; restore_keys?: string[] }
    return [body.key ?? '', ...(body.restore_keys ?? [])]
  }
  const query = new URL(request.url, 'http://x').searchParams.get('keys') ?? ''
  return query.split(',').filter(Boolean)
}

export async function createKugetsuWorld(
  options: WorldOptions & { forge?: 'github' }
): Promise<KugetsuWorld>
export async function createKugetsuWorld(
  options: WorldOptions & { forge: GiteaForge }
): Promise<KugetsuWorld<GiteaApi>>
export async function createKugetsuWorld(
  options: WorldOptions
): Promise<KugetsuWorld<GitHubApi> | KugetsuWorld<GiteaApi>> {
  const forge = options.forge ?? 'github'
  if (forge === 'github') {
    const cache = await startCacheServer({
      protocol: options.protocol,
      lowercaseKeys: options.lowercaseKeys
    })
    const github = await startGitHubApi({
      cacheStore: cache.store,
      serverUrl: options.serverUrl,
      repos: [options.repo]
    })
    return buildWorld(options, cache, github, {})
  }
  // The runner's own cache server: protocol v1, keys lowercased.
  options = { ...options, protocol: 'v1', lowercaseKeys: true }
  const cache = await startCacheServer({ protocol: 'v1', lowercaseKeys: true })
  const gitea = await startGiteaApi({
    forge,
    serverUrl: options.serverUrl,
    repos: [options.repo]
  })
  return buildWorld(options, cache, gitea, gitea.runnerEnv())
}

async function buildWorld<Api extends ForgeStandIn>(
  options: WorldOptions,
  cache: CacheServer,
  github: Api,
  forgeEnv: Record<string, string>
): Promise<KugetsuWorld<Api>> {
  const apiUrl = github.apiUrl ?? github.url
  const gitea = options.forge === 'gitea' || options.forge === 'forgejo'
  if (options.git) await github.git.seed(options.repo, options.git.files)
  const context: EventContext = {
    repo: options.repo,
    serverUrl: options.serverUrl,
    apiUrl,
    private: github.state.repo(options.repo)?.private ?? false,
    defaultBranch: github.state.repo(options.repo)?.defaultBranch
  }
  const runnerDir = join(options.scratch, 'actions-runner')
  await mkdir(runnerDir, { recursive: true })
  const defaults = actionInputDefaults({ githubToken: github.token })
  // Without a repository to check out, a run has no branch to work on: answers only.
  if (!options.git) defaults.push = 'false'
  let nextRunId = options.firstRunId

  const run = async (runOptions: WorldRunOptions): Promise<WorldRun> => {
    const runId = nextRunId++
    const isolated = Boolean(runOptions.isolate || runOptions.user)
    let job = isolated ? createJob(options.repo, { isolate: true }) : undefined
    let checkout: Checkout | undefined
    // The checkout is the workflow's step before the action: its requests are not the run's.
    if (options.git) {
      job ??= createJob(options.repo)
      checkout = await checkoutWorkspace(job, github, {
        repo: options.repo,
        serverUrl: options.serverUrl,
        persistCredentials: runOptions.persistCredentials
      })
    }
    // The shim runs as the runner's user (a version probe) and as the agent's (sandbox: user):
    // both append to the log.
    const logFile = join(options.scratch, `opencode-starts-${runId}.log`)
    writeFileSync(logFile, '')
    chmodSync(logFile, 0o666)
    const marks = {
      model: options.model.requests.length,
      cache: cache.requests.length,
      github: github.requests.length,
      entries: new Set(cache.store.entries.map((entry) => entry.id)),
      comments: new Set(github.state.comments.keys())
    }
    const runnerOptions: RunActionOptions = {
      entry: runOptions.entry ?? 'dist/index.js',
      user: runOptions.user,
      killSignal: runOptions.killSignal,
      repo: options.repo,
      serverUrl: options.serverUrl,
      apiUrl,
      runId,
      // Gitea and Forgejo link runs by number; GitHub's numbers are the runs of one workflow.
      runNumber: runId - options.firstRunId + 1,
      ...(gitea ? { graphqlUrl: '' } : {}),
      event: runOptions.event,
      inputDefaults: defaults,
      inputs: runOptions.inputs,
      job,
      sha: checkout?.sha,
      ref: checkout?.ref,
      env: {
        // The runner's own working directory leaks into a step's environment as PWD; the step
        // itself runs in the workspace. opencode must work in the workspace all the same.
        PWD: runnerDir,
        ...forgeEnv,
        ...options.env,
        ...cache.envFor(options.protocol),
        PATH: [options.shim.dir, join(REPO_ROOT, 'node_modules', '.bin'), process.env.PATH]
          .filter(Boolean)
          .join(delimiter),
        [SHIM_LOG_ENV]: logFile,
        ...runOptions.env
      },
      timeoutMs: runOptions.timeoutMs ?? 150_000
    }
    const startedAt = Date.now()
    const result = await runAction(runnerOptions)
    const committed = cache.store.committed.filter((entry) => !marks.entries.has(entry.id))
    return {
      result,
      runId,
      startedAt,
      outputs: result.outputs,
      model: options.model.requests.slice(marks.model),
      cache: cache.requests.slice(marks.cache),
      github: github.requests.slice(marks.github),
      opencode: options.shim.starts(logFile),
      saved: committed.filter((entry) => !INDEX_KEY.test(entry.key)),
      indexed: committed.filter((entry) => INDEX_KEY.test(entry.key)),
      comments: [...github.state.comments.values()].filter((c) => !marks.comments.has(c.id)),
      checkout
    }
  }

  return {
    options,
    cache,
    github,
    context,
    run,
    close: async () => {
      await Promise.all([github.close(), cache.close()])
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A rig: a scripted model, an opencode machine pointed at it and the shim, which a suite's worlds
// share; a test bed: a rig and one world, set up together

export interface OpencodeRig {
  model: ModelServer
  shim: OpencodeShim
  /** Environment that points opencode at the scripted model, offline. */
  opencodeEnv: Record<string, string>
  scratch: string
  /** What createKugetsuWorld takes of the rig. */
  worldOptions: Pick<WorldOptions, 'model' | 'shim' | 'env' | 'scratch'>
  /** Closes the model and removes the scratch dir. */
  close(): Promise<void>
}

/** The rig of a suite, on loopback, in a new scratch dir (named from `scratchPrefix`). */
export async function createOpencodeRig(
  options: { script?: Script; scratchPrefix?: string } = {}
): Promise<OpencodeRig> {
  const scratch = mkdtempSync(join(tmpdir(), options.scratchPrefix ?? 'kugetsu-action-'))
  const model = await startModelServer(options.script)
  const machine = await createOpencodeEnv({ baseURL: model.baseURL, parentDir: scratch })
  const shim = await createOpencodeShim(scratch)
  // What opencode needs to reach the scripted model offline: the provider config by file (as a
  // repository's opencode.json would give it) and the switches that keep it off the network.
  const opencodeEnv = Object.fromEntries(
    Object.entries(machine.env).filter(
      (entry): entry is [string, string] =>
        /^(OPENCODE_|SCRIPTED_KEY$|npm_config_offline$|NO_COLOR$)/.test(entry[0]) &&
        entry[1] !== undefined
    )
  )
  return {
    model,
    shim,
    opencodeEnv,
    scratch,
    worldOptions: { model, shim, env: opencodeEnv, scratch },
    async close() {
      await model.close()
      rmSync(scratch, { recursive: true, force: true })
    }
  }
}

export interface TestBed {
  model: ModelServer
  world: KugetsuWorld
  scratch: string
  /** Environment that points opencode at the scripted model, offline. */
  opencodeEnv: Record<string, string>
  close(): Promise<void>
}

export interface TestBedOptions {
  /** Decides the model's replies (undefined: echo). */
  script: Script
  protocol?: CacheProtocol
  serverUrl?: string
  repo: string
  firstRunId: number
  /** Logins given write permission on the repository. */
  writers?: string[]
  /** The repository's files; every run's workspace is then a checkout (see WorldOptions.git). */
  git?: { files: Record<string, string> }
  /** Keys lowercased by the cache service, as Gitea's and Forgejo's do (use protocol v1). */
  lowercaseKeys?: boolean
}

/** Everything a suite of action runs needs, on loopback, in a scratch dir removed by close(). */
export async function createTestBed(options: TestBedOptions): Promise<TestBed> {
  const rig = await createOpencodeRig({ script: options.script })
  const world = await createKugetsuWorld({
    ...rig.worldOptions,
    protocol: options.protocol ?? 'v2',
    serverUrl: options.serverUrl ?? 'https://github.com',
    repo: options.repo,
    firstRunId: options.firstRunId,
    git: options.git,
    lowercaseKeys: options.lowercaseKeys
  })
  for (const login of options.writers ?? []) {
    world.github.state.setPermission(options.repo, login, 'write')
  }
  return {
    model: rig.model,
    world,
    scratch: rig.scratch,
    opencodeEnv: rig.opencodeEnv,
    async close() {
      await world.close()
      await rig.close()
    }
  }
}

/**
 * Issues numbered from `first` on (`Issue <n>`, opened by alice), and comments on them as the
 * issue_comment events they make, in the world `world()` gives (a suite's, made in beforeAll).
 */
export function issueMaker(
  world: () => KugetsuWorld,
  repo: string,
  first: number
): { newIssue(): Issue; commentOn(issue: Issue, body: string, user?: string): ActionEvent } {
  let next = first
  return {
    newIssue() {
      const number = next++
      return world().github.state.addIssue(repo, {
        number,
        title: `Issue ${number}`,
        body: 'Something is wrong.',
        user: 'alice'
      })
    },
    commentOn(issue, body, user = 'alice') {
      const comment = world().github.state.addComment(repo, issue.number, { body, user })
      return issueCommentEvent(world().context, issue, comment)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What every suite asks of a run

/** The messages of the error annotations a run left. */
export const errorsOf = (run: WorldRun): string[] =>
  run.result.annotations.filter((a) => a.level === 'error').map((a) => a.message)

/** Throws, with the ends of what the step printed, unless the run exited 0 with no error. */
export function expectSuccess(run: WorldRun): void {
  const errors = errorsOf(run)
  if (run.result.exitCode !== 0 || errors.length > 0) {
    throw new Error(
      `run ${run.runId} failed (exit ${run.result.exitCode}${run.result.timedOut ? ', timed out' : ''}): ` +
        `${errors.join('; ')}\n${run.result.stdout.slice(-4000)}\n${run.result.stderr.slice(-2000)}`
    )
  }
}
