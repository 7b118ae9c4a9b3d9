import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  CacheEntryRefused,
  CacheRestoreError,
  createActionsCacheClient,
  stateKeys,
  type CacheClient
} from './action/cache-state.js'
import { agentEnvironment } from './action/environment.js'
import { guardProviderKeys } from './action/provider-keys.js'
import {
  repoContext,
  requestFromEvent,
  type ActionRequest,
  type IssueInfo,
  type RepoContext
} from './action/event.js'
import { authorize, type Authorization } from './action/authorize.js'
import {
  IssueNotFoundError,
  createGitHub,
  type GitHub,
  type PostedComment
} from './action/github.js'
import { opencodeForAction } from './action/opencode-install.js'
import { createPublisher, type Publisher } from './action/publish.js'
import { defaultBranchFromPayload } from './action/scope.js'
import { destroySessions, listSessions, pruneSessions } from './action/sessions.js'
import { MEMORY_REBUILT_NOTE, rebuildThread, rebuiltTurnPrompt } from './action/thread.js'
import { TRACKING_STATE, runUrlFromEnv, workingBody } from './action/tracking.js'
import { readInputs, type ActionInputs } from './action/inputs.js'
import { redactSecrets, secretValuesFrom } from './action/masking.js'
import { agentIssue, agentMessage } from './action/message.js'
import { firstTurnPrompt, laterTurnPrompt } from './action/prompt.js'
import {
  failureBody,
  formatCost,
  formatDuration,
  noteBlock,
  replyBody,
  summaryTable
} from './action/report.js'
import { DEFAULT_BASE_PROMPT, Engine, hashPrompt } from './engine.js'
import { KugetsuError, errorMessage, isKugetsuError } from './errors.js'
import { buildOpencodeConfigContent } from './opencode/config.js'
import { createOpencodeDriver } from './opencode/driver.js'
import { createServeDriver } from './opencode/serve.js'
import type { OpencodeDriver } from './opencode/types.js'
import { formatIssueRef } from './refs.js'
import { openSandbox } from './sandbox/sandbox.js'
import { sealState, stateCodec } from './store/crypto.js'
import { createEntryStore, type EntryCodec, type EntryStore } from './store/entries.js'

interface RunContext {
  env: NodeJS.ProcessEnv
  inputs: ActionInputs
  repo: RepoContext
  runUrl: string
  startedAt: number
  /** Values masked in the log and kept out of cached state. */
  secrets: string[]
  /** The repository is public (from the event payload): anyone can read its caches' keys. */
  isPublic: boolean
  github: GitHub
  /** Outputs and the job summary, redacted (comments are, by `github`). */
  publish: Publisher
  /** The "working on it" comment of this run, to be edited into the reply or the failure. */
  tracking?: PostedComment
}

const loadCache = () => import('@actions/cache')

function readPayload(path: string | undefined): unknown {
  if (!path) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new KugetsuError(
      'invalid-input',
      `cannot read the event payload ${path}: ${errorMessage(error)}`
    )
  }
}

/** Sealed bases get a stream of their own, so turning a state-key on makes a new base. */
function baseHash(inputs: ActionInputs): string {
  const sealed = inputs.stateKey ? '\nsealed' : ''
  return hashPrompt(`${inputs.model}\n${inputs.basePrompt || DEFAULT_BASE_PROMPT}${sealed}`)
}

