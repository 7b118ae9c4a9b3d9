/**
 * The archive check every cache restore goes through: hostile archives (built by hand) are refused
 * before anything is written, and what tar and @actions/cache really make still passes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ArchiveChecker, UnsafeArchiveError, type ArchiveLimits } from '../src/archive/tar-check.js'
import { checkArchiveFile, runTarGuard } from '../src/action/cache/tar-guard.js'
import { TruncatedArchiveError } from '../src/archive/tar-stream.js'
import { gzipped, tarArchive, zstdCompressed, type TarSpec } from './support/tar-build.js'

const LIMITS: ArchiveLimits = { scope: 'issues/7', maxBytes: 1024 * 1024, maxMembers: 100 }

function check(tar: Buffer, limits: Partial<ArchiveLimits> = {}, chunk = 100): void {
  const checker = new ArchiveChecker({ ...LIMITS, ...limits })
  // fed in odd-sized chunks, as a pipe delivers them
  for (let i = 0; i < tar.length; i += chunk) checker.write(tar.subarray(i, i + chunk))
  checker.end()
}

function refusal(specs: TarSpec[] | Buffer, limits: Partial<ArchiveLimits> = {}): string {
  try {
    check(Buffer.isBuffer(specs) ? specs : tarArchive(specs), limits)
  } catch (error) {
    if (error instanceof UnsafeArchiveError) return error.message
    throw error
  }
  throw new Error('the archive was accepted')
}

const file = (path: string, data = 'x'): TarSpec => ({ path, data })
const dir = (path: string): TarSpec => ({ path, type: '5' })
const symlink = (path: string, linkpath: string): TarSpec => ({ path, type: '2', linkpath })

let scratch: string
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kugetsu-tar-check-'))
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('hostile archives are refused', () => {
  test('a member climbing out with ..', () => {
    expect(refusal([file('issues/7/../../../../tmp/pwned')])).toMatch(/contains "\.\."/)
    expect(refusal([file('../pwned')])).toMatch(/contains "\.\."/)
    // hidden in a pax path or a GNU long name
    expect(refusal([{ ...file('issues/7/../../x'), pax: true }])).toMatch(/contains "\.\."/)
    expect(
      refusal([{ ...file(`issues/7/${'a/'.repeat(60)}../../../../x`), gnuLong: true }])
    ).toMatch(/contains "\.\."/)
  })

  test('an absolute member', () => {
    expect(refusal([file('/tmp/pwned')])).toMatch(/is an absolute path/)
    expect(refusal([{ ...file('/etc/cron.d/x'), pax: true }])).toMatch(/absolute/)
    expect(refusal([{ ...file('/etc/cron.d/x'), gnuLong: true }])).toMatch(/absolute/)
    expect(refusal([file('C:/Windows/x')])).toMatch(/absolute/)
  })

  test('a member outside the restored directory, even inside the root', () => {
    expect(refusal([file('issues/8/session.json')])).toMatch(/is outside "issues\/7"/)
    expect(refusal([file('base/session.json')])).toMatch(/outside/)
    expect(refusal([file('issues/70/x')])).toMatch(/outside/)
  })

  test('a symlink pointing out, absolute or relative', () => {
    expect(refusal([symlink('issues/7/link', '/etc')])).toMatch(/points to an absolute path/)
    expect(refusal([symlink('issues/7/link', '../../..')])).toMatch(/points outside/)
    expect(refusal([symlink('issues/7/link', '../8')])).toMatch(/points outside/)
    expect(refusal([symlink('issues/7/a/link', '../../../../tmp')])).toMatch(/points outside/)
  })

  test('a write through a symlink of the archive, whichever comes first', () => {
    const through = [symlink('issues/7/link', 'sub'), dir('issues/7/sub'), file('issues/7/link/x')]
    expect(refusal(through)).toMatch(/lies under a symlink/)
    expect(refusal([file('issues/7/link/x'), symlink('issues/7/link', 'sub')])).toMatch(
      /lies under a symlink/
    )
    // case-insensitive filesystems would follow LINK for link
    expect(refusal([symlink('issues/7/LINK', 'sub'), file('issues/7/link/x')])).toMatch(/symlink/)
  })

  test('symlinks chained through each other (the kernel resolves them, not the text)', () => {
    // d/u -> .. is issues/7 itself; d/v -> u/d/u/.. reads as issues/7/d/u/d but is issues/
    expect(
      refusal([
        dir('issues/7/d'),
        symlink('issues/7/d/u', '..'),
        symlink('issues/7/d/v', 'u/d/u/..')
      ])
    ).toMatch(/through another symlink/)
  })

  test('a hard link to something outside', () => {
    const hardlink = (linkpath: string): TarSpec => ({ path: 'issues/7/h', type: '1', linkpath })
    expect(refusal([hardlink('/etc/passwd')])).toMatch(/absolute/)
    expect(refusal([hardlink('issues/7/../../x')])).toMatch(/"\.\."/)
    expect(refusal([hardlink('issues/8/session.json')])).toMatch(/points outside/)
    expect(refusal([symlink('issues/7/link', 'sub'), hardlink('issues/7/link/x')])).toMatch(
      /points outside/
    )
  })

  test('devices and fifos', () => {
    expect(refusal([{ path: 'issues/7/tty', type: '3' }])).toMatch(/device or fifo/)
    expect(refusal([{ path: 'issues/7/sda', type: '4' }])).toMatch(/device or fifo/)
    expect(refusal([{ path: 'issues/7/fifo', type: '6' }])).toMatch(/device or fifo/)
    expect(refusal([{ path: 'issues/7/x', type: 'S' }])).toMatch(/unsupported type "S"/)
  })

  test('too many bytes or members', () => {
    expect(refusal([file('issues/7/a', 'x'.repeat(600))], { maxBytes: 500 })).toMatch(
      /more than 500 bytes/
    )
    // announced sizes count before any data is read
    expect(
      refusal(tarArchive([{ path: 'issues/7/big', size: 2 ** 40 }]).subarray(0, 1024), {
        maxBytes: 1 << 30
      })
    ).toMatch(/more than 1073741824 bytes/)
    const many = Array.from({ length: 11 }, (_, i) => file(`issues/7/f${i}`))
    expect(refusal(many, { maxMembers: 10 })).toMatch(/more than 10 members/)
  })

  test('what tar might read differently: bad checksums, trailing data, truncation, odd headers', () => {
    const good = tarArchive([file('issues/7/a')])
    const badSum = Buffer.from(good)
    badSum[0] = 'j'.charCodeAt(0)
    expect(refusal(badSum)).toMatch(/checksum/)
    expect(refusal(Buffer.concat([good, tarArchive([file('/etc/x')])]))).toMatch(
      /data after the end/
    )
    expect(() => check(good.subarray(0, 600))).toThrow(TruncatedArchiveError)
    const v7 = Buffer.from(good)
    v7.fill(0, 257, 265)
    expect(refusal(v7)).toMatch(/neither POSIX ustar nor GNU/)
    expect(refusal([{ path: 'issues/7/d', type: '5', data: 'hidden' }])).toMatch(/carries data/)
  })
})

describe('good archives pass', () => {
  test('nested directories, files and symlinks that stay inside', () => {
    expect(() =>
      check(
        tarArchive([
          dir('issues/7/'),
          dir('issues/7/a/b/'),
          file('issues/7/a/b/c.json', '{}'),
          symlink('issues/7/a/link', 'b/c.json'),
          symlink('issues/7/top', 'a/b'),
          { path: 'issues/7/a/hard', type: '1', linkpath: 'issues/7/a/b/c.json' },
          { ...file(`issues/7/${'long-name/'.repeat(20)}x`), pax: true },
          { ...file(`issues/7/${'gnu-long/'.repeat(20)}x`), gnuLong: true }
        ])
      )
    ).not.toThrow()
  })

  test('an archive made as @actions/cache makes it (GNU tar --posix -P), zstd and gzip', async () => {
    const root = join(scratch, 'made')
    mkdirSync(join(root, 'issues', '7', 'nested', 'deeper'), { recursive: true })
    writeFileSync(join(root, 'issues', '7', 'session.json'), '{"id":"ses_1"}')
    writeFileSync(join(root, 'issues', '7', 'nested', 'deeper', 'x'), 'y'.repeat(5000))
    symlinkSync('nested/deeper/x', join(root, 'issues', '7', 'link'))
    writeFileSync(join(scratch, 'manifest.txt'), 'issues/7\n')
    const tar = execFileSync('tar', [
      '--posix',
      '-cf',
      '-',
      '-P',
      '-C',
      root,
      '--files-from',
      join(scratch, 'manifest.txt')
    ])
    expect(() => check(tar, {}, 4096)).not.toThrow()
    for (const [name, bytes] of [
      ['a.tzst', zstdCompressed(tar)],
      ['a.tgz', gzipped(tar)]
    ] as const) {
      writeFileSync(join(scratch, name), bytes)
      await expect(checkArchiveFile(join(scratch, name), LIMITS)).resolves.toBeUndefined()
    }
  })
})

describe('the guard in front of tar', () => {
  const realTar = execFileSync('sh', ['-c', 'command -v tar']).toString().trim()

  async function guard(
    archive: Buffer,
    name: string
  ): Promise<{ code: number; report?: unknown; into: string }> {
    const into = join(scratch, `${name}-root`)
    mkdirSync(into, { recursive: true })
    const report = join(scratch, `${name}-report.json`)
    writeFileSync(join(scratch, `${name}.json`), JSON.stringify({ ...LIMITS, report }))
    writeFileSync(join(scratch, `${name}.tzst`), zstdCompressed(archive))
    const code = await runTarGuard([
      '--config',
      join(scratch, `${name}.json`),
      '--real',
      realTar,
      '-xf',
      join(scratch, `${name}.tzst`),
      '-P',
      '-C',
      into,
      '--use-compress-program',
      'unzstd'
    ])
    return {
      code,
      into,
      report: existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined
    }
  }

  test('refuses a hostile archive with -P before tar writes anything', async () => {
    const outside = join(scratch, 'outside-marker')
    const result = await guard(
      tarArchive([
        file('issues/7/ok', 'fine'),
        file(outside.slice(1), 'pwned'),
        file(outside, 'pwned')
      ]),
      'hostile'
    )
    expect(result.code).toBe(2)
    expect(result.report).toEqual({
      refused: true,
      reason: expect.stringMatching(/outside|absolute/)
    })
    expect(existsSync(outside)).toBe(false)
    expect(existsSync(join(result.into, 'issues'))).toBe(false)
  })

  test('extracts a good archive, and passes other commands through', async () => {
    const result = await guard(tarArchive([dir('issues/7/'), file('issues/7/ok', 'fine')]), 'good')
    expect(result.code).toBe(0)
    expect(result.report).toBeUndefined()
    expect(readFileSync(join(result.into, 'issues', '7', 'ok'), 'utf8')).toBe('fine')
    const listed = await runTarGuard([
      '--config',
      join(scratch, 'good.json'),
      '--real',
      realTar,
      '--version'
    ])
    expect(listed).toBe(0)
  })
})
