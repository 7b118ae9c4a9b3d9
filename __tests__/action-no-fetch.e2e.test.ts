/**
 * A turn fetches nothing at run time: the bundled action with the real opencode, every registry
 * setting npm, opencode's embedded npm and bun read pointed at a loopback registry that records
 * every request, and every other HTTP(S) connection sent through a loopback proxy that records
 * and refuses it. The agent's home is new each run (sandbox: user, the default), as on a fresh
 * runner; the test machine's own offline switches are taken away, so only kugetsu's count.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupJobs, type ActionEvent } from './support/action-runner.js'
import {
  createTestBed,
  expectSuccess,
  issueCommentEvent,
  realOpencodeBinary,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import type { Issue } from './support/github-api.js'
import { toolStepsScript, write } from './support/tool-steps.js'
import { createOpencodeEnv } from './support/opencode-env.js'
import { registryEnv, startRegistry, type Registry } from './support/registry.js'
import {
  startRefusingProxy,
  WITHOUT_OFFLINE_SWITCHES,
  type RefusingProxy
} from './support/refusing-proxy.js'

const REPO = 'octo-org/octo-repo'
let bed: TestBed
let registry: Registry
let proxy: RefusingProxy
/** The workflow's environment: what the test machine set to keep opencode offline, taken away. */
let networkEnv: Record<string, string | undefined>

beforeAll(async () => {
  // the control's message is never answered: its opencode runs until the test has seen enough
  const tools = toolStepsScript(new Map([['note', [write('notes.txt', 'written offline\n')]]]))
  bed = await createTestBed({
    script: (context) =>
      context.request.userTexts.at(-1)?.includes('CONTROL') ? { type: 'hang' } : tools(context),
    repo: REPO,
    firstRunId: 16000,
    // opencode installs its plugin package into a repository's .opencode/ too, on every start
    git: {
      files: {
        'README.md': '# octo-repo\n',
        '.opencode/agent/reviewer.md': '---\ndescription: Reviews changes\n---\nReview the diff.\n'
      }
    }
  })
  bed.world.github.state.setPermission(REPO, 'alice', 'write')
  registry = await startRegistry()
  proxy = await startRefusingProxy()
  networkEnv = {
    ...WITHOUT_OFFLINE_SWITCHES,
    ...registryEnv(registry.url),
    ...proxy.env
  }
})

afterAll(async () => {
  await bed?.close()
  await registry?.close()
  await proxy?.close()
  cleanupJobs()
})

/** An issue alice opened. */
function newIssue(number: number, title: string, body: string): Issue {
  return bed.world.github.state.addIssue(REPO, { number, title, body, user: 'alice' })
}

function comment(issue: Issue, body: string): ActionEvent {
  const made = bed.world.github.state.addComment(REPO, issue.number, { body, user: 'alice' })
  return issueCommentEvent(bed.world.context, issue, made)
}

/**
 * Runs the turn alice's comment on the issue starts, and returns it with the registry and proxy
 * requests made while it ran.
 */
async function turn(
  issue: Issue,
  message: string,
  inputs: Record<string, string> = {}
): Promise<{ run: WorldRun; fetched: unknown[] }> {
  const event = comment(issue, message)
  const marks = { registry: registry.requests.length, proxy: proxy.seen.length }
  const run = await bed.world.run({ event, env: networkEnv, inputs })
  expectSuccess(run)
  const fetched = [
    ...registry.requests.slice(marks.registry).map((r) => `registry ${r.method} ${r.path}`),
    ...proxy.seen.slice(marks.proxy).map((line) => `proxy ${line}`)
  ]
  return { run, fetched }
}

describe('a turn on a fresh home', () => {
  test('opencode alone, with the same settings, fetches its plugin package from the registry', async () => {
    // the control: without kugetsu's preparation the stand-in is asked (so silence means something)
    const machine = await createOpencodeEnv({ baseURL: bed.model.baseURL })
    try {
      const env = { ...machine.env, ...networkEnv }
      for (const [name, value] of Object.entries(networkEnv))
        if (value === undefined) delete env[name]
      const cwd = await machine.makeProject()
      const asked = registry.waitForRequest((r) => r.packageName === '@opencode-ai/plugin')
      const child = spawn(realOpencodeBinary(), ['run', '--format', 'json', 'CONTROL'], {
        cwd,
        env: { ...env, PWD: cwd },
        stdio: 'ignore'
      })
      const exited = new Promise((resolve) => child.on('close', resolve))
      const request = await Promise.race([asked, exited.then(() => undefined)])
      child.kill('SIGKILL')
      await exited
      expect(request).toMatchObject({ kind: 'packument', status: 404 })
    } finally {
      await machine.cleanup()
    }
  }, 60_000)

  test('the first turn of an issue and the next make no request to a registry or beyond loopback', async () => {
    const issue = newIssue(16, 'Fetch nothing', 'A fresh runner is as fast as a warm machine.')
    const first = await turn(issue, '/kugetsu say hello')
    expect(first.run.model.some((r) => r.kind === 'chat')).toBe(true)
    expect(first.fetched).toEqual([])

    const next = await turn(issue, '/kugetsu and again')
    expect(next.run.model.some((r) => r.kind === 'chat')).toBe(true)
    expect(next.fetched).toEqual([])
  }, 300_000)

  test("with sandbox: off, the runner's new home is seeded for the turn and left as it was", async () => {
    const issue = newIssue(17, 'Fetch nothing, uncontained', 'The agent runs as the runner.')
    for (const message of ['/kugetsu say hello', '/kugetsu and again']) {
      const { run, fetched } = await turn(issue, message, { sandbox: 'off' })
      expect(run.model.some((r) => r.kind === 'chat')).toBe(true)
      expect(fetched).toEqual([])
      // the seed went with the turn: opencode's global config dir holds only what opencode made
      const configDir = join(run.result.job.home, '.config', 'opencode')
      expect(
        readdirSync(configDir).filter((name) => !/^(opencode\.jsonc?|\.gitignore)$/.test(name))
      ).toEqual([])
    }
  }, 300_000)

  test("a repository's .opencode dir is seeded for the turn, and the seed is never committed", async () => {
    const issue = newIssue(18, 'Work offline', 'Write a note.')
    const { run, fetched } = await turn(issue, '/kugetsu WORK note')
    expect(fetched).toEqual([])
    const branch = run.outputs.branch
    const [commit] = await bed.world.github.git.log(REPO, branch)
    expect(commit.files).toEqual(['notes.txt'])
    // the checkout's .opencode is as the repository has it, apart from opencode's own ignore file
    const dir = join(run.result.job.workspace, '.opencode')
    expect(readdirSync(dir).filter((name) => name !== '.gitignore')).toEqual(['agent'])
  }, 300_000)
})
