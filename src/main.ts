import * as core from '@actions/core'
import { repoContext, requestFromEvent, type ActionRequest } from './action/github/event.js'
import { createGitHub } from './action/github/github.js'
import { readInputs } from './action/inputs.js'
import { readRunner } from './action/runner.js'
import { trustedPath } from './sandbox/trusted-path.js'
import { secretValuesFrom } from './action/secrets/masking.js'
import { agentMessage } from './action/conversation/message.js'
import { createPublisher } from './action/secrets/publish.js'
import { defaultBranchFromPayload } from './action/github/scope.js'
import { destroySessions, listSessions, pruneSessions } from './action/sessions/sessions.js'
import {
  baseHash,
  isPublicRepository,
  readPayload,
  type RunContext,
  type TurnRequest
} from './action/stages/context.js'
import { reportFailure } from './action/stages/failure.js'
import { handleClosed } from './action/stages/closed.js'
import { authorizePerson } from './action/stages/gate.js'
import { forgetIssue } from './action/stages/forget.js'
import { handleInit } from './action/stages/init.js'
import { handleTurn } from './action/stages/turn.js'
import { readSessionIndex } from './action/stages/session-index-store.js'
import { runUrlFromEnv } from './action/github/tracking.js'
import { commandOf, runCommand } from './action/commands/commands.js'
import { ownTurnRunningAt } from './action/github/self-trigger.js'
import { KugetsuError } from './errors.js'
import { formatIssueRef } from './refs.js'

/**
 * Why a comment must not be answered because the agent posted it (see self-trigger.ts), or
 * undefined. Only an agent given the token can post, so only then is the API asked.
 */
async function selfTriggered(
  request: TurnRequest,
  context: RunContext
): Promise<string | undefined> {
  if (!context.inputs.exposeGithubToken || !request.comment) return undefined
  const { id, createdAt } = request.comment
  const turn = await ownTurnRunningAt({ id, author: request.author, createdAt }, (since) =>
    context.github.commentsSince(since)
  )
  if (!turn) return undefined
  return `the comment was posted by kugetsu's own account (${request.author}) while its turn ran (comment ${turn.id}): the agent posted it, and kugetsu does not answer itself. Ask again once kugetsu has replied`
}

/**
 * kugetsu's own commands are found only where the agent cannot write (see trusted-path.ts); the
 * agent keeps the workflow's PATH.
 */
function useTrustedPath(env: NodeJS.ProcessEnv, workspace: string): void {
  const trusted = trustedPath(env.PATH, [workspace])
  if (trusted.dropped.length === 0) return
  core.info(
    `kugetsu runs its own commands without ${trusted.dropped.join(', ')} on PATH (the agent can write there); the agent keeps them`
  )
  env.PATH = trusted.path
}

/** Who started the run: the payload's sender, else GITHUB_ACTOR. */
function senderOf(payload: unknown, env: NodeJS.ProcessEnv): string {
  const login = (payload as { sender?: { login?: unknown } } | undefined)?.sender?.login
  return typeof login === 'string' && login !== '' ? login : env.GITHUB_ACTOR || 'unknown'
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
    const runner = readRunner(env, inputs.workingDirectory)
    const agentPath = env.PATH
    if (inputs.sandbox === 'user') useTrustedPath(env, runner.workspace)
    const repo = repoContext(runner.serverUrl, runner.repository)
    const payload = readPayload(runner.eventPath)
    context = {
      env,
      inputs,
      runner,
      agentPath,
      repo,
      runUrl: runUrlFromEnv(env),
      startedAt,
      secrets,
      isPublic: isPublicRepository(payload),
      github: createGitHub({
        token: inputs.githubToken,
        apiUrl: runner.apiUrl,
        forge: runner.forge,
        repo,
        log: core.info,
        redact: publish.redact
      }),
      publish
    }
    context.defaultBranch = defaultBranchFromPayload(payload)
    request = requestFromEvent(runner.eventName, payload, inputs, repo)

    if (request.kind === 'skip') {
      core.info(`Skipped: ${request.reason}`)
      publish.setOutputs({ skipped: 'true', 'skip-reason': request.reason })
      return
    }
    if (request.kind === 'turn') {
      const ref = formatIssueRef(request.ref)
      const decision = await authorizePerson(
        { login: request.author, userType: request.authorType, commentBody: request.comment?.body },
        context
      )
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
      const loop = await selfTriggered(request, context)
      if (loop) {
        request = undefined
        core.info(`Skipped ${ref}: ${loop}`)
        publish.setOutputs({ skipped: 'true', 'skip-reason': loop, 'issue-ref': ref })
        return
      }
      const command = commandOf(request, inputs.trigger)
      if (command) return await runCommand(command, request, context)
      const message = agentMessage(request.message, request.source, inputs.trigger)
      request = { ...request, message }
      core.setOutput('issue-ref', ref)
      await handleTurn(request, context)
      return
    }
    const sessions = {
      github: context.github,
      forge: runner.forge,
      repo,
      prefix: inputs.statePrefix,
      defaultBranch: context.defaultBranch,
      deleteBranch: inputs.deleteBranch ? { prefix: inputs.branchPrefix } : undefined,
      setOutputs: publish.setOutputs,
      readIndex: () => readSessionIndex(context!)
    }
    if (request.kind === 'closed') return await handleClosed(request, context, sessions)
    if (request.command === 'init') return await handleInit(context)
    if (request.command === 'list') return await listSessions(sessions)
    if (request.command === 'prune') return await pruneSessions(baseHash(inputs), sessions)
    if (!request.ref) return await destroySessions({ base: true }, sessions)
    // Forgotten first, through the cache protocol: the deletions after only free space.
    const { key } = await forgetIssue(context, request.ref, 'destroy', senderOf(payload, env))
    return await destroySessions({ ref: request.ref, tombstone: key }, sessions)
  } catch (error) {
    await reportFailure(error, request, context, publish)
  }
}
