/**
 * The stand-in npm registry the no-fetch tests point opencode at: it serves what it is given,
 * answers 404 to the rest and records every request.
 */
import { createHash } from 'node:crypto'
import {
  parseRegistryPath,
  registryEnv,
  startRegistry,
  tarballManifest,
  type Registry
} from './support/registry.js'
import { gzipped, tarArchive } from './support/tar-build.js'

const manifest = { name: '@demo/pkg', version: '1.2.3', dependencies: { other: '^1.0.0' } }
const tarball = gzipped(
  tarArchive([
    { path: 'package/package.json', data: JSON.stringify(manifest) },
    { path: 'package/index.js', data: 'module.exports = 1\n' }
  ])
)

let registry: Registry
beforeEach(async () => {
  registry = await startRegistry([{ name: '@demo/pkg', version: '1.2.3', tarball, manifest }])
})
afterEach(() => registry.close())

const get = (path: string) => fetch(new URL(path.replace(/^\//, ''), registry.url))

describe('registry stand-in', () => {
  it('serves a packument whose tarball URL and integrity npm can follow', async () => {
    const res = await get('/@demo%2fpkg')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      'dist-tags': { latest: string }
      versions: Record<
        string,
        { dependencies: unknown; dist: { tarball: string; integrity: string } }
      >
    }
    expect(doc['dist-tags'].latest).toBe('1.2.3')
    const version = doc.versions['1.2.3']
    expect(version.dependencies).toEqual({ other: '^1.0.0' })
    const tgz = Buffer.from(await (await fetch(version.dist.tarball)).arrayBuffer())
    expect(tgz.equals(tarball)).toBe(true)
    expect(version.dist.integrity).toBe(
      `sha512-${createHash('sha512').update(tgz).digest('base64')}`
    )
  })

  it('records every request, with the package it was about, and 404s what it does not hold', async () => {
    expect((await get('/@demo/pkg')).status).toBe(200)
    expect((await get('/left-pad')).status).toBe(404)
    expect((await get('/@demo/pkg/-/pkg-9.9.9.tgz')).status).toBe(404)
    expect((await get('/-/npm/v1/security/advisories/bulk')).status).toBe(404)
    expect(registry.requests.map((r) => [r.kind, r.packageName, r.status])).toEqual([
      ['packument', '@demo/pkg', 200],
      ['packument', 'left-pad', 404],
      ['tarball', '@demo/pkg', 404],
      ['other', undefined, 404]
    ])
  })

  it('answers a hostile path with a recorded 404, serving nothing off its list', async () => {
    for (const path of [
      '/..%2f..%2fetc%2fpasswd',
      '/%E0%A4%A',
      '/@demo/pkg/-/..%2f..%2fpkg-1.2.3.tgz'
    ]) {
      expect((await get(path)).status).toBe(404)
    }
    expect(registry.requests).toHaveLength(3)
    expect(registry.requests.every((r) => r.status === 404)).toBe(true)
  })

  it('tells a test when a request it waits for arrives', async () => {
    const waited = registry.waitForRequest((r) => r.packageName === 'zod')
    await get('/left-pad')
    await get('/zod')
    expect((await waited).path).toBe('/zod')
    expect((await registry.waitForRequest((r) => r.packageName === 'left-pad')).status).toBe(404)
  })

  it('serves packages added later', async () => {
    registry.add({ name: 'late', version: '0.0.1', tarball })
    expect((await get('/late')).status).toBe(200)
    expect((await get('/late/-/late-0.0.1.tgz')).status).toBe(200)
  })

  it('names every registry setting npm and bun read', () => {
    const env = registryEnv('http://127.0.0.1:1/')
    for (const key of ['npm_config_registry', 'NPM_CONFIG_REGISTRY', 'BUN_CONFIG_REGISTRY']) {
      expect(env[key]).toBe('http://127.0.0.1:1/')
    }
  })
})

describe('registry paths', () => {
  it.each([
    ['/zod', { name: 'zod', kind: 'packument' }],
    ['/@opencode-ai%2fplugin', { name: '@opencode-ai/plugin', kind: 'packument' }],
    ['/@opencode-ai/plugin', { name: '@opencode-ai/plugin', kind: 'packument' }],
    ['/zod/-/zod-4.1.8.tgz', { name: 'zod', kind: 'tarball', file: 'zod-4.1.8.tgz' }],
    [
      '/@opencode-ai/sdk/-/sdk-1.0.0.tgz',
      { name: '@opencode-ai/sdk', kind: 'tarball', file: 'sdk-1.0.0.tgz' }
    ]
  ])('%s', (path, expected) => {
    expect(parseRegistryPath(path)).toEqual(expected)
  })

  it.each(['/', '/-/whoami', '/..', '/a/b/c', '/%zz'])('%s names no package', (path) => {
    expect(parseRegistryPath(path)).toBeUndefined()
  })

  it('reads the manifest of a tarball without unpacking it', () => {
    expect(tarballManifest(tarball)).toEqual(manifest)
  })
})
