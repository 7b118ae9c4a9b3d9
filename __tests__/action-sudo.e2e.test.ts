/**
 * Containment where kugetsu is not root, end to end: the bundled action run as an ordinary user,
 * as on a GitHub-hosted runner (whose user has passwordless sudo, the way kugetsu makes and drops
 * the agent's user there), and as a user without it, where sandbox: user cannot hold and the run
 * says so before anything runs.
 *
 * The suite runs as root (like CI) and makes the runner's user itself; the action runs from a copy
 * of dist/ that user owns.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { REPO_ROOT, cleanupJobs } from './support/action-runner.js'
import {
  createTestBed,
  errorsOf,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import { requestText } from './support/frame-parser.js'
import type { Reply, ScriptContext } from './support/model-server.js'

const REPO = 'octo-org/octo-repo'
const RUNNER = 'kugetsu-test-runner'
const SUDOERS = `/etc/sudoers.d/${RUNNER}`
const PROVIDER_KEY = 'sk-kugetsu-sudo-provider-key-0123456789'

let bed: TestBed
let world: KugetsuWorld
let runner: { uid: number; gid: number }
let actionDir: string
let nextIssue = 60

/** `PROBE` makes the agent run one command that shows who it is and what it can reach. */
function scriptedModel({ request }: ScriptContext): Reply | undefined {
  if (!requestText(request.userTexts.at(-1) ?? '').includes('PROBE')) return undefined
  if (request.toolResults.length === 0) {
    return {
      type: 'tool',
      tool: 'bash',
      input: {
        description: 'probe',
        command: [
          'id',
          'echo probed > probe.txt',
          'sudo -n true 2>&1; echo "sudo-exit=$?"',
          `for p in $(pgrep -u ${RUNNER}); do tr '\\0' '\\n' < /proc/$p/environ 2>&1; done; echo environ-done`
        ].join('; ')
      }
    }
  }
  return { type: 'text', text: 'probed' }
}

function passwdEntry(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`))
  if (!line) return undefined
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

beforeAll(async () => {
  if (!passwdEntry(RUNNER)) execFileSync('useradd', ['--create-home', RUNNER])
  runner = passwdEntry(RUNNER) as { uid: number; gid: number }
  // a checkout, so turns work on the issue's branch and kugetsu (as the runner's user) pushes
  bed = await createTestBed({
    script: scriptedModel,
    repo: REPO,
    firstRunId: 9500,
    git: { files: { 'README.md': '# octo-repo\n' } }
  })
  world = bed.world
  world.github.state.setPermission(REPO, 'alice', 'write')
  // What the runner's user must reach of the test bed: the shim and the opencode config.
  chmodSync(bed.scratch, 0o755)
  chmodSync(dirname(bed.opencodeEnv.OPENCODE_CONFIG), 0o755)
  actionDir = mkdtempSync(join(tmpdir(), 'kugetsu-action-copy-'))
  cpSync(join(REPO_ROOT, 'dist'), join(actionDir, 'dist'), { recursive: true })
  execFileSync('chown', ['-R', `${runner.uid}:${runner.gid}`, actionDir])
  chmodSync(actionDir, 0o755)
})

afterAll(async () => {
  rmSync(SUDOERS, { force: true })
  await bed?.close()
  cleanupJobs()
  rmSync(actionDir, { recursive: true, force: true })
  execFileSync('userdel', ['--remove', RUNNER], { stdio: 'ignore' })
})

function runAsRunner(inputs: Record<string, string> = {}): Promise<WorldRun> {
  const number = nextIssue++
  const issue = world.github.state.addIssue(REPO, {
    number,
    title: `Issue ${number}`,
    body: 'Check this.',
    user: 'alice'
  })
  const comment = world.github.state.addComment(REPO, number, {
    body: '/kugetsu PROBE',
    user: 'alice'
  })
  return world.run({
    event: issueCommentEvent(world.context, issue, comment),
    inputs,
    env: { OPENAI_API_KEY: PROVIDER_KEY },
    user: runner,
    entry: join(actionDir, 'dist', 'index.js')
  })
}

const warningsOf = (run: WorldRun) =>
  run.result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)

test('with passwordless sudo, the agent runs as a user of its own and cannot read the runner’s processes', async () => {
  writeFileSync(SUDOERS, `${RUNNER} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 })
  const run = await runAsRunner()
  expect(errorsOf(run)).toEqual([])
  expect(run.result.exitCode).toBe(0)
  expect(run.outputs.response).toBe('probed')
  // kugetsu, as the runner's user, committed the agent's file and pushed it
  expect(run.outputs.commit).toMatch(/^[0-9a-f]{40}$/)
  const branch = run.outputs.branch
  expect(branch).toMatch(/^kugetsu\/issue-\d+$/)
  expect(await world.github.git.show(REPO, branch, 'probe.txt')).toBe('probed\n')
  const [probe] = run.model.flatMap((request) => request.toolResults).map((r) => r.content)
  expect(probe).toMatch(/uid=\d+\(kugetsu-[0-9a-f]{8}\)/)
  expect(probe).toMatch(/sudo-exit=[1-9]/)
  expect(probe).toContain('environ-done')
  // the action's own process is the runner's: its environment is not the agent's to read
  expect(probe).toMatch(/Permission denied/)
  expect(probe).not.toContain(world.github.token)
  expect(probe).not.toMatch(/^ACTIONS_RUNTIME_TOKEN=/m)
  // its user is gone again, and nothing failed on the way
  const agent = /uid=\d+\((kugetsu-[0-9a-f]{8})\)/.exec(probe)?.[1]
  expect(passwdEntry(agent ?? 'kugetsu-unknown')).toBeUndefined()
  expect(warningsOf(run)).not.toContainEqual(expect.stringMatching(/^could not/))
}, 180_000)

test('without root or sudo, sandbox: user fails before any work, and sandbox: off runs with a warning', async () => {
  rmSync(SUDOERS, { force: true })
  const refused = await runAsRunner()
  expect(refused.result.exitCode).toBe(1)
  expect(errorsOf(refused)).toEqual([
    expect.stringMatching(
      /^kugetsu runs as neither root nor a user with passwordless sudo, so it cannot run the agent as another user\. .*set sandbox: off/
    )
  ])
  expect(refused.model).toEqual([])

  const uncontained = await runAsRunner({ sandbox: 'off' })
  expect(errorsOf(uncontained)).toEqual([])
  expect(uncontained.outputs.response).toBe('probed')
  expect(warningsOf(uncontained)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^sandbox: off: the agent runs as the runner/)])
  )
  const [probe] = uncontained.model.flatMap((request) => request.toolResults).map((r) => r.content)
  expect(probe).toContain(`(${RUNNER})`)
}, 180_000)
