/**
 * Seeding the config dirs an agent that runs as the runner, or a repository, gives opencode: only
 * where nothing needs packages, never through a link, and taken away again after the turn.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  projectConfigDirs,
  seedUnusedConfigDir,
  seedUnusedConfigDirs
} from '../src/opencode/config-dir-seed.js'

describe('seedUnusedConfigDir (sandbox: off)', () => {
  let home: string
  let dir: string
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'kugetsu-seed-test-'))
    dir = join(home, '.config', 'opencode')
  })
  afterEach(() => rm(home, { recursive: true, force: true }))

  it('seeds a config dir that does not exist, and removes all it made afterwards', async () => {
    const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: true })
    expect((await readdir(dir)).sort()).toEqual(['node_modules', 'package-lock.json'])
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'))
    expect(lock.packages[''].dependencies).toEqual({ '@opencode-ai/plugin': '1.18.33' })
    // what opencode writes when it skips the install goes with it
    await writeFile(join(dir, '.gitignore'), 'node_modules\n')
    await undo()
    expect(await readdir(home)).toEqual([])
  })

  it('seeds a dir holding only what opencode makes itself, and leaves that', async () => {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'opencode.jsonc'), '{ "$schema": "https://opencode.ai/config.json" }')
    const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: true })
    expect((await readdir(dir)).sort()).toEqual([
      'node_modules',
      'opencode.jsonc',
      'package-lock.json'
    ])
    await undo()
    expect(await readdir(dir)).toEqual(['opencode.jsonc'])
  })

  it.each(['plugin', 'plugins', 'tool', 'tools', 'node_modules', 'package.json'])(
    'leaves a config dir with %s alone: it may need the real install',
    async (name) => {
      await mkdir(dir, { recursive: true })
      if (name.endsWith('.json')) await writeFile(join(dir, name), '{}')
      else await mkdir(join(dir, name))
      const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: true })
      expect(await readdir(dir)).toEqual([name])
      await undo()
      expect(await readdir(dir)).toEqual([name])
    }
  )

  it('keeps what changed during the turn and takes away the rest', async () => {
    const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: true })
    await mkdir(join(dir, 'node_modules', '@opencode-ai'))
    await writeFile(join(dir, 'opencode.json'), '{}')
    await undo()
    expect((await readdir(dir)).sort()).toEqual(['node_modules', 'opencode.json'])
    expect(await readdir(join(dir, 'node_modules'))).toEqual(['@opencode-ai'])
  })

  it('keeps a lock that was rewritten during the turn', async () => {
    const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: true })
    await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion":3}')
    await undo()
    expect(await readdir(dir)).toEqual(['package-lock.json'])
  })
})

describe("a checkout is anyone's content", () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kugetsu-seed-repo-'))
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  it('finds the .opencode dirs from the working directory up to the checkout', async () => {
    await mkdir(join(root, 'repo', '.opencode', 'agent'), { recursive: true })
    await mkdir(join(root, 'repo', 'pkg', 'a', '.opencode'), { recursive: true })
    await mkdir(join(root, '.opencode'))
    const dirs = await projectConfigDirs(join(root, 'repo'), join(root, 'repo', 'pkg', 'a'))
    expect(dirs).toEqual([
      join(root, 'repo', 'pkg', 'a', '.opencode'),
      join(root, 'repo', '.opencode')
    ])
    expect(await projectConfigDirs(join(root, 'repo'), root)).toEqual([])
  })

  it('stops at a linked .opencode or a linked dir on the way', async () => {
    const elsewhere = join(root, 'elsewhere')
    await mkdir(join(elsewhere, 'deep'), { recursive: true })
    await mkdir(join(root, 'repo'))
    await symlink(elsewhere, join(root, 'repo', '.opencode'))
    await symlink(elsewhere, join(root, 'repo', 'sub'))
    await mkdir(join(elsewhere, '.opencode'))
    expect(await projectConfigDirs(join(root, 'repo'), join(root, 'repo', 'sub'))).toEqual([])
  })

  it('writes nothing through a linked .opencode', async () => {
    const elsewhere = join(root, 'elsewhere')
    await mkdir(elsewhere)
    await symlink(elsewhere, join(root, '.opencode'))
    const undo = await seedUnusedConfigDirs(
      [{ dir: join(root, '.opencode'), create: false }],
      '1.18.33'
    )
    expect(await readdir(elsewhere)).toEqual([])
    await undo()
  })

  it('does not make a missing dir it may not create', async () => {
    const undo = await seedUnusedConfigDir(join(root, '.opencode'), '1.18.33', { create: false })
    expect(await readdir(root)).toEqual([])
    await undo()
  })

  it('leaves a lock swapped for a link or a dir during the turn, following neither', async () => {
    const dir = join(root, '.opencode')
    await mkdir(dir)
    const secret = join(root, 'secret')
    await writeFile(secret, 'do not touch')
    const undo = await seedUnusedConfigDir(dir, '1.18.33', { create: false })
    await rm(join(dir, 'package-lock.json'))
    await symlink(secret, join(dir, 'package-lock.json'))
    await undo()
    expect(await readFile(secret, 'utf8')).toBe('do not touch')
    expect((await readdir(dir)).sort()).toEqual(['package-lock.json'])

    const again = await seedUnusedConfigDir(join(root, 'other'), '1.18.33', { create: true })
    await rm(join(root, 'other', 'package-lock.json'))
    await mkdir(join(root, 'other', 'package-lock.json', 'x'), { recursive: true })
    await again()
    expect(await readdir(join(root, 'other'))).toEqual(['package-lock.json'])
  })
})