/** Entries sealed with the state-key (when set), with secret values redacted before sealing. */
function entryCodec(context: RunContext): EntryCodec {
  const { stateKey } = context.inputs
  return {
    encode: (text, name) => sealState(redactSecrets(text, context.secrets), stateKey, name),
    decode: stateCodec(stateKey).decode
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- webhook payloads are untyped JSON */
function isPublicRepository(payload: any): boolean {
  const repository = payload?.repository
  return repository?.private === false || repository?.visibility === 'public'
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** On a public repository without a state-key, cached sessions can be read by pull-request runs. */
function warnIfUnsealed(context: RunContext): void {
  if (!context.isPublic || context.inputs.stateKey) return
  const warning =
    'This repository is public and state-key is not set: the cached sessions are stored unencrypted, ' +
    'and workflows run for pull requests can read the default branch\u2019s caches. ' +
    'Set state-key from a secret (openssl rand -base64 32) to encrypt them.'
  core.warning(warning)
  core.summary.addRaw(`\n> [!WARNING]\n> ${warning}\n`, true)
}

/** Everything one run of opencode needs: the binary, a private data dir, the state store. */
interface Workspace {
  store: EntryStore
  cache: CacheClient
  engine: Engine
  /** Stops opencode with everything it started, removes the agent's user and the private dir. */
  close(): Promise<void>
}

async function openWorkspace(context: RunContext): Promise<Workspace> {
  const { env, inputs } = context
  const temp = env.RUNNER_TEMP || tmpdir()
  await mkdir(temp, { recursive: true })
  const dir = await mkdtemp(join(temp, 'kugetsu-'))
  const stateRoot = join(dir, 'state')
  // what opencode must read of kugetsu's (a session to import): the agent reaches nothing else here
  const exchange = join(dir, 'exchange')
  await mkdir(stateRoot, { recursive: true })
  await mkdir(exchange, { recursive: true })
  const store = createEntryStore(stateRoot, entryCodec(context))
  const cache = createActionsCacheClient(stateRoot, loadCache)

  const binary = await opencodeForAction(env, inputs.opencodeVersion, loadCache)
  const cwd = inputs.workingDirectory
    ? resolve(env.GITHUB_WORKSPACE || '.', inputs.workingDirectory)
    : env.GITHUB_WORKSPACE || process.cwd()
  // Provider keys stay with kugetsu: opencode reaches its providers through a loopback proxy.
  const keys = await guardProviderKeys({
    env,
    cwd,
    opencodeConfig: inputs.opencodeConfig,
    secrets: context.secrets
  })
  const sandbox = await openSandbox({
    mode: inputs.sandbox,
    workspace: cwd,
    readable: [
      await realpath(binary),
      exchange,
      ...(env.OPENCODE_CONFIG ? [env.OPENCODE_CONFIG] : [])
    ]
  }).catch(async (error: unknown) => {
    await keys.close()
    await rm(dir, { recursive: true, force: true }).catch(() => undefined)
    throw error
  })
  if (!sandbox.user) {
    core.warning(
      'sandbox: off: the agent runs as the runner\u2019s user and can reach everything this job can (its credentials among them)'
    )
  }
  const agentEnv = keys.environment(
    agentEnvironment(
      env,
      { XDG_DATA_HOME: join(dir, 'opencode-data'), ...sandbox.env },
      { exposeToken: inputs.exposeGithubToken ? inputs.githubToken : undefined }
    )
  )
  const driverOptions = {
    binary,
    env: agentEnv,
    configContent: buildOpencodeConfigContent({
      user: inputs.opencodeConfig,
      inherited: env.OPENCODE_CONFIG_CONTENT,
      overlay: keys.overlay
    }),
    tempDir: exchange,
    launcher: sandbox.launcher
  }
  let driver: OpencodeDriver & { close(): Promise<void> }
  if (!inputs.opencodeServe) {
    driver = createOpencodeDriver(driverOptions)
  } else {
    const server = createServeDriver({
      ...driverOptions,
      cwd,
      onFallback: (reason) =>
        core.warning(`opencode serve could not start (${reason}); running opencode per command`)
    })
    // The agent can print it (it is in opencode's environment): masked, and redacted when saved.
    for (const secret of server.secrets()) {
      core.setSecret(secret)
      context.secrets.push(secret)
    }
    // Starts now, while the cached state is restored; the first opencode call waits for it.
    server.start()
    driver = server
  }
  const engine = new Engine({
    store,
    driver,
    cwd,
    model: inputs.model || undefined,
    agent: inputs.agent || undefined,
    basePrompt: inputs.basePrompt || undefined,
    timeoutMs: inputs.timeoutMs,
    importBeforeRun: true
  })
  // A cancelled or timed-out step gets SIGINT or SIGTERM: opencode, in a process group of its
  // own (and as another user when contained), would outlive the step until the runner's clean-up
  // at the end of the job; it is stopped first, then the signal ends the step as it would have.
  const onSignal = (signal: NodeJS.Signals) => {
    void close().finally(() => process.kill(process.pid, signal))
  }
  const close = async () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await driver
      .close()
      .catch((error: unknown) => core.warning(`could not stop opencode: ${errorMessage(error)}`))
    await sandbox
      .release()
      .catch((error: unknown) =>
        core.warning(`could not remove the agent's user: ${errorMessage(error)}`)
      )
    await keys.close()
    await rm(dir, { recursive: true, force: true }).catch(() => undefined)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return { store, cache, engine, close }
}

/** Whether the author of a turn may run the agent; see authorize.ts. Spends one API call at most. */
async function authorizeTurn(
  request: Extract<ActionRequest, { kind: 'turn' }>,
  context: RunContext
): Promise<Authorization> {
  const { inputs, github } = context
  return authorize({
    login: request.author,
    userType: request.authorType,
    commentBody: request.comment?.body,
    minPermission: inputs.minPermission,
    allowedUsers: inputs.allowedUsers,
    allowedBots: inputs.allowedBots,
    permissionOf: (login) => github.permissionOf(login)
  })
}

/** 👀 on the triggering comment, so its author sees at once that kugetsu took it up. */
async function acknowledge(
  request: Extract<ActionRequest, { kind: 'turn' }>,
  context: RunContext
): Promise<void> {
  if (!request.comment || !context.inputs.comment) return
  try {
    await context.github.reactToComment(request.comment.id, 'eyes')
  } catch (error) {
    core.warning(`could not react to the comment: ${errorMessage(error)}`)
  }
}

/**
 * The "working on it" comment, posted before opencode starts. Its id is saved for the post step,
 * which rewrites it if the job ends before this step edits it into the reply or the failure.
 */
async function startTracking(issueNumber: number, ref: string, context: RunContext): Promise<void> {
  if (!context.inputs.comment) return
  try {
    context.tracking = await context.github.createComment(
      issueNumber,
      workingBody(context.runUrl, ref)
    )
    core.saveState(TRACKING_STATE.commentId, String(context.tracking.id))
    core.saveState(TRACKING_STATE.ref, ref)
  } catch (error) {
    core.warning(`could not post the tracking comment: ${errorMessage(error)}`)
  }
}

/** Posts `body` on the issue: as an edit of the tracking comment when there is one. */
async function answerOnIssue(
  issueNumber: number,
  body: string,
  context: RunContext
): Promise<PostedComment> {
  if (!context.tracking) return context.github.createComment(issueNumber, body)
  const answer = await context.github.updateComment(context.tracking.id, body)
  core.saveState(TRACKING_STATE.done, 'true')
  return answer
}

/**
 * The first prompt of an issue without state: a plain first turn, or, when kugetsu has replied
 * on the issue before (its session was lost: evicted from the cache), one that carries the thread.
 */
async function firstPrompt(
  request: Extract<ActionRequest, { kind: 'turn' }>,
  issue: IssueInfo,
  context: RunContext
): Promise<{ prompt: string; rebuilt: boolean }> {
  const ref = formatIssueRef(request.ref)
  const comments = await context.github.comments(request.ref.number)
  const thread = rebuildThread(issue, comments, {
    excludeIds: [request.comment?.id, context.tracking?.id].filter(
      (id): id is number => id !== undefined
    )
  })
  if (!thread.hadEarlierReplies) {
    return { prompt: firstTurnPrompt(ref, issue, request.author, request.message), rebuilt: false }
  }
  core.info(
    `${ref} has earlier kugetsu replies but no saved session: rebuilding from ${thread.includedComments} comment(s)`
  )
  return {
    prompt: rebuiltTurnPrompt(ref, issue, thread, request.author, request.message),
    rebuilt: true
  }
}

/**
 * The issue a turn is on: as the event carried it, else (manual runs) read through the REST API.
 * Read before any other work, so a wrong number fails at once.
 */
async function issueOf(
  request: Extract<ActionRequest, { kind: 'turn' }>,
  context: RunContext
): Promise<IssueInfo> {
  if (request.issue) return request.issue
  return context.github.issue(request.ref.number, formatIssueRef(request.ref))
}

async function handleTurn(
  request: Extract<ActionRequest, { kind: 'turn' }>,
  context: RunContext
): Promise<void> {
  const { env, inputs } = context
  const ref = formatIssueRef(request.ref)
  const keys = stateKeys(
    inputs.statePrefix,
    env.GITHUB_RUN_ID ?? '0',
    env.GITHUB_RUN_ATTEMPT ?? '1'
  )
  const issue = agentIssue(await issueOf(request, context))
  // opencode (installed if need be) and its server get ready while the issue hears from kugetsu
  const opening = openWorkspace(context)
  opening.catch(() => undefined)
  await acknowledge(request, context)
  await startTracking(request.ref.number, ref, context)
  warnIfUnsealed(context)
  const workspace = await opening
  try {
    const { store, cache, engine } = workspace
    const issueDir = store.issueDir(ref)
    const issueStream = keys.issueStream(String(request.ref.number))
    const restoredKey = await cache.restore(issueDir, issueStream).catch((error: unknown) => {
      if (error instanceof CacheEntryRefused) {
        throw new KugetsuError(
          'unsafe-state',
          `the newest Actions cache entry of ${ref} (${error.key ?? 'key unknown'}) was refused before anything was extracted: ${error.reason}. kugetsu never writes such an entry: someone who can write this repository's caches planted it. ${ref} keeps its session; delete that entry (gh cache delete ${error.key ?? '<key>'}) and run again`,
          { cause: error }
        )
      }
      // Going on would start the issue over, and its new entry would hide the old session.
      if (!(error instanceof CacheRestoreError)) throw error
      throw new KugetsuError(
        'corrupt-state',
        `could not read the session of ${ref} from the Actions cache (${error.message}); nothing was changed: try again, and if it keeps failing the entry is damaged`,
        { cause: error }
      )
    })
    const previous = restoredKey ? await store.getIssue(ref) : undefined
    if (restoredKey && !previous?.sessionId) {
      throw new KugetsuError(
        'corrupt-state',
        `the cached state of ${ref} (${restoredKey}) holds no session; destroy it and start again`
      )
    }

    if (!previous) {
      const baseStream = keys.baseStream(baseHash(inputs))
      // A base that cannot be read is made again: it is the same for every issue.
      const baseKey = await cache
        .restore(workspace.store.baseDir, baseStream)
        .catch((error: unknown) => {
          // Nothing of it was extracted; a new base saved now is the stream's newest again.
          if (error instanceof CacheEntryRefused) {
            core.warning(
              `the base session's cache entry ${error.key ?? ''} was refused (${error.reason}); creating a new base. Delete that entry: kugetsu never writes such archives`
            )
            return undefined
          }
          if (!(error instanceof CacheRestoreError)) throw error
          return undefined
        })
      if (!baseKey || !(await store.getBase())) {
        core.info('No cached base session for this base prompt and model: creating one')
        await engine.init({ force: true })
        if (!(await cache.save(store.baseDir, keys.keyFor(baseStream)))) {
          core.warning(
            'Could not save the new base session to the Actions cache; the next new issue will create another'
          )
        }
      }
    }

    const first = previous ? undefined : await firstPrompt(request, issue, context)
    const prompt = first?.prompt ?? laterTurnPrompt(request.author, request.message)
    const outcome = await engine.run(ref, prompt)
    const notes: string[] = []
    if (first?.rebuilt) notes.push(MEMORY_REBUILT_NOTE)
    const lostRace = await newerStateOf(cache, issueDir, issueStream, restoredKey)
    if (lostRace) {
      const note = `Another run saved a newer session for ${ref} (\`${lostRace}\`) while this one worked; this reply does not know that run's turn, and the next turn continues from this one.`
      core.warning(note)
      notes.push(note)
    }
    if (
      !(await cache.save(
        issueDir,
        keys.keyFor(issueStream, [`t${outcome.record.turns}`, outcome.record.sessionId ?? ''])
      ))
    ) {
      throw new KugetsuError(
        'opencode-failed',
        `the agent answered but its session could not be saved to the Actions cache; the previous state of ${ref} is unchanged`
      )
    }

    const durationMs = Date.now() - context.startedAt
    const { record, result } = outcome
    const facts = {
      ref,
      mode: outcome.mode,
      sessionId: record.sessionId ?? result.sessionId,
      turns: record.turns,
      tokensInput: result.tokens.input,
      tokensOutput: result.tokens.output,
      cost: result.cost,
      durationMs,
      runUrl: context.runUrl,
      notes
    }
    // Redacted before the reply is cut to fit a comment, which could leave half a key behind.
    const text = context.publish.redact(result.text)
    const comment = inputs.comment
      ? await answerOnIssue(request.ref.number, replyBody(text, facts), context)
      : undefined

    context.publish.setOutputs({
      skipped: 'false',
      'skip-reason': '',
      'issue-ref': ref,
      mode: outcome.mode,
      'session-id': facts.sessionId,
      'base-session-id': record.baseSessionId,
      response: text,
      'comment-id': comment?.id ?? '',
      'comment-url': comment?.url ?? '',
      'state-restored': restoredKey ? 'true' : 'false',
      'tokens-input': result.tokens.input,
      'tokens-output': result.tokens.output,
      cost: result.cost
    })
    core.summary
      .addHeading(`kugetsu: ${outcome.mode === 'start' ? 'started' : 'continued'} ${ref}`, 3)
      .addRaw(
        summaryTable([
          ['Session', facts.sessionId],
          ['Base session', record.baseSessionId],
          ['Turn', String(record.turns)],
          ['State', restoredKey ? `restored from ${restoredKey}` : 'new'],
          ['Tokens', `${result.tokens.input} in / ${result.tokens.output} out`],
          ['Cost', formatCost(result.cost)],
          ['Duration', formatDuration(durationMs)],
          ['Comment', comment?.url ?? '(not posted)']
        ]),
        true
      )
      .addRaw(notes.map((note) => `\n${noteBlock(note)}\n`).join(''), true)
      .addHeading('Response', 4)
      .addRaw(`\n${text}\n`, true)
    await context.publish.writeSummary()
  } finally {
    await workspace.close()
  }
}

/**
 * The key of an entry another run saved for the issue after this run restored `restoredKey`: the
 * stream's newest entry is then not the one restored (keys may come back lowercased on GHES/Gitea).
 */
async function newerStateOf(
  cache: CacheClient,
  dir: string,
  stream: string,
  restoredKey: string | undefined
): Promise<string | undefined> {
  const newest = await cache.newestKey(dir, stream)
  if (newest === undefined) return undefined
  return newest.toLowerCase() === restoredKey?.toLowerCase() ? undefined : newest
}

async function handleInit(context: RunContext): Promise<void> {
  const { env, inputs } = context
  warnIfUnsealed(context)
  const keys = stateKeys(
    inputs.statePrefix,
    env.GITHUB_RUN_ID ?? '0',
    env.GITHUB_RUN_ATTEMPT ?? '1'
  )
  const workspace = await openWorkspace(context)
  try {
    const outcome = await workspace.engine.init({ force: true })
    const key = keys.keyFor(keys.baseStream(baseHash(inputs)))
    if (!(await workspace.cache.save(workspace.store.baseDir, key))) {
      throw new KugetsuError(
        'opencode-failed',
        'the base session could not be saved to the Actions cache'
      )
    }
    context.publish.setOutputs({
      skipped: 'false',
      'skip-reason': '',
      mode: 'init',
      'base-session-id': outcome.base.sessionId,
      'session-id': outcome.base.sessionId,
      response: outcome.result.text
    })
    core.summary.addHeading('kugetsu: created a base session', 3).addRaw(
      summaryTable([
        ['Base session', outcome.base.sessionId],
        ['Cache key', key]
      ]),
      true
    )
    await context.publish.writeSummary()
  } finally {
    await workspace.close()
  }
}

async function reportFailure(
  error: unknown,
  request: ActionRequest | undefined,
  context: RunContext | undefined,
  publish: Publisher
): Promise<void> {
  let message = errorMessage(error)
  const timeoutMs = context?.inputs.timeoutMs
  if (request?.kind === 'turn' && isKugetsuError(error, 'timeout') && timeoutMs) {
    const limit = `${Number((timeoutMs / 60_000).toFixed(2))} min`
    message = `the agent did not finish within timeout-minutes (${limit}) and was stopped; ${formatIssueRef(request.ref)} keeps the session it had before this run`
  }
  if (request?.kind === 'turn' && isKugetsuError(error, 'corrupt-state')) {
    const ref = formatIssueRef(request.ref)
    message += ` (to start ${ref} over, run kugetsu with command: destroy and issue-ref: ${request.ref.number})`
  }
  core.setFailed(message)
  const what = request?.kind === 'turn' ? ` on ${formatIssueRef(request.ref)}` : ''
  core.summary.addHeading(`kugetsu failed${what}`, 3).addRaw(`\n${message}\n`, true)
  await publish.writeSummary().catch(() => undefined)
  if (!context?.inputs.comment || request?.kind !== 'turn') return
  if (error instanceof IssueNotFoundError) return
  try {
    await answerOnIssue(
      request.ref.number,
      failureBody(formatIssueRef(request.ref), message, context.runUrl),
      context
    )
  } catch (commentError) {
    core.warning(`could not post the failure comment: ${errorMessage(commentError)}`)
  }
}

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const startedAt = Date.now()
  let request: ActionRequest | undefined
  let context: RunContext | undefined
  const secrets = secretValuesFrom(env)
  const publish = createPublisher(secrets)
  try {
    for (const secret of secrets) core.setSecret(secret)
    const inputs = readInputs(env)
    const repo = repoContext(
      env.GITHUB_SERVER_URL || 'https://github.com',
      env.GITHUB_REPOSITORY ?? ''
    )
    const payload = readPayload(env.GITHUB_EVENT_PATH)
    context = {
      env,
      inputs,
      repo,
      runUrl: runUrlFromEnv(env),
      startedAt,
      secrets,
      isPublic: isPublicRepository(payload),
      github: createGitHub({
        token: inputs.githubToken,
        apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
        repo,
        log: core.info,
        redact: publish.redact
      }),
      publish
    }
    request = requestFromEvent(env.GITHUB_EVENT_NAME ?? '', payload, inputs, repo)

    if (request.kind === 'skip') {
      core.info(`Skipped: ${request.reason}`)
      publish.setOutputs({ skipped: 'true', 'skip-reason': request.reason })
      return
    }
    if (request.kind === 'turn') {
      const ref = formatIssueRef(request.ref)
      const decision = await authorizeTurn(request, context)
      if (!decision.allowed) {
        const turn = request
        // A refusal the lookup decided is an error of this run; any other is a quiet skip,
        // with nothing posted that a stranger's comment could make kugetsu say.
        request = undefined
        if (decision.rule === 'lookup-failed') {
          throw new KugetsuError('invalid-input', `${decision.reason}; nothing was run`)
        }
        const reason = `not authorised: ${decision.reason}`
        core.info(`Skipped ${ref}: ${reason} (comment by ${turn.author})`)
        publish.setOutputs({ skipped: 'true', 'skip-reason': reason, 'issue-ref': ref })
        return
      }
      core.info(`Authorised: ${decision.reason}`)
      const turn = request
      // Whoever ran a manual run sees its error in the run; the issue gets no comment about it.
      if (turn.source === 'dispatch') request = undefined
      const message = agentMessage(turn.message, turn.source, inputs.trigger)
      request = { ...turn, message }
      core.setOutput('issue-ref', ref)
      await handleTurn(request, context)
      return
    }
    const sessions = {
      github: context.github,
      repo,
      prefix: inputs.statePrefix,
      defaultBranch: defaultBranchFromPayload(payload),
      setOutputs: publish.setOutputs
    }
    if (request.kind === 'closed') {
      const ref = formatIssueRef(request.ref)
      return await destroySessions(request, sessions, `${ref} was closed: destroyed its session`)
    }
    if (request.command === 'init') return await handleInit(context)
    if (request.command === 'list') return await listSessions(sessions)
    if (request.command === 'prune') return await pruneSessions(baseHash(inputs), sessions)
    return await destroySessions(request.ref ? { ref: request.ref } : { base: true }, sessions)
  } catch (error) {
    await reportFailure(error, request, context, publish)
  }
}
