/**
 * Containment, end to end: the bundled action with the real opencode, run as root like CI runs it,
 * where the scripted model makes the agent try what a stranger's text could steer it to. Each
 * attempt fails or shows nothing secret, and the turn still gets its answer from the model.
 *
 * The agent runs as a user kugetsu makes for the run (sandbox: user), so: no credentials in any
 * environment it can read (its own, other processes' through /proc), no sudo, no runner files, no
 * way to write the job's GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STATE, nothing of kugetsu's own dirs.
 * Afterwards the workspace is the runner's again, and the user, its processes and its grants are
 * gone.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanupJobs, runPost, type ActionEvent } from './support/action-runner.js'
import {
  createTestBed,
  expectSuccess,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import { requestText } from './support/frame-parser.js'
import type { Issue } from './support/github-api.js'
import type { Reply, ScriptContext } from './support/model-server.js'

const REPO = 'octo-org/octo-repo'
const PROVIDER_KEY = 'sk-kugetsu-containment-provider-key-0123456789'
const STATE_KEY = 'state-key-for-containment-0123456789abcdef'
const RUNNER_SECRET = 'runner-credential-0123456789abcdef'
const ATTACK = 'ATTACK'

let bed: TestBed
let world: KugetsuWorld
let privateDir: string
let credentials: string

/** The commands an attack runs, one bash call each, in order: named by the test's message. */
const attacks = new Map<string, string[]>()

/**
 * `ATTACK <name>` makes the agent run that attack's commands one after the other; then it answers
 * with every output it saw.
 */
function scriptedModel({ request }: ScriptContext): Reply | undefined {
  const last = requestText(request.userTexts.at(-1) ?? '')
  if (last.includes('HANG')) return { type: 'hang' }
  const name = new RegExp(`${ATTACK} (\\S+)`).exec(last)?.[1]
  const commands = name ? attacks.get(name) : undefined
  if (!commands) return undefined
  const messages = request.body.messages ?? []
  const lastUser = messages.map((message) => message.role).lastIndexOf('user')
  const outputs = messages.slice(lastUser + 1).filter((message) => message.role === 'tool')
  if (outputs.length < commands.length) {
    return {
      type: 'tool',
      tool: 'bash',
      input: { command: commands[outputs.length], description: `attack step ${outputs.length}` }
    }
  }
  return { type: 'text', text: `attack ${name} done` }
}

beforeAll(async () => {
  bed = await createTestBed({ script: scriptedModel, repo: REPO, firstRunId: 9000 })
  world = bed.world
  world.github.state.setPermission(REPO, 'alice', 'write')
  // A runner file only its user may read, in a directory others may enter (.credentials).
  privateDir = mkdtempSync(join(tmpdir(), 'kugetsu-runner-files-'))
  chmodSync(privateDir, 0o755)
  credentials = join(privateDir, '.credentials')
  writeFileSync(credentials, RUNNER_SECRET, { mode: 0o600 })
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
  rmSync(privateDir, { recursive: true, force: true })
})

let nextIssue = 40
function newIssue(): Issue {
  const number = nextIssue++
  return world.github.state.addIssue(REPO, {
    number,
    title: `Issue ${number}`,
    body: 'Please look into this.',
    user: 'alice'
  })
}

function commentOn(issue: Issue, body: string): ActionEvent {
  const comment = world.github.state.addComment(REPO, issue.number, { body, user: 'alice' })
  return issueCommentEvent(world.context, issue, comment)
}

/** What each bash call printed, in order, as the model received it. */
function toolOutputs(run: WorldRun): string[] {
  return run.model
    .filter((request) => request.kind === 'chat')
    .flatMap((request) => request.toolResults.map((result) => result.content))
}

/**
 * opencode's own permission rules would refuse many of these commands (paths outside the working
 * directory); they are lifted here, since the OS user is what must hold against an agent that
 * finds a way around them.
 */
const ALLOW_EVERYTHING = JSON.stringify({ permission: { external_directory: 'allow' } })

function attack(name: string, commands: string[], inputs: Record<string, string> = {}) {
  attacks.set(name, commands)
  const issue = newIssue()
  return world.run({
    event: commentOn(issue, `/kugetsu ${ATTACK} ${name}`),
    inputs: { 'state-key': STATE_KEY, 'opencode-config': ALLOW_EVERYTHING, ...inputs },
    env: { OPENAI_API_KEY: PROVIDER_KEY }
  })
}

const resultsUrl = () => world.cache.envFor('v2').ACTIONS_RESULTS_URL

function kugetsuUsers(): string[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':')[0])
    .filter((name) => name.startsWith('kugetsu-'))
}

