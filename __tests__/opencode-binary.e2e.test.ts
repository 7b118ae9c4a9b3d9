import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  defaultToolDir,
  installDir,
  OPENCODE_VERSION,
  packageVersion,
  platformPackages,
  resolveOpencodeBinary,
  tarballDir
} from '../src/opencode/binary.js'
import { OPENCODE_VERSION as FROM_VERSION_MODULE } from '../src/opencode/version.js'

/** Where sh, mkdir and chmod live, and no opencode. */
const SYSTEM_PATH = ['/usr/bin', '/bin'].join(path.delimiter)
let root: string
let counter = 0

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kugetsu-binary-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function fresh(name: string): Promise<string> {
  const dir = path.join(root, `${name}-${++counter}`)
  await mkdir(dir, { recursive: true })
  return dir
}

async function script(file: string, body: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, `#!/bin/sh\n${body}\n`)
  await chmod(file, 0o755)
  return file
}

/** A fake opencode printing a version. */
const fakeOpencode = (file: string, version: string) => script(file, `echo ${version}`)

/**
 * A fake npm (a node script): logs its invocations; `pack NAME@V --pack-destination DIR` writes a
 * tarball like the registry's (package/bin/opencode, a script printing V, and package.json), and
 * `view NAME@V dist.integrity` prints that tarball's integrity, as the registry would. Modes:
 * `fail` answers everything with a 404; `tamper` publishes one integrity and packs other bytes;
 * `first-broken` packs a first platform package whose binary cannot run on this machine.
 */
async function fakeNpm(
  dir: string,
  mode: 'ok' | 'fail' | 'tamper' | 'first-broken' = 'ok'
): Promise<{ npm: string; log: string }> {
  const log = path.join(dir, 'npm.log')
  const store = path.join(dir, 'npm-store')
  const npm = path.join(dir, 'npm')
  await writeFile(
    npm,
    `#!${process.execPath}
const { appendFileSync, mkdirSync, readFileSync, writeFileSync, chmodSync, existsSync } = require('node:fs')
const { execFileSync } = require('node:child_process')
const { createHash } = require('node:crypto')
const path = require('node:path')
const args = process.argv.slice(2)
appendFileSync(${JSON.stringify(log)}, args.join(' ') + '\\n')
const mode = ${JSON.stringify(mode)}
if (mode === 'fail') {
  process.stderr.write('npm error code E404\\nnpm error 404 Not Found - ' + args[1] + '\\n')
  process.exit(1)
}
const [name, version] = args[1].split(/@(?=[^@]*$)/)
const store = ${JSON.stringify(store)}
const tarball = path.join(store, name + '-' + version + '.tgz')
if (args[0] === 'pack') {
  const work = path.join(store, name)
  mkdirSync(path.join(work, 'package', 'bin'), { recursive: true })
  const broken = mode === 'first-broken' && name === ${JSON.stringify(platformPackages()[0])}
  writeFileSync(path.join(work, 'package', 'bin', 'opencode'), broken ? '#!/bin/sh\\nexit 1\\n' : '#!/bin/sh\\necho ' + version + '\\n')
  chmodSync(path.join(work, 'package', 'bin', 'opencode'), 0o755)
  writeFileSync(path.join(work, 'package', 'package.json'), JSON.stringify({ name, version }))
  execFileSync('tar', ['-czf', tarball, '-C', work, 'package'])
  const destination = args[args.indexOf('--pack-destination') + 1]
  writeFileSync(path.join(destination, name + '-' + version + '.tgz'), readFileSync(tarball))
  if (mode === 'tamper') writeFileSync(tarball, 'what was published')
  process.stdout.write(name + '-' + version + '.tgz\\n')
} else if (args[0] === 'view') {
  if (!existsSync(tarball)) { process.stderr.write('npm error 404\\n'); process.exit(1) }
  process.stdout.write('sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64') + '\\n')
} else {
  process.exit(1)
}
`
  )
  await chmod(npm, 0o755)
  await mkdir(store, { recursive: true })
  return { npm, log }
}

/** A version kugetsu ships no digests for: the registry's integrity is asked (of the fake npm). */
const OTHER_VERSION = '9.9.9'

/**
 * A file that looks like a native binary (ELF header) but cannot run: if kugetsu took its
 * version by running it, it would get none. Executable, so PATH lookups find it.
 */
async function nativeLookalike(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]))
  await chmod(file, 0o755)
  return file
}

/** An npm package dir `<modules>/<name>` with a package.json. */
async function npmPackage(modules: string, name: string, version: string): Promise<string> {
  const dir = path.join(modules, name)
  await mkdir(path.join(dir, 'bin'), { recursive: true })
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version }))
  return dir
}

