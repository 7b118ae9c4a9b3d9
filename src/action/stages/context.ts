/**
 * What every stage of a run shares: its inputs, the repository, the GitHub client, where it
 * publishes, and the facts derived from them once.
 */
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { DEFAULT_BASE_PROMPT, hashPrompt } from '../../engine.js'
import { KugetsuError, errorMessage } from '../../errors.js'
import { stateKeys, type StateKeys } from '../cache/cache-state.js'
import type { ActionRequest, RepoContext } from '../github/event.js'
import type { GitHub, PostedComment } from '../github/github.js'
import type { ActionInputs } from '../inputs.js'
import type { Runner } from '../runner.js'
import type { Publisher } from '../secrets/publish.js'

export type TurnRequest = Extract<ActionRequest, { kind: 'turn' }>

export interface RunContext {
  env: NodeJS.ProcessEnv
  inputs: ActionInputs
  runner: Runner
  /** The workflow's PATH, for the agent (kugetsu's own may leave out what the agent can write). */
  agentPath?: string
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
  /** The default branch as the event payload names it (read through the API when absent). */
  defaultBranch?: string
  /** The "working on it" comment of this run, to be edited into the reply or the failure. */
  tracking?: PostedComment
}

export const loadCache = () => import('@actions/cache')

export function readPayload(path: string | undefined): unknown {
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
export function baseHash(inputs: ActionInputs): string {
  const sealed = inputs.stateKey ? '\nsealed' : ''
  return hashPrompt(`${inputs.model}\n${inputs.basePrompt || DEFAULT_BASE_PROMPT}${sealed}`)
}

/** The cache keys this run reads and writes. */
export function runKeys(context: RunContext): StateKeys {
  const { runner, inputs } = context
  return stateKeys(inputs.statePrefix, runner.runId, runner.runAttempt)
}

/* eslint-disable @typescript-eslint/no-explicit-any -- webhook payloads are untyped JSON */
export function isPublicRepository(payload: any): boolean {
  const repository = payload?.repository
  return repository?.private === false || repository?.visibility === 'public'
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** On a public repository without a state-key, cached sessions can be read by pull-request runs. */
export function warnIfUnsealed(context: RunContext): void {
  if (!context.isPublic || context.inputs.stateKey) return
  const warning =
    'This repository is public and state-key is not set: the cached sessions are stored unencrypted, ' +
    'and workflows run for pull requests can read the default branch\u2019s caches. ' +
    'Set state-key from a secret (openssl rand -base64 32) to encrypt them.'
  core.warning(warning)
  core.summary.addRaw(`\n> [!WARNING]\n> ${warning}\n`, true)
}