describe.each([
  ['opencode serve', 'true'],
  ['opencode per command', 'false']
])('the agent, contained (%s)', (_mode, serve) => {
  test('reaches no credential, no runner file and nothing of kugetsu, and still answers', async () => {
    const run = await attack(
      `secrets-${serve}`,
      [
        'id; echo "uid=$(id -u)"',
        "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\" 2>/dev/null; done; echo environ-done",
        'ps eww -A 2>&1 | head -c 200000; echo ps-done',
        'sudo -n true 2>&1; echo "sudo-exit=$?"',
        `cat ${credentials} 2>&1; echo "cat-exit=$?"`,
        'env; echo env-done',
        'for f in "$RUNNER_TEMP"/_runner_file_commands/*; do echo PWNED=1 >> "$f" 2>&1 && echo "wrote $f"; done; echo files-done',
        'ls "$RUNNER_TEMP"/kugetsu-*/state 2>&1; cat "$RUNNER_TEMP"/kugetsu-*/state/*/* 2>&1; echo kugetsu-done',
        // the cache service, with whatever runtime token it can find (none): a planted entry
        // would run in every later run of the repository
        `tok=$(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | sed -n 's/^ACTIONS_RUNTIME_TOKEN=//p' | head -n 1); curl -s -m 20 -X POST -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"key":"kugetsu-opencode-planted","version":"x"}' -w ' http=%{http_code}' ${resultsUrl()}twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry 2>&1`
      ],
      { 'opencode-serve': serve }
    )
    expectSuccess(run)
    expect(run.outputs.response).toBe(`attack secrets-${serve} done`)
    const outputs = toolOutputs(run)
    expect(outputs).toHaveLength(9)
    const [id, environ, ps, sudo, cat, env, files, kugetsu, cacheService] = outputs

    // another user, with no group of root's
    expect(id).toMatch(/uid=\d+\(kugetsu-[0-9a-f]{8}\)/)
    expect(id).not.toMatch(/uid=0\b|\(root\)/)
    expect(environ).toContain('environ-done')
    expect(ps).toContain('ps-done')
    expect(sudo).toMatch(/sudo-exit=[1-9]/)
    expect(cat).toMatch(/Permission denied/)
    expect(cat).toMatch(/cat-exit=1/)
    expect(files).not.toContain('wrote ')
    expect(files).toMatch(/Permission denied/)
    expect(kugetsu).toMatch(/Permission denied/)
    expect(kugetsu).toContain('kugetsu-done')
    expect(cacheService).toMatch(/http=401$/)
    expect(world.cache.entries.map((entry) => entry.key)).not.toContain('kugetsu-opencode-planted')

    const everything = outputs.join('\n')
    for (const secret of [PROVIDER_KEY, STATE_KEY, world.github.token, RUNNER_SECRET]) {
      expect(everything).not.toContain(secret)
    }
    expect(everything).not.toMatch(/^(ACTIONS_RUNTIME_TOKEN|ACTIONS_ID_TOKEN_REQUEST_TOKEN)=/m)
    expect(everything).not.toMatch(/^(ACTIONS_CACHE_URL|ACTIONS_RESULTS_URL)=/m)
    expect(everything).not.toMatch(/^INPUT_/m)
    expect(env).not.toMatch(/^(GITHUB_ENV|GITHUB_OUTPUT|GITHUB_STATE|GITHUB_PATH)=/m)
    // what the step exported and saved is the action's own
    expect(JSON.stringify(run.result.exportedEnv)).not.toContain('PWNED')
    expect(JSON.stringify(run.outputs)).not.toContain('PWNED')

    // the run's user is gone again, with its grants, and nothing failed on the way
    const agent = /uid=\d+\((kugetsu-[0-9a-f]{8})\)/.exec(id)?.[1]
    expect(kugetsuUsers()).not.toContain(agent)
    expect(run.result.annotations.map((a) => a.message)).not.toContainEqual(
      expect.stringMatching(/^could not/)
    )
  }, 180_000)
})

test('what the agent leaves in the workspace is the runner’s; its processes and grants are gone', async () => {
  const marker = `kugetsu-left-${process.pid}`
  const run = await attack('leftovers', [
    `echo made > made-by-agent.txt && mkdir -p made/sub && echo deep > made/sub/file && (setsid sh -c 'exec -a ${marker} sleep 300' >/dev/null 2>&1 &) ; echo left`
  ])
  expectSuccess(run)
  const workspace = run.result.job.workspace
  for (const path of ['made-by-agent.txt', 'made', 'made/sub', 'made/sub/file']) {
    const info = statSync(join(workspace, path))
    expect({ path, uid: info.uid }).toEqual({ path, uid: process.getuid?.() })
    expect(
      execFileSync('getfacl', ['-cp', join(workspace, path)], { encoding: 'utf8' })
    ).not.toMatch(/kugetsu-|user:\d+:/)
  }
  // no grant is left on the workspace or any directory above it
  for (let dir = workspace; dir !== '/'; dir = join(dir, '..')) {
    expect(execFileSync('getfacl', ['-cp', dir], { encoding: 'utf8' })).not.toMatch(
      /^user:(kugetsu-|\d+:)/m
    )
  }
  const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  expect(processes).not.toContain(marker)
}, 180_000)

test('a step killed outright leaves its agent behind, and the post step removes it', async () => {
  const issue = newIssue()
  const killed = await world.run({
    event: commentOn(issue, '/kugetsu HANG while the step is killed'),
    inputs: { 'state-key': STATE_KEY },
    timeoutMs: 20_000,
    killSignal: 'SIGKILL'
  })
  expect(killed.result.timedOut).toBe(true)
  const record = JSON.parse(killed.result.state.sandbox) as {
    user: { name: string; uid: number }
  }
  expect(kugetsuUsers()).toContain(record.user.name)

  const post = await runPost(killed.result, { entry: 'dist/post/index.js' })
  expect(post.exitCode).toBe(0)
  expect(post.stdout).toContain("Removed the agent's user the main step left behind")
  expect(kugetsuUsers()).not.toContain(record.user.name)
  const left = execFileSync('ps', ['-eo', 'uid='], { encoding: 'utf8' })
    .split('\n')
    .map((uid) => Number(uid.trim()))
  expect(left).not.toContain(record.user.uid)
  const workspace = killed.result.job.workspace
  for (let dir = workspace; dir !== '/'; dir = join(dir, '..')) {
    expect(execFileSync('getfacl', ['-cp', dir], { encoding: 'utf8' })).not.toMatch(
      /^user:(kugetsu-|\d+:)/m
    )
  }
}, 180_000)
