/**
 * A turn fetches nothing at run time: the bundled action with the real opencode, every registry
 * setting npm, opencode's embedded npm and bun read pointed at a loopback registry that records
 * every request, and every other HTTP(S) connection sent through a loopback proxy that records
 * and refuses it. The agent's home is new each run (sandbox: user, the default), as on a fresh
 * runner; the test machine's own offline switches are taken away, so only kugetsu's count.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { cleanupJobs, type ActionEvent } from './support/action-runner.js'
import {
  createTestBed,
  issueCommentEvent,
  realOpencodeBinary,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import type { Issue } from './support/github-api.js'
import { createOpencodeEnv } from './support/opencode-env.js'
import { registryEnv, startRegistry, type Registry } from './support/registry.js'

const REPO = 'octo-org/octo-repo'
const LOOPBACK = '127.0.0.1,localhost'

/** A forward proxy that records every connection asked of it and refuses it. */
async function startRefusingProxy() {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  server.on('connect', (req, socket) => {
    socket.on('error', () => undefined)
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Refused\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    seen,
    env: {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: LOOPBACK,
      no_proxy: LOOPBACK
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

let bed: TestBed
let registry: Registry
let proxy: Awaited<ReturnType<typeof startRefusingProxy>>
/** The workflow's environment: what the test machine set to keep opencode offline, taken away. */
let networkEnv: Record<string, string | undefined>

beforeAll(async () => {
  // the control's message is never answered: its opencode runs until the test has seen enough
  bed = await createTestBed({
    script: ({ request }) =>
      request.userTexts.at(-1)?.includes('CONTROL') ? { type: 'hang' } : undefined,
    repo: REPO,
    firstRunId: 16000
  })
  bed.world.github.state.setPermission(REPO, 'alice', 'write')
  registry = await startRegistry()
  proxy = await startRefusingProxy()
  networkEnv = {
    npm_config_offline: undefined,
    OPENCODE_DISABLE_MODELS_FETCH: undefined,
    OPENCODE_DISABLE_AUTOUPDATE: undefined,
    OPENCODE_DISABLE_SHARE: undefined,
    OPENCODE_DISABLE_LSP_DOWNLOAD: undefined,
    OPENCODE_DISABLE_DEFAULT_PLUGINS: undefined,
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

function comment(issue: Issue, body: string): ActionEvent {
  const made = bed.world.github.state.addComment(REPO, issue.number, { body, user: 'alice' })
  return issueCommentEvent(bed.world.context, issue, made)
}

/** Runs one turn and returns it with the registry and proxy requests made while it ran. */
async function turn(event: ActionEvent): Promise<{ run: WorldRun; fetched: unknown[] }> {
  const marks = { registry: registry.requests.length, proxy: proxy.seen.length }
  const run = await bed.world.run({ event, env: networkEnv })
  const errors = run.result.annotations.filter((a) => a.level === 'error')
  if (run.result.exitCode !== 0 || errors.length) {
    throw new Error(
      `the action failed (exit ${run.result.exitCode}): ${errors.map((e) => e.message).join('; ')}\n${run.result.stdout.slice(-3000)}`
    )
  }
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
    const issue = bed.world.github.state.addIssue(REPO, {
      number: 16,
      title: 'Fetch nothing',
      body: 'A fresh runner is as fast as a warm machine.',
      user: 'alice'
    })
    const first = await turn(comment(issue, '/kugetsu say hello'))
    expect(first.run.model.some((r) => r.kind === 'chat')).toBe(true)
    expect(first.fetched).toEqual([])

    const next = await turn(comment(issue, '/kugetsu and again'))
    expect(next.run.model.some((r) => r.kind === 'chat')).toBe(true)
    expect(next.fetched).toEqual([])
  }, 300_000)
})
