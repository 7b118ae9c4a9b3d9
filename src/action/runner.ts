/**
 * What the runner tells a step through its environment, read once (next to the inputs) so the
 * stages never reach for a variable of their own.
 */
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { detectForge, type Forge } from './github/forge.js'

export interface Runner {
  /** Which forge runs the workflow (see forge.ts). */
  forge: Forge
  /** The forge's web address (GITHUB_SERVER_URL), without a trailing slash. */
  serverUrl: string
  apiUrl: string
  /** `owner/repo`. */
  repository: string
  eventName: string
  eventPath?: string
  runId: string
  /** The run's number in the repository (GITHUB_RUN_NUMBER): Gitea and Forgejo link runs by it. */
  runNumber: string
  runAttempt: string
  /** Where a step may keep temporary files (RUNNER_TEMP). */
  temp: string
  /** The workflow's checkout (GITHUB_WORKSPACE). */
  workspace: string
  /** The directory opencode works in: the workspace, or `working-directory` in it. */
  workingDirectory: string
}

export function readRunner(env: NodeJS.ProcessEnv, workingDirectory = ''): Runner {
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  return {
    forge: detectForge(env),
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    repository: env.GITHUB_REPOSITORY ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    eventPath: env.GITHUB_EVENT_PATH || undefined,
    runId: env.GITHUB_RUN_ID ?? '0',
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    temp: env.RUNNER_TEMP || tmpdir(),
    workspace,
    workingDirectory: workingDirectory ? resolve(workspace, workingDirectory) : workspace
  }
}
