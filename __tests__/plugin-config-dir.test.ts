/**
 * The pinned `@opencode-ai/plugin` tree: which repository `.opencode/` dirs are lent it, lending
 * it never through a link, taking it back only when unchanged, and what a kept tree must be.
 */
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  asksOnlyForPlugin,
  lendPluginTree,
  needsOnlyPluginPackage
} from '../src/opencode/plugin-config-dir.js'
import { pluginInstallArgs, pluginTreeProblem } from '../src/opencode/plugin-tree.js'
import { pluginCacheStream } from '../src/action/cache/plugin-packages.js'

const VERSION = '1.18.33'
let root: string
let dir: string
let tree: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kugetsu-plugin-test-'))
  dir = join(root, 'repo', '.opencode')
  tree = join(root, 'tools', 'opencode-plugin', VERSION)
  await mkdir(dir, { recursive: true })
  await mkdir(join(tree, 'node_modules', '@opencode-ai', 'plugin'), { recursive: true })
})
afterEach(() => rm(root, { recursive: true, force: true }))

async function writeTree(lockDeps: Record<string, string>, version = VERSION): Promise<void> {
  const lock = { lockfileVersion: 3, packages: { '': { dependencies: lockDeps } } }
  await writeFile(join(tree, 'package-lock.json'), JSON.stringify(lock))
  await writeFile(
    join(tree, 'node_modules', '@opencode-ai', 'plugin', 'package.json'),
    JSON.stringify({ name: '@opencode-ai/plugin', version })
  )
}

describe('needsOnlyPluginPackage', () => {
  it.each(['plugin', 'plugins', 'tool', 'tools'])('is true for a dir with %s/', async (name) => {
    await mkdir(join(dir, name))
    expect(await needsOnlyPluginPackage(dir)).toBe(true)
  })

  it('is false for a dir with only agents and commands (the seed serves those)', async () => {
    await mkdir(join(dir, 'agent'))
    expect(await needsOnlyPluginPackage(dir)).toBe(false)
  })

  it.each(['node_modules', 'package-lock.json'])(
    'leaves a dir with a %s of its own to opencode',
    async (name) => {
      await mkdir(join(dir, 'tool'))
      if (name.endsWith('.json')) await writeFile(join(dir, name), '{}')
      else await mkdir(join(dir, name))
      expect(await needsOnlyPluginPackage(dir)).toBe(false)
    }
  )

  it('leaves a dir whose node_modules is a link to elsewhere to opencode', async () => {
    await mkdir(join(dir, 'tool'))
    await symlink(join(root, 'tools'), join(dir, 'node_modules'))
    expect(await needsOnlyPluginPackage(dir)).toBe(false)
  })

  it('is false for a .opencode that is a link', async () => {
    const elsewhere = join(root, 'elsewhere')
    await mkdir(join(elsewhere, 'tool'), { recursive: true })
    await rm(dir, { recursive: true })
    await symlink(elsewhere, dir)
    expect(await needsOnlyPluginPackage(dir)).toBe(false)
  })

  it('takes a package.json that asks for the plugin package alone, at any version', async () => {
    await mkdir(join(dir, 'tool'))
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ dependencies: { '@opencode-ai/plugin': '0.15.0' } })
    )
    expect(await needsOnlyPluginPackage(dir)).toBe(true)
  })

  it('leaves a package.json naming other packages to opencode', async () => {
    await mkdir(join(dir, 'plugin'))
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ dependencies: { '@opencode-ai/plugin': '1.18.33', 'left-pad': '1.3.0' } })
    )
    expect(await needsOnlyPluginPackage(dir)).toBe(false)
  })

  it('does not read a package.json that is a link', async () => {
    await mkdir(join(dir, 'tool'))
    await writeFile(join(root, 'secret.json'), '{}')
    await symlink(join(root, 'secret.json'), join(dir, 'package.json'))
    expect(await needsOnlyPluginPackage(dir)).toBe(false)
  })
})

describe('asksOnlyForPlugin', () => {
  it.each([
    ['{}', true],
    ['{"devDependencies":{"@opencode-ai/plugin":"*"}}', true],
    ['{"peerDependencies":{"zod":"*"}}', false],
    ['{"optionalDependencies":{"x":"1"}}', false],
    ['{"dependencies":["@opencode-ai/plugin"]}', false],
    ['not json', false],
    ['[]', false]
  ])('%s → %s', (text, expected) => {
    expect(asksOnlyForPlugin(text)).toBe(expected)
  })
})

