/**
 * A turn fetches nothing at run time: the bundled action with the real opencode, every registry
 * setting npm, opencode's embedded npm and bun read pointed at a loopback registry that records
 * every request, and every other HTTP(S) connection sent through a loopback proxy that records
 * and refuses it. The agent's home is new each run (sandbox: user, the default), as on a fresh
 * runner; the test machine's own offline switches are taken away, so only kugetsu's count.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
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
import { bash, toolStepsScript, write } from './support/tool-steps.js'
import { gzipped, tarArchive, zstdCompressed } from './support/tar-build.js'
import type { CacheEntry } from './support/cache-server.js'
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
  const tools = toolStepsScript(
    new Map([
      ['note', [write('notes.txt', 'written offline\n')]],
      // the providers of the catalogue opencode was given (each entry opens with its id and keys)
      ['catalogue', [bash(`grep -o '"id":"[^"]*","env"' "$OPENCODE_MODELS_PATH" | sort`)]]
    ])
  )
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

/** What each tool call printed, as the model received it. */
function toolOutputs(run: WorldRun): string[] {
  return run.model
    .filter((request) => request.kind === 'chat')
    .flatMap((request) => request.toolResults.map((result) => result.content))
}

/** The provider ids a `catalogue` step listed. */
function providersIn(listed: string | undefined): string[] {
  return [...(listed ?? '').matchAll(/"id":"([^"]+)","env"/g)].map((match) => match[1])
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

  test('opencode is given only the part of its models catalogue the run can use, and works with it', async () => {
    const issue = newIssue(19, 'A short catalogue', 'Which providers does opencode know?')
    // a key for a provider of the catalogue (held by the key proxy), and the model input naming
    // another; every other provider of models.dev is left out
    const { run } = await turn(issue, '/kugetsu WORK catalogue', {})
    const [listed] = toolOutputs(run)
    expect(providersIn(listed)).toEqual(['opencode'])

    const keyed = await bed.world.run({
      event: comment(issue, '/kugetsu WORK catalogue'),
      env: { ...networkEnv, OPENROUTER_API_KEY: 'sk-or-test-0123456789abcdef' },
      inputs: {}
    })
    expectSuccess(keyed)
    expect(providersIn(toolOutputs(keyed)[0])).toEqual(['opencode', 'openrouter'])
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

describe('a repository whose .opencode has custom tools', () => {
  const TOOLS_REPO = 'octo-org/tools-repo'
  let toolsBed: TestBed
  /** The entry the cold run saved (its version is the one a planted entry must have). */
  let pluginEntry: CacheEntry | undefined

  beforeAll(async () => {
    const tools = toolStepsScript(new Map([['note', [write('notes.txt', 'written offline\n')]]]))
    toolsBed = await createTestBed({
      script: tools,
      repo: TOOLS_REPO,
      firstRunId: 16100,
      git: {
        files: {
          'README.md': '# tools-repo\n',
          // a custom tool imports the plugin package at run time
          '.opencode/tool/pinned.ts': [
            "import { tool } from '@opencode-ai/plugin'",
            'export default tool({',
            "  description: 'Says the plugin package resolved',",
            '  args: {},',
            "  async execute() { return 'resolved' }",
            '})',
            ''
          ].join('\n')
        }
      }
    })
    toolsBed.world.github.state.setPermission(TOOLS_REPO, 'alice', 'write')
    // a stand-in of the package: what the tool imports, nothing else
    const manifest = {
      name: '@opencode-ai/plugin',
      version: '1.18.33',
      type: 'module',
      main: 'index.js'
    }
    registry.add({
      name: manifest.name,
      version: manifest.version,
      manifest,
      tarball: gzipped(
        tarArchive([
          { path: 'package/package.json', data: JSON.stringify(manifest) },
          { path: 'package/index.js', data: 'export function tool(input) {\n  return input\n}\n' }
        ])
      )
    })
  })

  afterAll(async () => {
    await toolsBed?.close()
  })

  async function toolsTurn(event: ActionEvent): Promise<{ run: WorldRun; fetched: unknown[] }> {
    const mark = registry.requests.length
    const run = await toolsBed.world.run({ event, env: networkEnv })
    const errors = run.result.annotations.filter((a) => a.level === 'error')
    if (run.result.exitCode !== 0 || errors.length) {
      throw new Error(
        `the action failed (exit ${run.result.exitCode}): ${errors.map((e) => e.message).join('; ')}\n${run.result.stdout.slice(-3000)}`
      )
    }
    return {
      run,
      fetched: registry.requests.slice(mark).map((r) => `registry ${r.method} ${r.path}`)
    }
  }

  test('the plugin package is installed once, pinned, cached, and never committed', async () => {
    const issue = toolsBed.world.github.state.addIssue(TOOLS_REPO, {
      number: 19,
      title: 'Tools offline',
      body: 'Write a note.',
      user: 'alice'
    })
    const say = (body: string) => {
      const made = toolsBed.world.github.state.addComment(TOOLS_REPO, issue.number, {
        body,
        user: 'alice'
      })
      return issueCommentEvent(toolsBed.world.context, issue, made)
    }

    // cold: kugetsu's npm asks for the package and its tarball, once; opencode asks nothing
    const cold = await toolsTurn(say('/kugetsu WORK note'))
    expect(cold.fetched).toEqual([
      'registry GET /@opencode-ai%2fplugin',
      'registry GET /@opencode-ai/plugin/-/plugin-1.18.33.tgz'
    ])
    pluginEntry = cold.run.saved.find((entry) => entry.key.startsWith('kugetsu-opencode-plugin-'))
    expect(pluginEntry?.key).toMatch(/^kugetsu-opencode-plugin-1\.18\.33-linux-/)
    // the tool's import resolved: opencode offered it to the model
    expect(cold.run.model.find((r) => r.kind === 'chat')?.tools).toContain('pinned')
    const [commit] = await toolsBed.world.github.git.log(TOOLS_REPO, cold.run.outputs.branch)
    expect(commit.files).toEqual(['notes.txt'])
    const dir = join(cold.run.result.job.workspace, '.opencode')
    expect(readdirSync(dir).filter((name) => name !== '.gitignore')).toEqual(['tool'])

    // warm (a new job, an empty tool cache): the Actions cache entry, no registry at all
    const warm = await toolsTurn(say('/kugetsu and again'))
    expect(warm.fetched).toEqual([])
    expect(warm.run.model.find((r) => r.kind === 'chat')?.tools).toContain('pinned')
    expect(warm.run.saved.map((entry) => entry.key)).not.toContainEqual(
      expect.stringMatching(/^kugetsu-opencode-plugin-/)
    )
    const warmDir = join(warm.run.result.job.workspace, '.opencode')
    expect(readdirSync(warmDir).filter((name) => name !== '.gitignore')).toEqual(['tool'])
  }, 300_000)

  test('a planted entry with a ".." member is refused, warned about, and the package installed afresh', async () => {
    expect(pluginEntry).toBeDefined()
    const outside = join(toolsBed.scratch, 'outside')
    mkdirSync(outside, { recursive: true })
    const planted = toolsBed.world.cache.store.seed({
      key: `${pluginEntry!.key.replace(/\d+-\d+$/, '')}99999-1`,
      version: pluginEntry!.version,
      createdAt: new Date(Date.now() + 60_000),
      archive: zstdCompressed(
        tarArchive([
          {
            path: `opencode-plugin/1.18.33/${'../'.repeat(30)}${outside.slice(1)}/dotdot`,
            data: 'planted\n'
          }
        ])
      )
    })
    const issue = toolsBed.world.github.state.addIssue(TOOLS_REPO, {
      number: 20,
      title: 'Planted',
      body: 'Hello.',
      user: 'alice'
    })
    const made = toolsBed.world.github.state.addComment(TOOLS_REPO, issue.number, {
      body: '/kugetsu hello',
      user: 'alice'
    })
    const { run, fetched } = await toolsTurn(issueCommentEvent(toolsBed.world.context, issue, made))
    toolsBed.world.cache.store.delete(planted.id)
    expect(readdirSync(outside)).toEqual([])
    expect(
      run.result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)
    ).toContainEqual(
      expect.stringContaining(
        `the Actions cache entry ${planted.key} of @opencode-ai/plugin 1.18.33 was refused before anything was extracted`
      )
    )
    // the turn goes on with a tree of its own, from the registry the runner is configured with
    expect(fetched).toHaveLength(2)
    expect(run.model.find((r) => r.kind === 'chat')?.tools).toContain('pinned')
  }, 300_000)
})
