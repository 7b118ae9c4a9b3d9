import * as core from '@actions/core'
import { createGitHub } from './action/github/github.js'
import type { RetryOptions } from './action/github/github-retry.js'
import { inputFromEnv } from './action/inputs.js'
import { TRACKING_STATE, interruptedBody, runUrlFromEnv } from './action/github/tracking.js'
import { errorMessage } from './errors.js'
import { SANDBOX_STATE, releaseRecorded, type SandboxRecord } from './sandbox/sandbox.js'

/**
 * The action's `post:` step, which the runner runs after the job's steps whatever happened
 * (`post-if: always()`), also when the main step was cancelled or timed out. Its jobs: a tracking
 * comment the main step never finished gets rewritten to say the run stopped, and an agent's user
 * it never released is released. It only warns, never fails the job: the job's outcome is the
 * main step's.
 */

export type PostOutcome = 'no-tracking-comment' | 'already-done' | 'marked-interrupted' | 'failed'

export interface PostOptions {
  retry?: RetryOptions
}

/** How the runner passes what the main step saved with core.saveState. */
const stateFromEnv = (env: NodeJS.ProcessEnv, name: string) => (env[`STATE_${name}`] ?? '').trim()

/**
 * Releases the agent's sandbox when the main step was killed before it could (a release that
 * happened leaves the state empty): its processes, grants and user would outlive the job on a
 * machine that is kept.
 */
export async function releaseSandboxLeftBehind(
  env: NodeJS.ProcessEnv = process.env
): Promise<void> {
  const saved = stateFromEnv(env, SANDBOX_STATE)
  if (!saved) return
  try {
    await releaseRecorded(JSON.parse(saved) as SandboxRecord)
    core.info("Removed the agent's user the main step left behind")
  } catch (error) {
    core.warning(
      `could not remove the agent's user the main step left behind: ${errorMessage(error)}`
    )
  }
}

export async function runPost(
  env: NodeJS.ProcessEnv = process.env,
  options: PostOptions = {}
): Promise<PostOutcome> {
  const commentId = stateFromEnv(env, TRACKING_STATE.commentId)
  if (!commentId) return 'no-tracking-comment'
  if (stateFromEnv(env, TRACKING_STATE.done) === 'true') return 'already-done'
  try {
    if (!/^\d+$/.test(commentId))
      throw new Error(`the saved comment id "${commentId}" is not a number`)
    const token = inputFromEnv(env, 'github-token')
    if (!token) throw new Error('github-token is empty')
    core.setSecret(token)
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
    if (!owner || !repo) throw new Error('GITHUB_REPOSITORY is not set')

    const github = createGitHub({
      token,
      apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
      repo: { owner, repo },
      log: core.info,
      retry: options.retry
    })
    await github.updateComment(
      Number(commentId),
      interruptedBody(runUrlFromEnv(env), undefined, stateFromEnv(env, TRACKING_STATE.ref))
    )
    core.info(`Marked tracking comment ${commentId} as interrupted`)
    return 'marked-interrupted'
  } catch (error) {
    core.warning(
      `could not mark the tracking comment ${commentId} as interrupted: ${errorMessage(error)}`
    )
    return 'failed'
  }
}