describe('lendPluginTree', () => {
  it('links node_modules to the tree and writes the lock, then takes both away', async () => {
    await mkdir(join(dir, 'tool'))
    const undo = await lendPluginTree([dir], tree, VERSION)
    expect((await readdir(dir)).sort()).toEqual(['node_modules', 'package-lock.json', 'tool'])
    expect(await readlink(join(dir, 'node_modules'))).toBe(join(tree, 'node_modules'))
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'))
    expect(lock.packages[''].dependencies).toEqual({ '@opencode-ai/plugin': VERSION })
    // opencode's own ignore file stays
    await writeFile(join(dir, '.gitignore'), 'node_modules\n')
    await undo()
    expect((await readdir(dir)).sort()).toEqual(['.gitignore', 'tool'])
    // the tree itself is untouched
    expect(await readdir(join(tree, 'node_modules'))).toEqual(['@opencode-ai'])
  })

  it('never writes through a node_modules link planted since the dir was looked at', async () => {
    const elsewhere = join(root, 'elsewhere')
    await mkdir(elsewhere)
    await symlink(elsewhere, join(dir, 'node_modules'))
    const undo = await lendPluginTree([dir], tree, VERSION)
    expect(await readlink(join(dir, 'node_modules'))).toBe(elsewhere)
    expect(await readdir(dir)).toEqual(['node_modules'])
    await undo()
    expect(await readlink(join(dir, 'node_modules'))).toBe(elsewhere)
    expect(await readdir(elsewhere)).toEqual([])
  })

  it('keeps what the agent changed: a node_modules swapped for a dir, a lock rewritten', async () => {
    const undo = await lendPluginTree([dir], tree, VERSION)
    await rm(join(dir, 'node_modules'))
    await mkdir(join(dir, 'node_modules'))
    await writeFile(join(dir, 'package-lock.json'), '{"changed":true}')
    await undo()
    expect((await lstat(join(dir, 'node_modules'))).isDirectory()).toBe(true)
    expect(await readFile(join(dir, 'package-lock.json'), 'utf8')).toBe('{"changed":true}')
  })

  it('keeps a node_modules link pointed elsewhere during the turn', async () => {
    const undo = await lendPluginTree([dir], tree, VERSION)
    await rm(join(dir, 'node_modules'))
    await symlink(root, join(dir, 'node_modules'))
    await undo()
    expect(await readlink(join(dir, 'node_modules'))).toBe(root)
  })
})

describe('the kept tree', () => {
  it('is one with the package at the version and a lock pinning it alone', async () => {
    await writeTree({ '@opencode-ai/plugin': VERSION })
    expect(await pluginTreeProblem(tree, VERSION)).toBeUndefined()
  })

  it('is not one with another version inside', async () => {
    await writeTree({ '@opencode-ai/plugin': VERSION }, '1.0.0')
    expect(await pluginTreeProblem(tree, VERSION)).toMatch(/holds no @opencode-ai\/plugin/)
  })

  it('is not one whose lock asks for more', async () => {
    await writeTree({ '@opencode-ai/plugin': VERSION, evil: '1.0.0' })
    expect(await pluginTreeProblem(tree, VERSION)).toMatch(/does not pin/)
  })

  it('is not one whose node_modules is a link', async () => {
    await writeTree({ '@opencode-ai/plugin': VERSION })
    await rm(join(tree, 'node_modules'), { recursive: true })
    await symlink(root, join(tree, 'node_modules'))
    expect(await pluginTreeProblem(tree, VERSION)).toMatch(/no node_modules dir/)
  })

  it('is installed at the exact version with no install scripts', () => {
    const args = pluginInstallArgs(VERSION)
    expect(args.slice(0, 2)).toEqual(['install', `@opencode-ai/plugin@${VERSION}`])
    expect(args).toEqual(expect.arrayContaining(['--ignore-scripts', '--save-exact']))
  })

  it('is cached under a lowercase key of its own, apart from the opencode tool', () => {
    const stream = pluginCacheStream(VERSION)
    expect(stream).toBe(stream.toLowerCase())
    expect(stream.startsWith(`kugetsu-opencode-plugin-${VERSION}-`)).toBe(true)
    expect(stream.endsWith('-')).toBe(true)
  })
})