const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode'

const invocations = async (log: string) =>
  (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean)

describe('resolveOpencodeBinary', () => {
  it('pins the version in one place', () => {
    expect(OPENCODE_VERSION).toBe('1.18.33')
    expect(FROM_VERSION_MODULE).toBe(OPENCODE_VERSION)
  })

  it('uses an explicit path (option or KUGETSU_OPENCODE_BIN) as given', async () => {
    const dir = await fresh('explicit')
    const binary = await fakeOpencode(path.join(dir, 'oc'), '0.0.1')
    expect(await resolveOpencodeBinary({ env: { KUGETSU_OPENCODE_BIN: binary } })).toEqual({
      path: binary,
      source: 'explicit'
    })
    expect(
      (await resolveOpencodeBinary({ binaryPath: binary, env: { KUGETSU_OPENCODE_BIN: '/nope' } }))
        .path
    ).toBe(binary)
    await expect(
      resolveOpencodeBinary({ env: { KUGETSU_OPENCODE_BIN: path.join(dir, 'missing') } })
    ).rejects.toMatchObject({ code: 'binary-missing' })
  })

  it('takes opencode from PATH only when its version is the wanted one', async () => {
    const dir = await fresh('path')
    const wrong = await fakeOpencode(path.join(dir, 'a', 'opencode'), '1.0.0')
    const right = await fakeOpencode(path.join(dir, 'b', 'opencode'), OPENCODE_VERSION)
    const env = {
      PATH: [path.dirname(wrong), path.dirname(right), process.env.PATH].join(path.delimiter)
    }
    expect(await resolveOpencodeBinary({ env, install: false, toolDir: dir })).toEqual({
      path: right,
      version: OPENCODE_VERSION,
      source: 'path'
    })
    await expect(
      resolveOpencodeBinary({
        env: { PATH: path.dirname(wrong) },
        install: false,
        toolDir: path.join(dir, 'tools')
      })
    ).rejects.toMatchObject({ code: 'binary-missing' })
    expect(
      (
        await resolveOpencodeBinary({ env, searchPath: false, install: false, toolDir: dir }).catch(
          (e) => e
        )
      ).code
    ).toBe('binary-missing')
  })

  it('installs the checked npm tarball into the tool dir once, then reuses it without asking npm', async () => {
    const dir = await fresh('install')
    const toolDir = path.join(dir, 'tools')
    const { npm, log } = await fakeNpm(dir)
    const logged: string[] = []
    const first = await resolveOpencodeBinary({
      version: OTHER_VERSION,
      env: { PATH: SYSTEM_PATH },
      toolDir,
      npmCommand: npm,
      log: (line) => logged.push(line)
    })
    expect(first.source).toBe('installed')
    expect(first.version).toBe(OTHER_VERSION)
    const target = installDir(toolDir, OTHER_VERSION)
    expect(first.path).toBe(
      path.join(target, 'node_modules', platformPackages()[0], 'bin', 'opencode')
    )
    // The tarball (what the action caches) and the one package unpacked from it.
    expect(await readdir(tarballDir(toolDir, OTHER_VERSION))).toEqual([
      `${platformPackages()[0]}-${OTHER_VERSION}.tgz`
    ])
    expect(await readdir(path.join(target, 'node_modules'))).toEqual([platformPackages()[0]])
    const calls = await invocations(log)
    expect(calls).toEqual([
      expect.stringMatching(
        new RegExp(
          `^pack ${platformPackages()[0]}@9\\.9\\.9 --pack-destination \\S+ --loglevel=error$`
        )
      ),
      `view ${platformPackages()[0]}@9.9.9 dist.integrity --loglevel=error`
    ])
    expect(logged[0]).toMatch(/^installing opencode 9\.9\.9 into /)

    const again = await resolveOpencodeBinary({
      version: OTHER_VERSION,
      env: { PATH: SYSTEM_PATH },
      toolDir,
      npmCommand: npm
    })
    expect(again).toEqual({ path: first.path, version: OTHER_VERSION, source: 'tool-dir' })
    expect(await invocations(log)).toHaveLength(2)
  })

  it('takes the next platform package when the first does not run here', async () => {
    const dir = await fresh('first-broken')
    const toolDir = path.join(dir, 'tools')
    const { npm } = await fakeNpm(dir, 'first-broken')
    const resolved = await resolveOpencodeBinary({
      version: OTHER_VERSION,
      env: { PATH: SYSTEM_PATH },
      toolDir,
      npmCommand: npm
    })
    expect(resolved.path).toContain(path.join('node_modules', platformPackages()[1], 'bin'))
    expect(await readdir(tarballDir(toolDir, OTHER_VERSION))).toEqual([
      `${platformPackages()[1]}-${OTHER_VERSION}.tgz`
    ])
  })

  it('never unpacks or runs a tarball that is not the one published', async () => {
    for (const [mode, version] of [
      ['tamper', OTHER_VERSION],
      // the pinned release is checked against the digests shipped in kugetsu, whatever npm says
      ['ok', OPENCODE_VERSION]
    ] as const) {
      const dir = await fresh(`tamper-${mode}`)
      const toolDir = path.join(dir, 'tools')
      const { npm } = await fakeNpm(dir, mode)
      await expect(
        resolveOpencodeBinary({ version, env: { PATH: SYSTEM_PATH }, toolDir, npmCommand: npm })
      ).rejects.toMatchObject({
        code: 'unverified-binary',
        message: expect.stringMatching(
          new RegExp(
            `^${platformPackages()[0]}-${version.replace(/\./g, '\\.')}\\.tgz is not ${platformPackages()[0]}@.* as published .*; it was not unpacked or run$`
          )
        )
      })
      expect(await readdir(path.join(toolDir, 'opencode-ai'))).toEqual([])
    }
  })

  it('falls back to the wrapper when it works (postinstall did run)', async () => {
    const dir = await fresh('wrapper')
    const toolDir = path.join(dir, 'tools')
    const wrapper = await fakeOpencode(
      path.join(
        installDir(toolDir, OPENCODE_VERSION),
        'node_modules',
        'opencode-ai',
        'bin',
        'opencode.exe'
      ),
      OPENCODE_VERSION
    )
    const resolved = await resolveOpencodeBinary({
      env: { PATH: SYSTEM_PATH },
      toolDir,
      install: false
    })
    expect(resolved).toEqual({ path: wrapper, version: OPENCODE_VERSION, source: 'tool-dir' })
  })

  it('reports a failed install as binary-missing with npm’s error, leaving nothing behind', async () => {
    const dir = await fresh('fail')
    const toolDir = path.join(dir, 'tools')
    const { npm } = await fakeNpm(dir, 'fail')
    await expect(
      resolveOpencodeBinary({ env: { PATH: SYSTEM_PATH }, toolDir, npmCommand: npm })
    ).rejects.toMatchObject({
      code: 'binary-missing',
      message: expect.stringMatching(
        /^could not install opencode 1\.18\.33: opencode-[\w-]+@1\.18\.33: npm error 404 Not Found - /
      )
    })
    expect(await readdir(path.join(toolDir, 'opencode-ai'))).toEqual([])
    await expect(
      resolveOpencodeBinary({
        env: { PATH: SYSTEM_PATH },
        toolDir,
        npmCommand: path.join(dir, 'no-npm')
      })
    ).rejects.toMatchObject({
      code: 'binary-missing',
      message: expect.stringMatching(/not found$/)
    })
  })

  it('defaults the tool dir to the runner tool cache, else the user cache', () => {
    expect(defaultToolDir({ RUNNER_TOOL_CACHE: '/opt/hostedtoolcache' })).toBe(
      path.join('/opt/hostedtoolcache', 'kugetsu')
    )
    expect(defaultToolDir({ XDG_CACHE_HOME: '/c' })).toBe(path.join('/c', 'kugetsu', 'tools'))
    expect(defaultToolDir({ HOME: '/h' })).toBe(path.join('/h', '.cache', 'kugetsu', 'tools'))
  })

  it('knows the platform packages of opencode-ai', () => {
    expect(platformPackages('linux', 'x64')).toEqual([
      'opencode-linux-x64',
      'opencode-linux-x64-baseline',
      'opencode-linux-x64-musl',
      'opencode-linux-x64-baseline-musl'
    ])
    expect(platformPackages('darwin', 'arm64')).toEqual(['opencode-darwin-arm64'])
    expect(platformPackages('win32', 'x64')).toEqual([
      'opencode-windows-x64',
      'opencode-windows-x64-baseline'
    ])
  })

  it('takes the version of an npm-installed opencode on PATH from its package.json, without running it', async () => {
    const dir = await fresh('npm-path')
    const modules = path.join(dir, 'node_modules')
    const wrapper = await nativeLookalike(
      path.join(await npmPackage(modules, 'opencode-ai', OPENCODE_VERSION), 'bin', 'opencode.exe')
    )
    await mkdir(path.join(modules, '.bin'))
    const onPath = path.join(modules, '.bin', 'opencode')
    await symlink(path.relative(path.dirname(onPath), wrapper), onPath)
    const env = { PATH: [path.dirname(onPath), SYSTEM_PATH].join(path.delimiter) }
    expect(
      await resolveOpencodeBinary({ env, install: false, toolDir: path.join(dir, 'tools') })
    ).toEqual({ path: onPath, version: OPENCODE_VERSION, source: 'path' })

    // another version in package.json: not taken (and running it tells nothing either)
    await writeFile(
      path.join(modules, 'opencode-ai', 'package.json'),
      JSON.stringify({ name: 'opencode-ai', version: '1.0.0' })
    )
    await expect(
      resolveOpencodeBinary({ env, install: false, toolDir: path.join(dir, 'tools') })
    ).rejects.toMatchObject({ code: 'binary-missing' })
  })

  it('still runs `--version` for binaries no npm package vouches for', async () => {
    const dir = await fresh('no-package')
    const modules = path.join(dir, 'node_modules')
    // opencode-ai without its postinstall: the placeholder script, not the binary
    const placeholder = await fakeOpencode(
      path.join(await npmPackage(modules, 'opencode-ai', OPENCODE_VERSION), 'bin', 'opencode.exe'),
      '0.0.0-placeholder'
    )
    expect(await packageVersion(placeholder)).toBeUndefined()
    // a native-looking binary in a package that is not opencode's
    const other = await nativeLookalike(
      path.join(await npmPackage(modules, 'not-opencode', OPENCODE_VERSION), 'bin', exe)
    )
    expect(await packageVersion(other)).toBeUndefined()
    // no package.json at all, or one that is not JSON
    const loose = await nativeLookalike(path.join(dir, 'loose', 'bin', exe))
    expect(await packageVersion(loose)).toBeUndefined()
    await writeFile(path.join(dir, 'loose', 'package.json'), '{')
    expect(await packageVersion(loose)).toBeUndefined()
    expect(await packageVersion(path.join(dir, 'missing', 'bin', exe))).toBeUndefined()

    // a script with no package is asked, as before
    const script = await fakeOpencode(path.join(dir, 'plain', 'opencode'), OPENCODE_VERSION)
    expect(
      await resolveOpencodeBinary({
        env: { PATH: path.dirname(script) },
        install: false,
        toolDir: path.join(dir, 'tools')
      })
    ).toEqual({ path: script, version: OPENCODE_VERSION, source: 'path' })
  })

  it('knows the platform package binaries of this machine by their package.json', async () => {
    const dir = await fresh('platform')
    const modules = path.join(dir, 'node_modules')
    for (const name of platformPackages()) {
      const binary = await nativeLookalike(
        path.join(await npmPackage(modules, name, OPENCODE_VERSION), 'bin', exe)
      )
      expect(await packageVersion(binary)).toBe(OPENCODE_VERSION)
    }
    const foreign = process.platform === 'darwin' ? 'opencode-linux-x64' : 'opencode-darwin-arm64'
    const binary = await nativeLookalike(
      path.join(await npmPackage(modules, foreign, OPENCODE_VERSION), 'bin', exe)
    )
    expect(await packageVersion(binary)).toBeUndefined()
  })

  it('trusts the marker of an install dir by package.json; without one, runs the candidates', async () => {
    const dir = await fresh('marker')
    const toolDir = path.join(dir, 'tools')
    const target = installDir(toolDir, OPENCODE_VERSION)
    const modules = path.join(target, 'node_modules')
    const binary = await nativeLookalike(
      path.join(await npmPackage(modules, platformPackages()[0], OPENCODE_VERSION), 'bin', exe)
    )
    // No marker: the lookalike cannot run, so it is not taken on its package.json's word.
    await expect(
      resolveOpencodeBinary({ env: { PATH: SYSTEM_PATH }, toolDir, install: false })
    ).rejects.toMatchObject({ code: 'binary-missing' })

    await writeFile(
      path.join(target, 'kugetsu-opencode.json'),
      JSON.stringify({ binary, version: OPENCODE_VERSION })
    )
    expect(
      await resolveOpencodeBinary({ env: { PATH: SYSTEM_PATH }, toolDir, install: false })
    ).toEqual({ path: binary, version: OPENCODE_VERSION, source: 'tool-dir' })

    // a marker for another version is ignored
    await writeFile(
      path.join(target, 'kugetsu-opencode.json'),
      JSON.stringify({ binary, version: '1.0.0' })
    )
    await expect(
      resolveOpencodeBinary({ env: { PATH: SYSTEM_PATH }, toolDir, install: false })
    ).rejects.toMatchObject({ code: 'binary-missing' })
  })
})
